"""Shipped pretrained tags: CLIP weights that come inside the package, checked by sha256.

Like open_clip's pretrained registry, a shipped tag is a pure lookup: tag → (architecture,
file, sha256), no training and no network. ``model.pretrained: synthocc-clip`` names the tiny
CLIP contrastively pre-trained on the SynthOcc captioned corpus
(:mod:`rganet_reid.pretrain.contrastive`, rebuilt by ``tools/build_synthocc_clip.py``). Its
file is verified against the registered sha256 before it is read; a corrupted or stale copy
is refused with an error that names the file and the command that rebuilds it.

File format (safetensors, fp16 on disk, fp32 once loaded): every tensor of the open_clip state
dict except the text tower's token embedding, which is stored as the rows of the tokens the
pre-training used (``token_embedding.rows`` ids and ``token_embedding.values``, from the
corpus captions and the part prompts): the full 49408×128 table would be 25 MB in fp32, the
rows the corpus uses are a few hundred. **Every other token loads as a zero vector** (the
metadata says so in ``unstored_token_rows``): those tokens never appeared in pre-training, so
their random initial rows carried no meaning either. Extra tensors under ``rganet.`` (the
background prototype p_0 learnt with the part prompts) are returned apart from the CLIP
state dict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch

WEIGHTS_DIR = Path(__file__).parent / "weights"
FORMAT = "rganet-shipped-clip"
TOKEN_KEY = "token_embedding.weight"
ROWS_KEY = "token_embedding.rows"
VALUES_KEY = "token_embedding.values"
EXTRA_PREFIX = "rganet."


class PretrainedWeightsError(RuntimeError):
    """CLIP weights named by ``model.pretrained`` could not be found, fetched or loaded."""


@dataclass(frozen=True)
class ShippedWeights:
    """One registered file: what it is for, where it is, its checksum, how to rebuild it."""

    tag: str
    arch: str
    filename: str  # inside WEIGHTS_DIR
    sha256: str
    rebuild: str  # the command that rebuilds the file from scratch
    quick_gelu: bool = False  # the activation the weights were trained with

    @property
    def path(self) -> Path:
        return WEIGHTS_DIR / self.filename


SHIPPED: dict[str, ShippedWeights] = {
    w.tag: w for w in (
        ShippedWeights(
            tag="synthocc-clip", arch="RGANet-Tiny-ViT",
            filename="RGANet-Tiny-ViT-synthocc-clip.safetensors",
            sha256="25127e7b1c948f650bfe30f5ccd6c25e84d00dd7cc423dfe25b0e8b8d77a775b",
            rebuild="python tools/build_synthocc_clip.py",
        ),
        ShippedWeights(
            tag="synthocc-clip-v2", arch="RGANet-Tiny-ViT",
            filename="RGANet-Tiny-ViT-synthocc-clip-v2.safetensors",
            sha256="39d503276be401363d3042c89bd072dacdccb1db0250594c2547f966ca9a0424",
            rebuild="python tools/build_synthocc_clip.py --tag synthocc-clip-v2",
        ),
    )
}


def shipped_tags() -> list[str]:
    """The registered shipped tags."""
    return sorted(SHIPPED)


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verified_path(entry: ShippedWeights, arch: str, path: str | Path | None = None) -> Path:
    """``entry``'s file (or ``path``), after checking the architecture and the sha256."""
    path = Path(path) if path is not None else entry.path
    if arch != entry.arch:
        raise PretrainedWeightsError(
            f"model.pretrained={entry.tag!r} holds weights for the {entry.arch} architecture, "
            f"not {arch}; set rganet.clip_arch {entry.arch} (model.name rganet_tiny).")
    if not path.is_file():
        raise PretrainedWeightsError(
            f"The weights of model.pretrained={entry.tag!r} are missing: {path} does not exist "
            f"(it ships with the package). Rebuild it with `{entry.rebuild}`.")
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise PretrainedWeightsError(
            f"{path} is corrupted or not the registered file of model.pretrained={entry.tag!r}: "
            f"sha256 {actual}, expected {entry.sha256}. Restore it (git checkout -- {path.name}"
            f" in {path.parent}) or rebuild it with `{entry.rebuild}` (then register its new "
            "sha256 in rganet_reid/modeling/pretrained_weights.py).")
    return path


def pack_state_dict(state: dict[str, torch.Tensor], token_ids: Iterable[int],
                    dtype: torch.dtype = torch.float16) -> dict[str, torch.Tensor]:
    """The tensors of a shipped file: ``state`` in ``dtype``, the token embedding reduced to
    the rows ``token_ids`` (sorted, unique)."""
    rows = torch.tensor(sorted({int(t) for t in token_ids}), dtype=torch.int64)
    out = {k: v.detach().to(dtype) if v.is_floating_point() else v.detach()
           for k, v in state.items() if k != TOKEN_KEY}
    out[ROWS_KEY] = rows
    out[VALUES_KEY] = state[TOKEN_KEY].detach()[rows].to(dtype)
    return {k: v.contiguous() for k, v in out.items()}


def unpack_state_dict(tensors: dict[str, torch.Tensor], vocab_size: int
                      ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """``(open_clip state dict in fp32, extras)`` from a shipped file's tensors; token rows
    that are not stored are zero."""
    if ROWS_KEY not in tensors or VALUES_KEY not in tensors:
        raise PretrainedWeightsError(f"Not a shipped CLIP file: no {ROWS_KEY} / {VALUES_KEY}")
    state = {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()
             if k not in (ROWS_KEY, VALUES_KEY) and not k.startswith(EXTRA_PREFIX)}
    values = tensors[VALUES_KEY].float()
    table = torch.zeros(vocab_size, values.shape[1])
    table[tensors[ROWS_KEY]] = values
    state[TOKEN_KEY] = table
    extras = {k[len(EXTRA_PREFIX):]: v.float() for k, v in tensors.items()
              if k.startswith(EXTRA_PREFIX)}
    return state, extras


def write_shipped(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict) -> str:
    """Write a shipped file atomically (``metadata`` values are JSON-encoded); returns its
    sha256."""
    from safetensors.torch import save

    meta = {"format": FORMAT, **{k: json.dumps(v) for k, v in metadata.items()}}
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(save(tensors, metadata=meta))
    tmp.replace(path)
    return sha256_of(path)


def read_shipped_metadata(path: str | Path) -> dict:
    """The JSON-decoded metadata of a shipped file, without loading its tensors (not verified:
    see :func:`verified_path`)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        raw_meta = f.metadata() or {}
    if raw_meta.get("format") != FORMAT:
        raise PretrainedWeightsError(f"{path} is not a shipped CLIP file (format "
                                     f"{raw_meta.get('format')!r}, expected {FORMAT!r})")
    return {k: json.loads(v) for k, v in raw_meta.items() if k != "format"}


def read_shipped(path: str | Path, vocab_size: int
                 ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict]:
    """``(open_clip state dict, extras, metadata)`` of a shipped file (not verified: see
    :func:`verified_path`)."""
    from safetensors.torch import load_file

    meta = read_shipped_metadata(path)
    state, extras = unpack_state_dict(load_file(str(path), device="cpu"), vocab_size)
    return state, extras, meta


def load_shipped(tag: str, arch: str, vocab_size: int, path: str | Path | None = None
                 ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], Path]:
    """The verified state dict and extras of shipped tag ``tag`` for ``arch``, and its file."""
    file = verified_path(SHIPPED[tag], arch, path)
    state, extras, _ = read_shipped(file, vocab_size)
    return state, extras, file
