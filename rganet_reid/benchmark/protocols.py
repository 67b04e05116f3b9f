"""The evaluation protocols a benchmark spec can name: what a model trains on, what it is
tested on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rganet_reid.benchmark.spec import SpecError


@dataclass(frozen=True)
class Protocol:
    """An evaluation protocol: the datasets a model trains on and the one it is tested on."""

    name: str
    sources: tuple[str, ...]
    target: str
    title: str

    @property
    def train_group(self) -> str:
        """Folder name shared by all protocols that train on the same data."""
        return "train-" + "+".join(self.sources)


#: Built-in protocols. SynthOcc's three protocols share one training split, so one trained
#: model is evaluated on all three; the real benchmarks follow the paper (Occluded-REID and
#: the partial sets are test-only and are evaluated with the Market-1501 model).
PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (
    Protocol("synthocc_occluded", ("synthocc_occluded",), "synthocc_occluded", "SynthOcc occluded"),
    Protocol("synthocc_partial", ("synthocc_occluded",), "synthocc_partial", "SynthOcc partial"),
    Protocol("synthocc_holistic", ("synthocc_occluded",), "synthocc_holistic", "SynthOcc holistic"),
    Protocol("occluded_duke", ("occluded_duke",), "occluded_duke", "Occluded-Duke"),
    Protocol("occluded_reid", ("market1501_strict",), "occluded_reid", "Occluded-REID"),
    Protocol("partial_reid", ("market1501_strict",), "partial_reid", "Partial-REID"),
    Protocol("partial_ilids", ("market1501_strict",), "partial_ilids", "Partial-iLIDS"),
    Protocol("market1501", ("market1501_strict",), "market1501_strict", "Market-1501"),
    Protocol("msmt17", ("msmt17_strict",), "msmt17_strict", "MSMT17"),
)}


def check_protocols(names: Sequence[str], where: str) -> tuple[str, ...]:
    """``names`` as a tuple if each is a known protocol and there is at least one."""
    unknown = [n for n in names if n not in PROTOCOLS]
    if unknown:
        raise SpecError(f"{where}: unknown protocol(s) {unknown}. Valid: {', '.join(PROTOCOLS)}")
    if not names:
        raise SpecError(f"{where}: name at least one protocol ({', '.join(PROTOCOLS)})")
    return tuple(names)
