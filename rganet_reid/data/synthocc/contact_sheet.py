"""A contact sheet of SynthOcc: identities, occluders, protocols and mask overlays.

Drawn by ``tools/render_contact_sheet.py`` (:mod:`rganet_reid.cli.render_contact_sheet`).
Top block: training identities, starting with the "consistent occluder" trap identities
(always occluded by the same object in one camera). Bottom block: test identities across the
protocols: occluded query, the same capture holistic and partial, and gallery images from other
cameras. Every image is followed by its part-label mask overlay (head red, upper body green,
lower body blue, feet yellow; occluders and background dimmed).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from rganet_reid.data.synthocc.protocols import mask_file
from rganet_reid.data.synthocc.render import LABEL_NAMES
from rganet_reid.data.synthocc.writer import load_manifest

__all__ = ["PART_COLORS", "overlay", "pick_rows", "render"]


#: Overlay colour of each mask label (background black; see :data:`LABEL_NAMES`).
PART_COLORS = np.array([[0, 0, 0], [230, 40, 40], [40, 200, 60], [50, 90, 235], [245, 215, 30]],
                       dtype=np.float32)


def overlay(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Image dimmed where the mask is 0, blended with the part colour elsewhere."""
    img = image.astype(np.float32)
    out = img * 0.35
    body = mask > 0
    out[body] = 0.45 * img[body] + 0.55 * PART_COLORS[mask[body]]
    return out.clip(0, 255).astype(np.uint8)


def _load(dataset_dir: Path, rel: str) -> tuple[np.ndarray, np.ndarray]:
    """The RGB image ``rel`` of the dataset and its part-label mask."""
    image = np.asarray(Image.open(dataset_dir / rel).convert("RGB"))
    mask = np.asarray(Image.open(mask_file(dataset_dir, rel)))
    return image, mask


def _caption(rec: dict) -> str:
    """Split, camera, occluder and crop of a manifest record, in a few characters."""
    where = "train" if rec["split"] == "train" else f"{rec['protocol'][:4]} {rec['split'][0]}"
    cap = f"{where} c{rec['cam']}"
    if rec["occluded"]:
        hidden = 1 - rec["visible_px"] / max(rec["body_px"], 1)
        cap += f" {rec['occluder_style'] or rec['occluder']} {hidden:.0%}"
    if rec["keep"] < 1:
        cap += f" top {rec['keep']:.0%}"
    return cap


def pick_rows(manifest: dict, n_train: int, n_test: int) -> list[tuple[str, list[str]]]:
    """Rows ``(label, [relpaths])``: trap + plain training ids, then test ids per protocol."""
    images = manifest["images"]
    by_pid_train: dict[int, list[str]] = defaultdict(list)
    for rel, rec in images.items():
        if rec["split"] == "train":
            by_pid_train[rec["pid"]].append(rel)
    rows = []
    trap_pids = [t["pid"] for t in manifest["traps"]]
    plain = [p for p in manifest["ids"]["train"] if p not in trap_pids]
    for t in manifest["traps"][: max(1, n_train // 2)]:
        rels = sorted(by_pid_train[t["pid"]], key=lambda r: (images[r]["cam"] != t["cam"], r))
        rows.append((f"train id {t['pid']}\ntrap: c{t['cam']} {t['style']}", rels[:6]))
    for pid in plain[: n_train - len(rows)]:
        rels = sorted(by_pid_train[pid], key=lambda r: (images[r]["cam"], r))
        rows.append((f"train id {pid}", rels[:6]))
    occ_queries = sorted(r for r, rec in images.items()
                         if rec["protocol"] == "occluded" and rec["split"] == "query")
    seen = set()
    for q in occ_queries:
        rec = images[q]
        if rec["pid"] in seen:
            continue
        seen.add(rec["pid"])
        name = q.rsplit("/", 1)[1]
        gallery = sorted(r for r, g in images.items() if g["protocol"] == "occluded"
                         and g["split"] == "gallery" and g["pid"] == rec["pid"]
                         and g["cam"] != rec["cam"])
        rels = [q, f"holistic/query/{name}", f"partial/query/{name}", *gallery[:3]]
        rows.append((f"test id {rec['pid']}\nocc / holistic / partial q\n+ gallery", rels))
        if len(seen) >= n_test:
            break
    return rows


def render(dataset_dir: Path, out: Path, n_train: int = 4, n_test: int = 4) -> Path:
    """Draw the contact sheet of the dataset in ``dataset_dir`` into ``out`` (PNG).

    ``n_train`` rows of training identities (trap identities first), then ``n_test`` rows of
    test identities (occluded / holistic / partial query and gallery images).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    manifest = load_manifest(dataset_dir)
    rows = pick_rows(manifest, n_train, n_test)
    ncols = 2 * max(len(r) for _, r in rows)
    fig, axes = plt.subplots(len(rows), ncols, figsize=(ncols * 0.95, len(rows) * 2.25),
                             squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, (label, rels) in enumerate(rows):
        axes[i, 0].text(-0.15, 0.5, label, transform=axes[i, 0].transAxes, ha="right",
                        va="center", fontsize=7)
        for j, rel in enumerate(rels):
            image, mask = _load(dataset_dir, rel)
            rec = manifest["images"][rel]
            axes[i, 2 * j].imshow(image)
            axes[i, 2 * j].set_title(_caption(rec), fontsize=5.5)
            axes[i, 2 * j + 1].imshow(overlay(image, mask))
            axes[i, 2 * j + 1].set_title("mask", fontsize=5.5)
    handles = [Patch(color=PART_COLORS[k] / 255, label=LABEL_NAMES[k]) for k in range(1, 5)]
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7, frameon=False)
    fig.suptitle(f"SynthOcc {manifest['size']} (seed {manifest['seed']}): "
                 f"{manifest['counts']['bounding_box_train']} train images, "
                 f"{len(manifest['ids']['train'])} train ids, {len(manifest['traps'])} trap ids",
                 fontsize=9)
    fig.subplots_adjust(left=0.13, right=0.99, top=0.94, bottom=0.04, wspace=0.08, hspace=0.35)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130)
    plt.close(fig)
    return out
