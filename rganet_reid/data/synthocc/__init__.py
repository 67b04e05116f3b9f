"""SynthOcc: a deterministic synthetic occluded-person ReID benchmark, generated locally.

Procedural pedestrians whose identity is a set of stable per-part attributes
(:mod:`~rganet_reid.data.synthocc.appearance`), seen by several cameras with their own scene,
illumination, colour cast, blur and noise, with a random pose per image and occluders of four
kinds - vehicles and boards from below, poles from the side, another pedestrian in front
(:mod:`~rganet_reid.data.synthocc.render`). Each image ships a pixel-exact part-label mask:
0 background / occluder, 1 head, 2 upper body, 3 lower body, 4 feet (an occluded body pixel is
0). Protocols, splits and camera rules: :mod:`~rganet_reid.data.synthocc.protocols`.

Layout on disk (written once, reused while ``manifest.json`` matches)::

    <root>/synthocc/<size>_seed<seed>/
        manifest.json              generator version, parameters, counts, traps, per-image
                                   records (pid, cam, split, occluded, occluder, body_px,
                                   visibility: per-part visible share, ...)
        bounding_box_train/        training split, shared by all protocols
        occluded/query/            Occluded-Duke-like: 100 % occluded queries
        occluded/bounding_box_test/   ~10 % occluded gallery
        partial/query/             Partial-REID-like: top 40-70 % of the crop, resized back
        partial/bounding_box_test/    whole-body gallery
        holistic/query/            no occlusion
        holistic/bounding_box_test/
        masks/<same relative path as the image, suffix .png>   uint8 label maps

File names follow Market-1501: ``{pid:04d}_c{cam}s1_{frame:06d}_00.jpg`` (camera 1-based;
parsed by ``r'([-\\d]+)_c(\\d)'``). Images are 128×64 (H×W) JPEGs; the model input size is set
by the config and images are resized.

Determinism: every capture draws from an RNG derived from ``(seed, stream, index)``, so the same
seed gives byte-identical files whatever the rendering order.

Sizes (:data:`SIZES`): ``tiny`` (unit tests, ~1 s), ``demo`` (README demo, < 60 s on one
core), ``demo_scene`` (the demo with scene occluders shared across identities in the occluded
test images), ``full`` (Occluded-Duke scale: 702 training identities).
"""

from rganet_reid.data.synthocc.protocols import (
    EVAL_RANKS,
    SIZES,
    SYNTHOCC_PROTOCOLS,
    SynthOccSize,
    build_plan,
    get_size,
    image_name,
    mask_file,
)
from rganet_reid.data.synthocc.render import LABEL_NAMES
from rganet_reid.data.synthocc.writer import (
    GENERATOR_VERSION,
    dataset_dir_for,
    ensure_synthocc,
    generate_synthocc,
    load_manifest,
)

__all__ = [
    "EVAL_RANKS",
    "GENERATOR_VERSION",
    "LABEL_NAMES",
    "SIZES",
    "SYNTHOCC_PROTOCOLS",
    "SynthOccSize",
    "build_plan",
    "dataset_dir_for",
    "ensure_synthocc",
    "generate_synthocc",
    "get_size",
    "image_name",
    "load_manifest",
    "mask_file",
]
