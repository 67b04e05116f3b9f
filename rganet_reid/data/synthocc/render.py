"""Drawing SynthOcc images: pedestrian, occluders, camera scene and photometry.

Everything is evaluated analytically on the pixel-centre grid, so the part-label mask is exact:
each pixel takes the colour *and* the label of the top-most primitive covering it.

Labels (:data:`LABEL_NAMES`): 0 background / occluder, 1 head (face, hair, hat, neck),
2 upper body (shirt, arms, hands, bag), 3 lower body (trousers / skirt, legs), 4 feet (shoes).
A body pixel hidden by an occluder is labelled 0.

Pipeline of one image (:func:`render_capture`):

1. pose (:func:`sample_pose`) and background crop of the camera's scene canvas;
2. :func:`compose`: background, then the person (:func:`render_person`), then occluders
   (:func:`draw_occluder`) on top - colours and labels together;
3. :func:`photometric`: camera illumination / colour cast / vertical light gradient,
   low resolution, Gaussian blur and noise (image only; the mask is unchanged).

A *partial* view (Partial-REID-style query) keeps the top ``keep`` fraction of the crop and
stretches it back to the full height; it is rendered directly on a stretched grid
(``Y = (y + 0.5) * keep``), so its mask is as exact as the full view's.
"""


from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rganet_reid.data.synthocc.appearance import Identity
from rganet_reid.data.synthocc.camera import (
    CameraStyle,
    Photometry,
    background_crop,
    photometric,
    sample_photometry,
)
from rganet_reid.data.synthocc.geometry import pixel_grid
from rganet_reid.data.synthocc.occluders import (
    OCCLUDER_KINDS,
    Occluder,
    draw_occluder,
    fit_occluder,
    sample_occluder,
)
from rganet_reid.data.synthocc.person import (
    BASE_HEIGHT,
    FEET,
    HEAD,
    LABEL_NAMES,
    LOWER,
    UPPER,
    Pose,
    render_person,
    sample_pose,
)

__all__ = [
    "BASE_HEIGHT", "FEET", "HEAD", "LABEL_NAMES", "LOWER", "NUM_PARTS", "OCCLUDER_KINDS", "UPPER",
    "Capture", "Occluder", "Pose", "Rendered", "compose", "draw_occluder", "fit_occluder",
    "part_pixel_counts", "part_visibility", "render_capture", "render_person", "sample_capture",
    "sample_occluder", "sample_pose",
]


# --------------------------------------------------------------------------- composition
def compose(identity: Identity, pose: Pose, background: np.ndarray,
            occluders: list[Occluder] = (), keep: float = 1.0
            ) -> tuple[np.ndarray, np.ndarray, int]:
    """Paint background, person and occluders; returns ``(rgb float32, mask uint8, body_px)``.

    ``mask`` is the part-label map of the visible person (0 where background or occluder);
    ``body_px`` counts the person's pixels before occlusion.
    """
    height, width = background.shape[:2]
    X, Y = pixel_grid(height, width, keep)
    prgb, label = render_person(identity, pose, X, Y, height, width)
    body = label > 0
    rgb = background.astype(np.float32, copy=True)
    rgb[body] = prgb[body]
    mask = label.copy()
    for occ in occluders:
        orgb, cover = draw_occluder(occ, X, Y, height, width)
        rgb[cover] = orgb[cover]
        mask[cover] = 0
    return rgb, mask, int(body.sum())


NUM_PARTS = 4  # head, upper body, lower body, feet (labels 1..4)


def part_pixel_counts(label: np.ndarray) -> np.ndarray:
    """Pixels of each part 1..4 in a label map: ``(4,)`` int64."""
    return np.bincount(label.ravel(), minlength=NUM_PARTS + 1)[1:NUM_PARTS + 1].astype(np.int64)


def part_visibility(visible_label: np.ndarray, full_label: np.ndarray, keep: float = 1.0
                    ) -> np.ndarray:
    """Ground-truth visibility of each part 1..4: ``(4,)`` float in [0, 1].

    Visible pixels of the part (``visible_label``, the rendered mask: occluded pixels are 0,
    a partial view shows only the top ``keep`` of the crop stretched to full height, so each of
    its pixels stands for ``keep`` of a pixel of the whole crop) divided by the pixels the part
    covers in ``full_label`` (the same person, pose and crop without occluders or cropping). A
    part that covers no pixel even then has visibility 0.
    """
    visible = part_pixel_counts(visible_label) * float(keep)
    full = part_pixel_counts(full_label)
    vis = np.divide(visible, full, out=np.zeros(NUM_PARTS), where=full > 0)
    return np.clip(vis, 0.0, 1.0)


@dataclass
class Rendered:
    """One finished image with its part mask and occlusion statistics."""

    image: np.ndarray  # uint8 HxWx3
    mask: np.ndarray  # uint8 HxW, labels 0..4
    body_px: int  # person pixels before occlusion
    occluder: Occluder | None
    visibility: np.ndarray  # (4,) per-part visibility, see part_visibility

    @property
    def visible_px(self) -> int:
        return int((self.mask > 0).sum())

    @property
    def visible_frac(self) -> float:
        return self.visible_px / max(self.body_px, 1)


@dataclass(frozen=True)
class Capture:
    """What stays fixed when one capture is rendered in several protocol variants."""

    pose: Pose
    bg_offset: tuple[float, float]
    photometry: Photometry


def sample_capture(rng: np.random.Generator) -> Capture:
    """Draw the pose, background offset and imaging of one capture (fixed draw order)."""
    pose = sample_pose(rng)
    fy, fx = (float(v) for v in rng.random(2))
    return Capture(pose=pose, bg_offset=(fy, fx), photometry=sample_photometry(rng))


def render_capture(identity: Identity, capture: Capture, style: CameraStyle,
                   canvas: np.ndarray, height: int, width: int, *,
                   occluder_rng: np.random.Generator | None = None,
                   hidden_range: tuple[float, float] = (0.2, 0.6),
                   others: list[Identity] = (), occluder_kind: str | None = None,
                   template: Occluder | None = None, template_target: float = 0.4,
                   keep: float = 1.0) -> Rendered:
    """Render one image of ``identity`` seen by camera ``style``.

    Without ``occluder_rng`` and ``template`` the person is unoccluded. With ``template`` (a
    from-below occluder) that object is re-fitted to hide ``template_target`` of the body (the
    consistent-occluder case); otherwise an occluder is sampled by :func:`sample_occluder`.
    """
    bg = background_crop(canvas, *capture.bg_offset, height, width, keep)
    occ = None
    if template is not None or occluder_rng is not None:
        X, Y = pixel_grid(height, width, keep)
        body = render_person(identity, capture.pose, X, Y, height, width)[1] > 0
        if template is not None:
            occ = fit_occluder(template, template_target, body, X, Y, height, width)
        else:
            occ = sample_occluder(occluder_rng, body, X, Y, height, width, hidden_range,
                                  list(others), occluder_kind)
    rgb, mask, body_px = compose(identity, capture.pose, bg, [occ] if occ else [], keep)
    if occ is None and keep == 1.0:
        full_label = mask  # nothing hides or crops the person: the mask is the full body
    else:
        full_label = render_person(identity, capture.pose, *pixel_grid(height, width), height,
                                   width)[1]
    image = photometric(rgb, style, capture.photometry)
    return Rendered(image=image, mask=mask, body_px=body_px, occluder=occ,
                    visibility=part_visibility(mask, full_label, keep))
