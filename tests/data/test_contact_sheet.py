"""SynthOcc's contact sheet (``tools/render_contact_sheet.py``): rows, overlay, the PNG."""

from __future__ import annotations

import numpy as np
from PIL import Image

from rganet_reid.data.synthocc import dataset_dir_for, load_manifest
from rganet_reid.data.synthocc.contact_sheet import PART_COLORS, overlay, pick_rows


def test_rows_show_trap_ids_in_their_trap_camera_then_one_capture_in_every_protocol(
        synthocc_root):
    manifest = load_manifest(dataset_dir_for(synthocc_root, "tiny", 0))
    images = manifest["images"]
    rows = pick_rows(manifest, n_train=2, n_test=2)
    assert len(rows) == 4
    trap = manifest["traps"][0]
    label, rels = rows[0]
    assert label.startswith(f"train id {trap['pid']}\ntrap: c{trap['cam']}")
    assert images[rels[0]]["cam"] == trap["cam"] and images[rels[0]]["pid"] == trap["pid"]
    for _label, rels in rows[2:]:
        recs = [images[r] for r in rels]
        query, gallery = recs[:3], recs[3:]
        assert [r["protocol"] for r in query] == ["occluded", "holistic", "partial"]
        assert {(r["split"], r["pid"], r["cam"]) for r in query} == {
            ("query", query[0]["pid"], query[0]["cam"])}
        assert gallery and all(g["split"] == "gallery" and g["pid"] == query[0]["pid"]
                               and g["cam"] != query[0]["cam"] for g in gallery)


def test_overlay_dims_background_and_tints_each_part_with_its_colour():
    image = np.full((2, 2, 3), 100, np.uint8)
    out = overlay(image, np.array([[0, 1], [2, 4]]))
    assert (out[0, 0] == 35).all()  # background / occluder: 35 % of the image
    for (y, x), label in (((0, 1), 1), ((1, 0), 2), ((1, 1), 4)):
        np.testing.assert_array_equal(
            out[y, x], (45.0 + 0.55 * PART_COLORS[label]).astype(np.uint8))


def test_command_line_draws_one_image_and_mask_column_per_capture(synthocc_root, tmp_path,
                                                                   run_tool):
    out = tmp_path / "sheet" / "s.png"
    code, text = run_tool("render_contact_sheet", "--root", str(synthocc_root), "--size", "tiny",
                          "--out", str(out), "--train-rows", "2", "--test-rows", "1")
    assert code == 0 and text.strip().endswith(f"wrote {out}")
    width, height = Image.open(out).size
    # 3 rows; 6 captures x (image, mask) columns; figure inches x 130 dpi
    assert abs(width - 12 * 0.95 * 130) <= 1 and abs(height - 3 * 2.25 * 130) <= 1
