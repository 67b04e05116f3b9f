"""Verifying a downloaded benchmark tree before training on it (``tools/verify_dataset.py``).

:func:`verify` checks, for a registered dataset whose class can ``scan`` a tree without
loading it (occluded_duke, occluded_reid, partial_reid, partial_ilids, market1501_strict,
msmt17_strict, the SynthOcc protocols), under a data root:

* the folder is found and every split folder / list file exists;
* every image name follows the release's naming scheme (all offenders are listed);
* every image decodes and converts as training reads it
  (:func:`rganet_reid.data.image_io.check_image`; ``images=False`` skips this);
* no split the dataset defines is empty;
* the number of identities and images per split equals the published counts
  (``counts=False`` skips this, e.g. for a deliberately partial copy).

It returns a report (a table per split, then every problem) and the number of problems.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tabulate import tabulate

from rganet_reid.data import dataset_stats
from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.datasets.base import DatasetLayoutError
from rganet_reid.data.datasets.layout import DatasetScan
from rganet_reid.data.image_io import ImageReadError
from rganet_reid.data.image_io import check_image as decode_check

__all__ = ["check_image", "scannable_datasets", "split_rows", "unreadable_images", "verify"]


def scannable_datasets() -> list[str]:
    """Registered dataset names whose class can scan a tree without loading it."""
    return [n for n in DATASETS.names() if callable(getattr(DATASETS.get(n), "scan", None))]


def check_image(path: str) -> str | None:
    """``None`` if ``path`` reads as training reads it, else the reason it does not."""
    try:
        decode_check(path)
    except ImageReadError as err:
        return str(err)
    return None


def unreadable_images(scan: DatasetScan, workers: int) -> list[tuple[str, str]]:
    """``(path, reason)`` for every loaded image of every split that does not decode."""
    paths = sorted({it[0] for s in scan.all_scans().values() for it in s.items})
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        reasons = list(pool.map(check_image, paths, chunksize=64))
    return [(p, r) for p, r in zip(paths, reasons) if r is not None]


def split_rows(scan: DatasetScan) -> list[tuple[str, int, int, int]]:
    """``(split, #ids, #images, #cameras)`` of the items each split would load."""
    rows = []
    for split, s in scan.all_scans().items():
        rows.append((split, len({it[1] for it in s.items}), len(s.items),
                     len({it[2] for it in s.items})))
    return rows


def verify(name: str, root: str, images: bool = True, counts: bool = True,
           workers: int = 4) -> tuple[str, int]:
    """Run every check of the module docstring on dataset ``name`` under ``root``.

    Args:
        name: a name of :func:`scannable_datasets`.
        root: the data root (``data.root``).
        images: open and decode every image.
        counts: compare ids and images per split with the published counts.
        workers: threads opening images.

    Returns:
        ``(report text, number of problems)``; a tree that is not found is one problem.
    """
    cls = DATASETS.get(name)
    lines = [f"Dataset {name} ({cls.__name__}) under {Path(root).resolve()}"]
    try:
        scan = cls.scan(root)
    except DatasetLayoutError as err:
        return "\n".join([*lines, "LAYOUT ERROR:", str(err)]), 1
    lines.append(f"Read: {scan.source}")
    problems = 0

    rows = split_rows(scan)
    key = getattr(cls, "published_key", None)  # generated sets (SynthOcc) have no published counts
    if key is None:
        counts = False
        compared = {r[0]: (r[0], r[1], r[2], "-", "-", "no published counts") for r in rows}
    else:
        compared = {r[0]: r for r in dataset_stats.comparison_rows(key, rows)}
    table = []
    for split, ids, n_images, cams in rows:
        _s, _i, _n, pids, pimgs, status = compared[split]
        if not counts and key is not None:
            status = "not compared"
        elif status == "MISMATCH":
            problems += 1
        s = scan.all_scans()[split]
        table.append((split, ids, n_images, cams, pids, pimgs, status, len(s.malformed),
                      len(s.dropped), len(s.skipped)))
    lines.append(tabulate(table, headers=[
        "split", "# ids", "# images", "# cams", "published ids", "published images", "counts",
        "malformed", "dropped", "non-image"], tablefmt="simple"))
    note = dataset_stats.published(key).note if key else ""
    if note:
        lines.append(f"Note: {note}")

    empty = [split for split, s in scan.all_scans().items() if not s.items]
    if empty:  # even without --no-counts: training or evaluation on it cannot work
        problems += len(empty)
        lines.append(f"\nEmpty splits ({len(empty)}): no image of {', '.join(empty)} was "
                     f"loaded from {scan.dataset_dir}.")

    malformed = scan.problems()
    if malformed:
        problems += len(malformed)
        lines.append(f"\nMalformed names ({len(malformed)}); expected:")
        lines += sorted({f"  {split}: {s.expected}" for split, s in scan.all_scans().items()})
        lines += [f"  [{split}] {where}: {why}" for split, where, why in malformed]

    if images:
        bad = unreadable_images(scan, workers)
        if bad:
            problems += len(bad)
            lines.append(f"\nUnreadable images ({len(bad)}):")
            lines += [f"  {p}: {r}" for p, r in bad]
        else:
            n = sum(len(s.items) for s in scan.all_scans().values())
            lines.append(f"\nAll {n} images decode.")
    else:
        lines.append("\nImages not opened (--no-images).")
    lines.append("\nResult: " + ("OK" if problems == 0 else f"{problems} problem(s)"))
    return "\n".join(lines), problems
