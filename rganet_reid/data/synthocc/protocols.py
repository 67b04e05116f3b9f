"""SynthOcc sizes, identity splits, cameras and the occluded / partial / holistic protocols.

:func:`build_plan` turns ``(size, seed)`` into a :class:`Plan`: every file to write with its
identity, camera, frame, capture stream and occlusion decision. Rendering then needs nothing
but the plan entry (each capture draws from its own RNG, :func:`rng_for`), so the order in
which images are rendered does not change a single byte.

Protocols (mirroring the real benchmarks):

* ``occluded`` (Occluded-Duke-like): every query is occluded; ``gallery_occluded`` (~10 %) of
  gallery images are occluded.
* ``partial`` (Partial-REID-like): each query keeps only the top ``partial_keep`` (40-70 %) of
  the person crop, stretched back to full size; the gallery is whole-body and unoccluded.
  Reported as Rank-1 / Rank-3.
* ``holistic``: the same captures with no occlusion at all in query and gallery.

All three share the training split ``bounding_box_train`` (``train_occluded`` ~9 % occluded,
like Occluded-Duke's training set) and the same test captures: a capture's pose, background
and imaging are identical across protocols; only occlusion / cropping differ.

Camera rules (Market-1501 style): each test identity is seen by at least two cameras, every
camera of a query identity holds at least one gallery image (so every query has a valid
cross-camera match *and* same-camera gallery images that the evaluation must discard).

Consistent-occluder trap (the paper's Fig. 4 "man who always comes with the car"): ``trap_ids``
of the training identities are, in one of their cameras, always occluded by the same object
(same kind, style, colour and side) and never occluded in their other cameras.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rganet_reid.data.masks import mask_relpath
from rganet_reid.data.synthocc.appearance import Identity, sample_identity
from rganet_reid.data.synthocc.camera import CameraStyle, sample_camera
from rganet_reid.data.synthocc.render import Occluder

TRAIN_DIR = "bounding_box_train"
QUERY_DIR = "query"
GALLERY_DIR = "bounding_box_test"
MASK_DIR = "masks"
IMAGE_EXT = ".jpg"
SYNTHOCC_PROTOCOLS = ("occluded", "partial", "holistic")
EVAL_RANKS = {"occluded": (1, 3, 5, 10), "partial": (1, 3), "holistic": (1, 3, 5, 10)}


@dataclass(frozen=True)
class SynthOccSize:
    """A size preset (see :data:`SIZES`); all counts are identities or images."""

    name: str
    num_train_ids: int
    num_test_ids: int  # test identities that have queries
    num_distractor_ids: int  # gallery-only test identities
    train_images: tuple[int, int]  # images per training identity (min, max)
    gallery_images: tuple[int, int]  # gallery images per test identity (min, max)
    queries_per_id: int  # at most one query per camera
    num_cams: int = 6
    cams_per_id: tuple[int, int] = (2, 4)
    train_occluded: float = 0.09
    gallery_occluded: float = 0.10
    trap_ids: float = 0.08  # fraction of training identities with a consistent occluder
    trap_images: int = 3  # images of a trap identity in its trap camera
    hidden_range: tuple[float, float] = (0.2, 0.6)  # fraction of body pixels an occluder hides
    # the same for the occluded test images (every occluded query, the occluded gallery share)
    test_hidden_range: tuple[float, float] = (0.2, 0.6)
    # Scene occluders: static objects of each camera (a parked car, a sign board) that occlude
    # people of *different* identities in that camera, as the same parked cars and trees recur
    # across the frames of a real camera. ``scene_share`` of the occluded test images (queries
    # and occluded gallery of the occluded protocol) are hidden by one of their camera's
    # ``scene_occluders`` objects (re-fitted to ``test_hidden_range``), the rest by a random one.
    scene_occluders: int = 0
    scene_share: float = 0.0
    partial_keep: tuple[float, float] = (0.4, 0.7)  # partial query: kept top fraction
    height: int = 128
    width: int = 64

    def to_dict(self) -> dict:
        """JSON-friendly parameters (tuples as lists), stored in the manifest."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def __post_init__(self) -> None:
        if self.cams_per_id[0] < 2 or self.cams_per_id[1] > self.num_cams:
            raise ValueError(f"SynthOcc size {self.name!r}: cams_per_id {self.cams_per_id} must "
                             f"lie in [2, num_cams={self.num_cams}].")
        if self.num_train_ids < 2 or self.num_test_ids < 1:
            raise ValueError(f"SynthOcc size {self.name!r}: need >= 2 train and >= 1 test ids.")
        if 2 * (self.num_train_ids + self.num_test_ids + self.num_distractor_ids) > 9999:
            raise ValueError(f"SynthOcc size {self.name!r}: too many identities for 4-digit pids.")


SIZES: dict[str, SynthOccSize] = {
    # unit tests: generation well under 3 s
    "tiny": SynthOccSize("tiny", num_train_ids=16, num_test_ids=8, num_distractor_ids=2,
                         train_images=(4, 6), gallery_images=(3, 5), queries_per_id=2,
                         cams_per_id=(2, 3), trap_images=2),
    # README demo on 2 CPU cores
    "demo": SynthOccSize("demo", num_train_ids=150, num_test_ids=100, num_distractor_ids=30,
                         train_images=(8, 12), gallery_images=(6, 12), queries_per_id=2),
    # The demo with harder test occlusion: every occluded test image (all queries of the
    # occluded protocol, 30 % of its gallery) is hidden by one of two static objects of its
    # camera (a parked car, a sign board) that hide other identities in that camera too, so
    # hidden regions match the wrong people (occluder-to-occluder false matches). Training
    # split, holistic and partial protocols: the demo's, image for image.
    "demo_scene": SynthOccSize("demo_scene", num_train_ids=150, num_test_ids=100,
                               num_distractor_ids=30, train_images=(8, 12),
                               gallery_images=(6, 12), queries_per_id=2, gallery_occluded=0.3,
                               scene_occluders=2, scene_share=1.0),
    # Occluded-Duke-like scale (702 train ids / 15.6k images; 1110 gallery ids / 17.6k images)
    "full": SynthOccSize("full", num_train_ids=702, num_test_ids=519, num_distractor_ids=591,
                         train_images=(12, 32), gallery_images=(8, 24), queries_per_id=4,
                         cams_per_id=(2, 6)),
}


def resolve_preset(size, presets: dict, kind: type, what: str):
    """``presets[size]`` for a preset name, ``size`` itself when it is a ``kind`` already."""
    if isinstance(size, kind):
        return size
    try:
        return presets[size]
    except KeyError:
        raise ValueError(f"Unknown {what} {size!r}; valid sizes: {', '.join(presets)}."
                         ) from None


def get_size(size: str | SynthOccSize) -> SynthOccSize:
    """Resolve a preset name (``tiny`` | ``demo`` | ``full``) or pass a custom size through."""
    return resolve_preset(size, SIZES, SynthOccSize, "SynthOcc size (data.synthocc.size)")


def rng_for(seed: int, stream: str, index: int) -> np.random.Generator:
    """Independent generator for ``(seed, stream, index)`` (stable across runs and platforms)."""
    key = (zlib.crc32(stream.encode("utf-8")), int(index))
    return np.random.default_rng(np.random.SeedSequence(entropy=int(seed), spawn_key=key))


def image_name(pid: int, cam: int, frame: int) -> str:
    """Market-1501 file name ``{pid:04d}_c{cam}s1_{frame:06d}_00.jpg`` (cam is 1-based)."""
    return f"{pid:04d}_c{cam}s1_{frame:06d}_00{IMAGE_EXT}"


def mask_file(dataset_dir: str | os.PathLike, image_relpath: str) -> Path:
    """The part-label mask of the image ``image_relpath`` (relative to ``dataset_dir``): the
    mask rule of :func:`~rganet_reid.data.masks.mask_relpath` under ``<dataset_dir>/masks``."""
    return Path(dataset_dir) / MASK_DIR / mask_relpath(image_relpath)


@dataclass(frozen=True)
class Trap:
    """A training identity always occluded by the same object in one camera."""

    pid: int
    cam: int
    template: Occluder  # from-below occluder; its top edge is re-fitted per image
    target: float  # fraction of the body it hides (± a small per-image jitter)


@dataclass(frozen=True)
class Capture:
    """One moment of one identity in one camera; rendered into one or more files."""

    stream: str  # "train" | "test": RNG stream of pose / background / imaging
    index: int
    pid: int
    cam: int  # 1-based
    frame: int


@dataclass(frozen=True)
class Variant:
    """How a capture is rendered for one output file."""

    occlusion: str = "none"  # none | random | trap | scene
    keep: float = 1.0  # < 1: partial view (top fraction kept)
    trap: int = -1  # index into Plan.traps (trap) or into the camera's Plan.scenes (scene)

    @property
    def key(self) -> tuple:
        return (self.occlusion, round(self.keep, 6), self.trap)


@dataclass(frozen=True)
class PlannedFile:
    relpath: str  # relative to the dataset dir, forward slashes
    split: str  # train | query | gallery
    protocol: str  # "" for train (shared), else the protocol name
    capture: Capture
    variant: Variant


@dataclass
class Plan:
    """Everything :mod:`rganet_reid.data.synthocc.generate` needs to write a dataset."""

    size: SynthOccSize
    seed: int
    identities: dict[int, Identity]
    cameras: dict[int, CameraStyle]
    train_pids: list[int]
    test_pids: list[int]
    distractor_pids: list[int]
    traps: list[Trap]
    files: list[PlannedFile] = field(default_factory=list)
    scenes: dict[int, list[Occluder]] = field(default_factory=dict)  # camera → its objects

    def folders(self) -> list[str]:
        """Image folders relative to the dataset dir (train first, then per protocol)."""
        return [TRAIN_DIR] + [f"{p}/{d}" for p in SYNTHOCC_PROTOCOLS
                              for d in (QUERY_DIR, GALLERY_DIR)]


def _split_counts(rng: np.random.Generator, n: int, k: int) -> list[int]:
    """``n`` images over ``k`` cameras, at least one each."""
    extra = rng.multinomial(n - k, np.full(k, 1.0 / k)) if n > k else np.zeros(k, int)
    return [1 + int(e) for e in extra]


def _trap_template(rng: np.random.Generator) -> tuple[Occluder, float]:
    """The object a trap identity always appears with: a car/van (70 %) or a sign board."""
    color = tuple(int(c) for c in rng.integers(30, 235, 3))
    color2 = tuple(int(c) for c in rng.integers(0, 255, 3))
    if rng.random() < 0.7:
        occ = Occluder(kind="vehicle", style="car" if rng.random() < 0.7 else "van", color=color,
                       color2=color2, wheel_x=float(rng.uniform(0, 64)),
                       tex_seed=int(rng.integers(2**31)))
    else:
        occ = Occluder(kind="board", style="sign", color=color, color2=color2,
                       tex_seed=int(rng.integers(2**31)))
    return occ, float(rng.uniform(0.35, 0.55))


def build_plan(size: str | SynthOccSize, seed: int) -> Plan:
    """Identities, cameras, splits and every output file of SynthOcc ``(size, seed)``."""
    sz = get_size(size)
    lay = rng_for(seed, "layout", 0)
    n_total = sz.num_train_ids + sz.num_test_ids + sz.num_distractor_ids
    pids = lay.choice(np.arange(1, 2 * n_total + 1), size=n_total, replace=False)
    train_pids = sorted(int(p) for p in pids[:sz.num_train_ids])
    test_pids = sorted(int(p) for p in pids[sz.num_train_ids:sz.num_train_ids + sz.num_test_ids])
    distractor_pids = sorted(int(p) for p in pids[sz.num_train_ids + sz.num_test_ids:])
    identities = {int(p): sample_identity(rng_for(seed, "identity", int(p))) for p in pids}
    cameras = {c: sample_camera(rng_for(seed, "camera", c), c) for c in range(1, sz.num_cams + 1)}

    def cams_of(n_cams: int) -> list[int]:
        return [int(c) + 1 for c in lay.choice(sz.num_cams, size=n_cams, replace=False)]

    # ---- training split (shared by all protocols)
    n_traps = max(1, int(round(sz.trap_ids * sz.num_train_ids)))
    trap_pids = set(int(p) for p in lay.choice(train_pids, size=n_traps, replace=False))
    traps: list[Trap] = []
    train_caps: list[tuple[Capture, Variant]] = []
    for pid in train_pids:
        k = int(lay.integers(sz.cams_per_id[0], sz.cams_per_id[1] + 1))
        cams = cams_of(k)
        n = int(lay.integers(sz.train_images[0], sz.train_images[1] + 1))
        trap_idx = -1
        if pid in trap_pids:
            counts = [sz.trap_images] + _split_counts(lay, max(n - sz.trap_images, k - 1), k - 1)
            template, target = _trap_template(rng_for(seed, "trap", len(traps)))
            trap_idx = len(traps)
            traps.append(Trap(pid=pid, cam=cams[0], template=template, target=target))
        else:
            counts = _split_counts(lay, max(n, k), k)
        for ci, (cam, cnt) in enumerate(zip(cams, counts)):
            for _ in range(cnt):
                idx = len(train_caps)
                cap = Capture("train", idx, pid, cam, frame=idx + 1)
                var = Variant("trap", trap=trap_idx) if (trap_idx >= 0 and ci == 0) else Variant()
                train_caps.append((cap, var))
    n_occ = int(round(sz.train_occluded * len(train_caps)))
    n_trap_imgs = sum(v.occlusion == "trap" for _, v in train_caps)
    pool = [i for i, (c, _v) in enumerate(train_caps) if c.pid not in trap_pids]
    chosen = lay.choice(pool, size=min(len(pool), max(0, n_occ - n_trap_imgs)), replace=False)
    for i in chosen.tolist():
        train_caps[i] = (train_caps[i][0], Variant("random"))
    files = [PlannedFile(f"{TRAIN_DIR}/{image_name(c.pid, c.cam, c.frame)}", "train", "", c, v)
             for c, v in train_caps]

    # ---- test captures (shared by the three protocols)
    queries: list[Capture] = []
    gallery: list[Capture] = []
    test_caps: list[tuple[Capture, str]] = []
    for pid in test_pids + distractor_pids:
        is_query_id = pid in test_pids
        k = int(lay.integers(sz.cams_per_id[0], sz.cams_per_id[1] + 1))
        cams = cams_of(k)
        n = int(lay.integers(sz.gallery_images[0], sz.gallery_images[1] + 1))
        counts = _split_counts(lay, max(n, k), k)  # >= 1 gallery image in every camera
        q_cams = cams[:min(sz.queries_per_id, k)] if is_query_id else []
        for cam in q_cams:
            test_caps.append((Capture("test", len(test_caps), pid, cam, len(test_caps) + 1), "q"))
        for cam, cnt in zip(cams, counts):
            for _ in range(cnt):
                idx = len(test_caps)
                test_caps.append((Capture("test", idx, pid, cam, idx + 1), "g"))
    for cap, role in test_caps:
        (queries if role == "q" else gallery).append(cap)
    n_gocc = int(round(sz.gallery_occluded * len(gallery)))
    occ_gallery = {int(i) for i in lay.choice(len(gallery), size=n_gocc, replace=False)}
    scenes = {c: [_trap_template(rng_for(seed, "scene", 100 * c + k))[0]
                  for k in range(sz.scene_occluders)] for c in cameras} \
        if sz.scene_occluders > 0 else {}

    def occluded(cap: Capture) -> Variant:
        """The occlusion of an occluded test capture: a scene object of its camera or random."""
        pick = rng_for(seed, "scene-pick", cap.index)
        if scenes and pick.random() < sz.scene_share:
            return Variant("scene", trap=int(pick.integers(sz.scene_occluders)))
        return Variant("random")

    for protocol in SYNTHOCC_PROTOCOLS:
        for cap in queries:
            if protocol == "occluded":
                var = occluded(cap)
            elif protocol == "partial":
                keep = float(rng_for(seed, "partial", cap.index).uniform(*sz.partial_keep))
                var = Variant(keep=keep)
            else:
                var = Variant()
            rel = f"{protocol}/{QUERY_DIR}/{image_name(cap.pid, cap.cam, cap.frame)}"
            files.append(PlannedFile(rel, "query", protocol, cap, var))
        for gi, cap in enumerate(gallery):
            var = occluded(cap) if (protocol == "occluded" and gi in occ_gallery) else Variant()
            rel = f"{protocol}/{GALLERY_DIR}/{image_name(cap.pid, cap.cam, cap.frame)}"
            files.append(PlannedFile(rel, "gallery", protocol, cap, var))

    return Plan(size=sz, seed=int(seed), identities=identities, cameras=cameras,
                train_pids=train_pids, test_pids=test_pids, distractor_pids=distractor_pids,
                traps=traps, files=files, scenes=scenes)
