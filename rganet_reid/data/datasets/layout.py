"""Finding a published dataset tree on disk and parsing its split folders strictly.

Shared by the real-benchmark dataset classes (Occluded-Duke, Occluded-REID, Partial-REID,
Partial-iLIDS, Market-1501, MSMT17) and by :mod:`rganet_reid.data.verify`
(``tools/verify_dataset.py``):

* :func:`locate_dataset_dir` searches the documented candidate folders under ``data.root``
  and raises :class:`~rganet_reid.data.datasets.base.DatasetLayoutError` naming the expected
  layout and every candidate it tried;
* :func:`scan_split` lists a split folder, parses each image name with the dataset's parser
  and records every name it cannot parse (nothing is skipped silently, except well-known
  non-image clutter such as ``Thumbs.db``);
* :class:`DatasetScan` holds the parsed splits of one tree; :meth:`DatasetScan.raise_for_problems`
  turns malformed names into one :class:`MalformedFileNameError` listing them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rganet_reid.data.datasets.base import DatasetLayoutError

logger = logging.getLogger(__name__)

#: File suffixes treated as images (lower-case). Anything else is not an image.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"})
#: Clutter some archives ship next to the images (Market-1501 has Thumbs.db); skipped quietly.
QUIET_SKIP_NAMES = frozenset({"thumbs.db", ".ds_store", "desktop.ini"})
#: How many offending names an error message quotes (the exception keeps all of them).
MAX_LISTED = 20

Item = tuple[str, int, int]
#: A parser maps an image path to ``(pid, camid)`` or raises ``ValueError(reason)``.
NameParser = Callable[[Path], tuple[int, int]]


class MalformedFileNameError(ValueError):
    """Image names (or list-file lines) in a dataset tree do not follow the published scheme.

    ``problems`` holds every ``(path_or_location, reason)`` pair, not only the quoted ones.
    """

    def __init__(self, message: str, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass
class SplitScan:
    """One parsed split: items as the dataset will load them, plus what was not loaded.

    Attributes:
        folder: the split folder (or image folder of a list-file split).
        expected: the naming scheme, for messages (e.g. ``"0001_c2_f0046182.jpg"``).
        items: ``(img_path, pid, camid)`` in sorted path order, raw (not relabelled) pids.
        malformed: ``(path or file:line, reason)`` for every name that could not be parsed.
        skipped: non-image files that were ignored.
        dropped: images parsed correctly but left out by the protocol (e.g. Market-1501's
            junk pid -1), as ``(path, reason)``.
    """

    folder: Path
    expected: str
    items: list[Item] = field(default_factory=list)
    malformed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class DatasetScan:
    """The parsed splits of one dataset tree and where they were found.

    Attributes:
        dataset_dir: the folder holding the split folders (masks mirror the tree below it).
        splits: ``{"train"|"query"|"gallery": SplitScan}``; test-only datasets have no train.
        source: one line saying which candidate folder / version / variant was read.
        extra: further splits a protocol may add (e.g. MSMT17's ``val`` list).
        variant: which release / layout variant was read (e.g. ``"V2"``), if there are several.
    """

    dataset_dir: Path
    splits: dict[str, SplitScan]
    source: str
    extra: dict[str, SplitScan] = field(default_factory=dict)
    variant: str = ""

    def items(self, split: str) -> list[Item]:
        scan = self.splits.get(split)
        return list(scan.items) if scan is not None else []

    def all_scans(self) -> dict[str, SplitScan]:
        return {**self.splits, **self.extra}

    def problems(self) -> list[tuple[str, str, str]]:
        """``(split, location, reason)`` for every malformed name in every split."""
        return [
            (split, where, why)
            for split, scan in self.all_scans().items()
            for where, why in scan.malformed
        ]

    def raise_for_problems(self, owner: str) -> None:
        """Raise :class:`MalformedFileNameError` listing every malformed name, if any."""
        problems = self.problems()
        if not problems:
            return
        lines = [f"  [{split}] {where}: {why}" for split, where, why in problems[:MAX_LISTED]]
        more = len(problems) - MAX_LISTED
        if more > 0:
            lines.append(f"  ... and {more} more (tools/verify_dataset.py lists them all)")
        expected = sorted({f"{split}: {s.expected}" for split, s in self.all_scans().items()})
        raise MalformedFileNameError(
            f"{owner} at {self.dataset_dir}: {len(problems)} file name(s) or list entries do "
            "not match the published release:\n" + "\n".join(lines) + "\nExpected names:\n  "
            + "\n  ".join(expected)
            + "\nThe dataset must be used exactly as published; restore the original files.",
            [(f"[{split}] {where}", why) for split, where, why in problems],
        )


def locate_dataset_dir(
    owner: str,
    root: str | os.PathLike,
    candidates: Sequence[str],
    markers: Sequence[str],
    layout: str,
) -> Path:
    """Return the first ``root/<candidate>`` folder that holds any of ``markers``.

    See :func:`locate_candidate`, which also returns the candidate's index.
    """
    return locate_candidate(owner, root, candidates, markers, layout)[1]


def locate_candidate(
    owner: str,
    root: str | os.PathLike,
    candidates: Sequence[str],
    markers: Sequence[str],
    layout: str,
) -> tuple[int, Path]:
    """Return ``(index, path)`` of the first ``root/<candidate>`` holding any of ``markers``.

    Args:
        owner: class name, for messages.
        root: ``data.root``.
        candidates: folders relative to ``root`` to try, in order (``"."`` = root itself).
        markers: entries (split folders or list files) whose presence identifies the tree.
        layout: the documented tree, quoted in the error.

    Raises:
        DatasetLayoutError: no candidate holds a marker; the message lists every candidate
            searched and whether it exists.
    """
    root_path = Path(os.path.abspath(os.path.expanduser(str(root))))
    tried = []
    for index, cand in enumerate(candidates):
        path = Path(os.path.normpath(root_path / cand))
        if path.is_dir() and any((path / m).exists() for m in markers):
            logger.info("%s: using %s", owner, path)
            return index, path
        state = "exists but holds none of " + ", ".join(markers) if path.is_dir() else "missing"
        tried.append(f"{path} ({state})")
    raise DatasetLayoutError(
        f"{owner}: no dataset folder found under data.root={root_path}.\n"
        "Searched:\n  " + "\n  ".join(tried) + f"\nExpected layout:\n{layout}"
    )


def require_entries(owner: str, base: Path, entries: Iterable[str], layout: str) -> None:
    """Raise :class:`DatasetLayoutError` naming every missing ``base/<entry>``."""
    missing = [str(base / e) for e in entries if not (base / e).exists()]
    if missing:
        raise DatasetLayoutError(
            f"{owner}: missing in {base}:\n  " + "\n  ".join(missing)
            + f"\nExpected layout:\n{layout}"
        )


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def scan_split(
    folder: Path,
    parse: NameParser,
    expected: str,
    *,
    per_id_subfolders: bool = False,
    drop: Callable[[int], str | None] | None = None,
) -> SplitScan:
    """Parse every image of a split folder.

    Args:
        folder: the split folder.
        parse: maps an image path to ``(pid, camid)`` or raises ``ValueError(reason)``.
        expected: the naming scheme, for messages.
        per_id_subfolders: images live in ``folder/<pid>/`` (Occluded-REID) instead of
            directly in ``folder``. Image files at the wrong depth are reported as malformed.
        drop: optional ``pid -> reason or None``; images whose pid gets a reason are parsed
            but left out of ``items`` (protocol junk, e.g. Market-1501's -1).
    """
    scan = SplitScan(folder=folder, expected=expected)
    for path in _walk(folder, depth=1 if per_id_subfolders else 0, scan=scan):
        try:
            pid, camid = parse(path)
        except ValueError as err:
            scan.malformed.append((str(path), str(err)))
            continue
        reason = drop(pid) if drop is not None else None
        if reason:
            scan.dropped.append((str(path), reason))
        else:
            scan.items.append((str(path), pid, camid))
    if scan.skipped:
        loud = [p for p in scan.skipped if p.name.lower() not in QUIET_SKIP_NAMES]
        if loud:
            shown = ", ".join(p.name for p in loud[:5]) + (" ..." if len(loud) > 5 else "")
            logger.info("%s: ignored %d non-image entr%s: %s", folder, len(loud),
                        "y" if len(loud) == 1 else "ies", shown)
    return scan


def _walk(folder: Path, depth: int, scan: SplitScan) -> list[Path]:
    """Image files exactly ``depth`` folders below ``folder``, sorted; records the rest."""
    images: list[Path] = []
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        path = Path(entry.path)
        if entry.is_dir():
            if depth > 0:
                images.extend(_walk(path, depth - 1, scan))
            else:
                scan.skipped.append(path)
        elif is_image(path):
            if depth > 0:
                scan.malformed.append(
                    (str(path), "image outside a per-identity folder (expected <pid>/<name>)")
                )
            else:
                images.append(path)
        else:
            scan.skipped.append(path)
    return images


def relabel(items: Sequence[Item]) -> list[Item]:
    """Map pids to ``0..n-1`` in sorted pid order (torchreid's training relabelling)."""
    pid2label = {pid: label for label, pid in enumerate(sorted({it[1] for it in items}))}
    return [(path, pid2label[pid], camid) for path, pid, camid in items]
