"""Published statistics of the real benchmarks, and comparison with what was loaded.

Counts are those of the datasets' papers / official releases, in the form the standard
protocol loads them (e.g. Market-1501 without its junk images, MSMT17's ``list_train.txt``
without ``list_val.txt``). A loaded tree that differs is reported as a *warning*, not an
error: a miniature test tree, a partial download or a combined split legitimately differ;
``tools/verify_dataset.py`` turns the same comparison into a non-zero exit code.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from tabulate import tabulate

logger = logging.getLogger(__name__)

SPLITS = ("train", "query", "gallery")


@dataclass(frozen=True)
class SplitCount:
    """Published number of identities and images of one split."""

    ids: int
    images: int


@dataclass(frozen=True)
class PublishedStats:
    """What a dataset's release contains, and how its standard protocol is run.

    Attributes:
        title: the benchmark's name.
        reference: where the counts come from.
        splits: published counts per split; a test-only dataset has no ``train``.
        cameras: number of cameras of the release (``None`` where the camera is not encoded).
        train_on: the dataset a cross-domain protocol trains on (``""``: its own train split).
        metrics: what papers report on it (e.g. ``("Rank-1", "Rank-3")`` for partial ReID).
        note: how the counts are to be read.
    """

    title: str
    reference: str
    splits: dict[str, SplitCount]
    cameras: int | None
    train_on: str = ""
    metrics: tuple[str, ...] = ("Rank-1", "mAP")
    note: str = ""
    extra: dict[str, SplitCount] = field(default_factory=dict)


def _counts(**splits: tuple[int, int]) -> dict[str, SplitCount]:
    """``{split: SplitCount(ids, images)}`` from ``split=(ids, images)`` keywords."""
    return {split: SplitCount(ids, images) for split, (ids, images) in splits.items()}


def _cross_domain_test_set(title: str, reference: str, query: tuple[int, int],
                           gallery: tuple[int, int], note: str,
                           metrics: tuple[str, ...] = ("Rank-1", "mAP")) -> PublishedStats:
    """A test-only set of ``(ids, images)`` query and gallery counts, trained on Market-1501;
    its file names encode no camera."""
    return PublishedStats(title=title, reference=reference,
                          splits=_counts(query=query, gallery=gallery), cameras=None,
                          train_on="market1501", metrics=metrics, note=note)


PUBLISHED: dict[str, PublishedStats] = {
    "occluded_duke": PublishedStats(
        title="Occluded-DukeMTMC",
        reference="Miao et al., Pose-Guided Feature Alignment for Occluded Person ReID, "
        "ICCV 2019 (Table 1)",
        splits=_counts(train=(702, 15_618), query=(519, 2_210), gallery=(1_110, 17_661)),
        cameras=8,
    ),
    "occluded_reid": _cross_domain_test_set(
        "Occluded-REID", "Zhuo et al., Occluded Person Re-identification, ICME 2018",
        query=(200, 1_000), gallery=(200, 1_000),
        note="5 occluded (query) + 5 whole-body (gallery) images per identity; test-only.",
    ),
    "partial_reid": _cross_domain_test_set(
        "Partial-REID", "Zheng et al., Partial Person Re-identification, ICCV 2015",
        query=(60, 300), gallery=(60, 300), metrics=("Rank-1", "Rank-3"),
        note="5 partial (query) + 5 whole-body (gallery) images per identity; test-only.",
    ),
    "partial_ilids": _cross_domain_test_set(
        "Partial-iLIDS",
        "He et al., Deep Spatial Feature Reconstruction for Partial Person ReID, CVPR 2018",
        query=(119, 119), gallery=(119, 119), metrics=("Rank-1", "Rank-3"),
        note="238 images: one partial (query) and one whole-body (gallery) image per id.",
    ),
    "market1501": PublishedStats(
        title="Market-1501",
        reference="Zheng et al., Scalable Person Re-identification: A Benchmark, ICCV 2015",
        splits=_counts(train=(751, 12_936), query=(750, 3_368), gallery=(751, 15_913)),
        cameras=6,
        note="Junk images (pid -1) are not loaded; the gallery's 751 ids are 750 people plus "
        "the distractor id 0000.",
    ),
    "msmt17": PublishedStats(
        title="MSMT17",
        reference="Wei et al., Person Transfer GAN to Bridge Domain Gap for Person ReID, "
        "CVPR 2018",
        splits=_counts(train=(1_041, 30_248), query=(3_060, 11_659), gallery=(3_060, 82_161)),
        cameras=15,
        note="train = list_train.txt; list_val.txt adds 2,373 images of the same 1,041 ids "
        "(32,621 in all), loaded into train only with data.combineall.",
        extra=_counts(val=(1_041, 2_373)),
    ),
}


def published(key: str) -> PublishedStats:
    """The published statistics of ``key`` (a key of :data:`PUBLISHED`)."""
    try:
        return PUBLISHED[key]
    except KeyError:
        raise KeyError(
            f"No published statistics for {key!r}; known: {', '.join(sorted(PUBLISHED))}"
        ) from None


def comparison_rows(
    key: str, rows: Sequence[tuple[str, int, int, int]], skip: Sequence[str] = ()
) -> list[tuple[str, int, int, int | str, int | str, str]]:
    """Rows ``(split, ids, images, published ids, published images, status)``.

    ``rows`` are ``(split, #ids, #images, #cameras)`` as ``ReIDImageDataset.statistics()``
    returns them; ``skip`` names splits not to compare (status ``"not compared"``).
    """
    ref = published(key)
    out = []
    for split, ids, images, _cams in rows:
        pub = ref.splits.get(split, ref.extra.get(split))
        if pub is None:
            pub = SplitCount(0, 0) if split == "train" else None
        if pub is None or split in skip:
            out.append((split, ids, images, "-", "-", "not compared"))
            continue
        ok = (ids, images) == (pub.ids, pub.images)
        out.append((split, ids, images, pub.ids, pub.images, "ok" if ok else "MISMATCH"))
    return out


def mismatches(
    key: str, rows: Sequence[tuple[str, int, int, int]], skip: Sequence[str] = ()
) -> list[str]:
    """One message per split whose ids or images differ from the published counts."""
    title = published(key).title
    return [
        f"{title} {split}: loaded {ids} ids / {images} images, published {pids} ids / "
        f"{pimgs} images"
        for split, ids, images, pids, pimgs, status in comparison_rows(key, rows, skip)
        if status == "MISMATCH"
    ]


def comparison_table(
    key: str, rows: Sequence[tuple[str, int, int, int]], skip: Sequence[str] = ()
) -> str:
    """A plain-text table of :func:`comparison_rows`."""
    return tabulate(
        comparison_rows(key, rows, skip),
        headers=["split", "# ids", "# images", "published ids", "published images", "status"],
        tablefmt="simple",
    )


_warned: set[tuple[str, str]] = set()


def log_published_comparison(dataset) -> list[str]:
    """Warn when a loaded dataset's splits differ from their published counts.

    ``dataset`` is a ``ReIDImageDataset`` with a ``published_key`` attribute. The train split
    is not compared when ``combineall`` merged query and gallery into it. One warning per
    dataset folder and process (torchreid builds a dataset once per split; repeats go to the
    debug log). Returns the mismatch messages (empty when everything matches).
    """
    key = getattr(dataset, "published_key", None)
    if not key:
        return []
    skip = ("train",) if getattr(dataset, "combineall", False) else ()
    messages = mismatches(key, dataset.statistics(), skip)
    if messages:
        seen = (key, str(getattr(dataset, "dataset_dir", "")))
        level = logging.DEBUG if seen in _warned else logging.WARNING
        _warned.add(seen)
        logger.log(
            level,
            "%s at %s differs from the published counts (expected for a partial or miniature "
            "tree; tools/verify_dataset.py checks a full download):\n  %s",
            published(key).title, seen[1], "\n  ".join(messages),
        )
    return messages
