"""Checking a folder of pseudo part masks against a dataset (``tools/check_masks.py``).

The masks must follow the format of :mod:`rganet_reid.data.masks`: one single-channel PNG
label map per image, at the image's path relative to the dataset folder with a ``.png``
suffix, of the image's height × width, with labels ``0..num_labels-1``. :func:`check_masks`
names every image whose mask is missing, unreadable, mis-sized or holds out-of-range labels,
and counts masks that belong to no image of the dataset.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tabulate import tabulate

from rganet_reid.data import masks
from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.masks import mask_path_for

__all__ = ["CATEGORIES", "check_masks", "check_one"]

#: Report rows, in order: the categories of the mask errors, then images that do not open.
CATEGORIES = (
    *(e.category for e in (masks.MaskNotFoundError, masks.MaskFormatError,
                           masks.MaskSizeError, masks.MaskLabelError)),
    "unreadable image",
)


def check_one(img_path: str, mask_path: Path, num_labels: int | None,
              ignore_label: int | None) -> tuple[str, str] | None:
    """``(category, message)`` when the mask of ``img_path`` is bad, else ``None``."""
    if not mask_path.is_file():
        return masks.MaskNotFoundError.category, f"{mask_path} (image {img_path})"
    try:
        hw = masks.image_hw(img_path)
    except OSError as err:
        return "unreadable image", f"{img_path}: {err}"
    try:
        masks.read_mask(mask_path, expected_hw=hw, num_labels=num_labels,
                        ignore_label=ignore_label)
    except masks.MaskError as err:
        return err.category, str(err)
    return None


def check_masks(name: str, root: str, mask_root: str, splits: list[str] | None = None,
                num_labels: int | None = None, ignore_label: int | None = None,
                workers: int = 4) -> tuple[str, int]:
    """Check the masks of ``splits`` of dataset ``name`` under ``root`` against ``mask_root``.

    Args:
        name: a registered dataset whose class can ``scan`` a tree.
        root: the data root (``data.root``).
        mask_root: the root of the mask tree (``data.mask_root``).
        splits: the splits to check (default: train, or query + gallery for a test-only set).
        num_labels: labels allowed, ``0..num_labels-1``; not checked when ``None``.
        ignore_label: one extra allowed label (e.g. 255, ignored by the loss).
        workers: threads reading masks.

    Returns:
        ``(report text, number of problems)``.

    Raises:
        MaskError: ``mask_root`` is not a folder.
        ValueError: a split the dataset does not have.
        DatasetLayoutError: the dataset tree is not found.
    """
    cls = DATASETS.get(name)
    scan = cls.scan(root)
    available = scan.all_scans()
    if not splits:
        splits = ["train"] if scan.items("train") else ["query", "gallery"]
    unknown = [s for s in splits if s not in available]
    if unknown:
        raise ValueError(f"{name} has no split(s) {unknown}; it has {sorted(available)}")
    mask_root_path = Path(mask_root)
    if not mask_root_path.is_dir():
        raise masks.MaskError(
            f"Mask root {mask_root_path.resolve()} is not a folder (it does not exist or is a "
            "file): point it at the folder of PNG label maps that mirrors the dataset tree.")
    jobs = [(it[0], mask_path_for(it[0], scan.dataset_dir, mask_root_path))
            for s in splits for it in available[s].items]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(lambda j: check_one(j[0], j[1], num_labels, ignore_label),
                                jobs, chunksize=64))
    found: dict[str, list[str]] = {}
    for res in results:
        if res is not None:
            found.setdefault(res[0], []).append(res[1])

    lines = [f"Masks of {name} ({', '.join(splits)}) from {scan.dataset_dir}",
             f"checked against {mask_root_path.resolve()}"]
    if scan.problems():
        lines.append(f"Note: {len(scan.problems())} dataset file name(s) are malformed and "
                     "were not checked; run tools/verify_dataset.py.")
    counts = [(cat, len(found.get(cat, []))) for cat in CATEGORIES]
    lines.append(tabulate([("checked", len(jobs)), *counts], headers=["masks", "count"],
                          tablefmt="simple"))
    problems = sum(n for _, n in counts)
    for cat, msgs in found.items():
        lines.append(f"\n{cat} ({len(msgs)}):")
        lines += [f"  {m}" for m in msgs]

    all_masks = {mask_path_for(it[0], scan.dataset_dir, mask_root_path)
                 for s in available.values() for it in s.items}
    orphans = [p for p in _pngs(mask_root_path) if p not in all_masks]
    if orphans:
        lines.append(f"\nNote: {len(orphans)} mask file(s) under the mask root match no image "
                     f"of {name}, e.g. {orphans[0]}")
        if len(found.get(masks.MaskNotFoundError.category, [])) == len(jobs):
            lines.append("Every mask is missing while other PNGs exist: the mask tree must "
                         f"mirror the tree below {scan.dataset_dir} (see docs/datasets.md).")
    lines.append("\nResult: " + ("OK" if problems == 0 else f"{problems} problem(s)"))
    return "\n".join(lines), problems


def _pngs(root: Path) -> list[Path]:
    """Every mask file below ``root``, sorted (none if it is not a folder)."""
    if not root.is_dir():
        return []
    out = []
    for dirpath, _dirs, files in os.walk(root):
        out += [Path(dirpath) / f for f in files if f.lower().endswith(masks.MASK_SUFFIX)]
    return sorted(out)
