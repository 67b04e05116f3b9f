"""Verify a downloaded benchmark tree before training on it.

    python tools/verify_dataset.py --dataset occluded_duke --root DATA [--no-images]

Checks, for the rganet-reid dataset ``--dataset`` (occluded_duke, occluded_reid,
partial_reid, partial_ilids, market1501_strict, msmt17_strict) under ``--root``:

* the folder is found and every split folder / list file exists;
* every image name follows the release's naming scheme (all offenders are listed);
* every image opens and decodes with PIL (skip with ``--no-images``);
* the number of identities and images per split equals the published counts
  (skip with ``--no-counts``, e.g. for a deliberately partial copy).

Prints a table per split and the list of problems; exits with status 1 when there is any.
"""

from __future__ import annotations

import argparse
import logging
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from tabulate import tabulate

from rganet_reid.data import dataset_stats
from rganet_reid.data.datasets import DATASETS
from rganet_reid.data.datasets.base import DatasetLayoutError
from rganet_reid.data.datasets.layout import DatasetScan


def scannable_datasets() -> list[str]:
    """Registered dataset names whose class can scan a tree without loading it."""
    return [n for n in DATASETS.names() if callable(getattr(DATASETS.get(n), "scan", None))]


def check_image(path: str) -> str | None:
    """``None`` if ``path`` decodes fully, else the reason it does not."""
    try:
        with Image.open(path) as img:
            img.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        return f"{type(err).__name__}: {err}"
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
    """Run every check; return ``(report text, number of problems)``."""
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True,
                        help="dataset name: " + ", ".join(scannable_datasets()))
    parser.add_argument("--root", required=True, help="data root (data.root)")
    parser.add_argument("--no-images", action="store_true", help="do not open the images")
    parser.add_argument("--no-counts", action="store_true",
                        help="do not compare with the published counts")
    parser.add_argument("--workers", type=int, default=4, help="threads opening images")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.dataset not in scannable_datasets():
        print(f"Unknown dataset {args.dataset!r}; choose one of: "
              + ", ".join(scannable_datasets()), file=sys.stderr)
        return 2
    report, problems = verify(args.dataset, args.root, images=not args.no_images,
                              counts=not args.no_counts, workers=args.workers)
    print(report)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
