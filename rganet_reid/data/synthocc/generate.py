"""Render a :class:`~rganet_reid.data.synthocc.protocols.Plan` into image and mask files.

Files that are the same rendering (e.g. an unoccluded gallery capture shared by the three
protocols) are rendered and encoded once and written to each path. Every rendering draws from
RNGs keyed by ``(seed, stream, capture index)``, so the output bytes do not depend on the
order in which captures are processed.
"""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from rganet_reid.data.synthocc.camera import camera_canvas
from rganet_reid.data.synthocc.protocols import (
    MASK_DIR,
    Plan,
    PlannedFile,
    mask_file,
    rng_for,
)
from rganet_reid.data.synthocc.render import Rendered, render_capture, sample_capture

logger = logging.getLogger(__name__)

JPEG_QUALITY = 95
TRAP_JITTER = 0.04  # per-image jitter of the hidden fraction of a consistent occluder


def render_planned(plan: Plan, pf: PlannedFile, canvases: dict[int, np.ndarray] | None = None
                   ) -> Rendered:
    """Render one planned file from its own RNG streams (independent of any other file)."""
    sz, cap, var = plan.size, pf.capture, pf.variant
    style = plan.cameras[cap.cam]
    canvas = (canvases or {}).get(cap.cam)
    if canvas is None:
        canvas = camera_canvas(style, sz.height, sz.width)
    identity = plan.identities[cap.pid]
    capture = sample_capture(rng_for(plan.seed, cap.stream, cap.index))
    kwargs: dict = {"keep": var.keep}
    if var.occlusion == "random":
        pool = plan.train_pids if cap.stream == "train" else plan.test_pids + plan.distractor_pids
        kwargs.update(
            occluder_rng=rng_for(plan.seed, f"occ/{cap.stream}", cap.index),
            hidden_range=sz.hidden_range if cap.stream == "train" else sz.test_hidden_range,
            others=[plan.identities[p] for p in pool if p != cap.pid],
        )
    elif var.occlusion == "trap":
        trap = plan.traps[var.trap]
        jitter = float(rng_for(plan.seed, "occ/trap", cap.index).uniform(-TRAP_JITTER,
                                                                          TRAP_JITTER))
        kwargs.update(template=trap.template, template_target=trap.target + jitter)
    elif var.occlusion == "scene":
        target = float(rng_for(plan.seed, "occ/scene", cap.index).uniform(*sz.test_hidden_range))
        kwargs.update(template=plan.scenes[cap.cam][var.trap], template_target=target)
    return render_capture(identity, capture, style, canvas, sz.height, sz.width, **kwargs)


def _encode(image: np.ndarray, mask: np.ndarray) -> tuple[bytes, bytes]:
    buf = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buf, format="JPEG", quality=JPEG_QUALITY,
                                            subsampling=0)
    mbuf = io.BytesIO()
    Image.fromarray(mask, mode="L").save(mbuf, format="PNG")
    return buf.getvalue(), mbuf.getvalue()


def _record(pf: PlannedFile, out: Rendered) -> dict:
    occ = out.occluder
    return {
        "pid": pf.capture.pid,
        "cam": pf.capture.cam,
        "split": pf.split,
        "protocol": pf.protocol,
        "occluded": occ is not None,
        "occluder": occ.kind if occ is not None else None,
        "occluder_style": occ.style if occ is not None else None,
        "trap": pf.variant.occlusion == "trap",
        "scene": pf.variant.occlusion == "scene",
        "keep": round(pf.variant.keep, 4),
        "body_px": out.body_px,
        "visible_px": out.visible_px,
        "visibility": [round(float(v), 4) for v in out.visibility],
    }


def write_plan(plan: Plan, out_dir: Path, progress: bool = False) -> dict[str, dict]:
    """Write every planned image (JPEG) and mask (PNG) under ``out_dir``.

    Returns the per-file records ``{relpath: {pid, cam, split, protocol, occluded, occluder,
    occluder_style, trap, keep, body_px, visible_px, visibility}}`` stored in the manifest
    (``visibility``: per-part ground truth, head / upper body / lower body / feet, see
    :func:`~rganet_reid.data.synthocc.render.part_visibility`).
    """
    out_dir = Path(out_dir)
    for folder in plan.folders():
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
        (out_dir / MASK_DIR / folder).mkdir(parents=True, exist_ok=True)
    canvases = {c: camera_canvas(s, plan.size.height, plan.size.width)
                for c, s in plan.cameras.items()}
    groups: dict[tuple, list[PlannedFile]] = defaultdict(list)
    for pf in plan.files:
        groups[(pf.capture.stream, pf.capture.index, pf.variant.key)].append(pf)
    records: dict[str, dict] = {}
    bar = tqdm(groups.values(), total=len(groups), desc=f"SynthOcc {plan.size.name}",
               unit="img", disable=not progress)
    for group in bar:
        out = render_planned(plan, group[0], canvases)
        img_bytes, mask_bytes = _encode(out.image, out.mask)
        for pf in group:
            (out_dir / pf.relpath).write_bytes(img_bytes)
            mask_file(out_dir, pf.relpath).write_bytes(mask_bytes)
            records[pf.relpath] = _record(pf, out)
    return records
