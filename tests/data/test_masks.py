"""The pseudo part-mask format: path mapping, reading and validation."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np
import pytest
from PIL import Image

from rganet_reid.data.masks import (
    MaskFormatError,
    MaskLabelError,
    MaskNotFoundError,
    MaskSizeError,
    image_hw,
    mask_path_for,
    mask_relpath,
    read_mask,
    write_mask,
)


def _labels(h=16, w=8, top=4):
    return (np.arange(h * w).reshape(h, w) % (top + 1)).astype(np.uint8)


def test_mask_path_mirrors_the_image_path_below_the_dataset_dir(tmp_path):
    ds = tmp_path / "market1501" / "Market-1501-v15.09.15"
    img = ds / "bounding_box_train" / "0002_c1s1_000451_03.jpg"
    assert mask_path_for(img, ds, tmp_path / "masks") == (
        tmp_path / "masks" / "bounding_box_train" / "0002_c1s1_000451_03.png")
    tif = tmp_path / "Occluded_REID" / "whole_body_images" / "001" / "001_01.tif"
    assert mask_path_for(tif, tmp_path / "Occluded_REID", "m") == Path(
        "m/whole_body_images/001/001_01.png")


def test_mask_relpath_swaps_only_the_file_suffix():
    assert mask_relpath("occ.v2/query/0001_c1s1_000001_00.jpg") == PurePosixPath(
        "occ.v2/query/0001_c1s1_000001_00.png")
    assert mask_relpath(Path("a") / "b.tif") == PurePosixPath("a/b.png")


def test_mask_path_for_an_image_outside_the_dataset_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="not inside the dataset folder"):
        mask_path_for(tmp_path / "elsewhere" / "a.jpg", tmp_path / "ds", tmp_path / "m")


def test_write_then_read_round_trips_labels(tmp_path):
    labels = _labels()
    path = write_mask(tmp_path / "a" / "b.png", labels)
    out = read_mask(path, expected_hw=(16, 8), num_labels=5)
    assert out.dtype == np.uint8 and np.array_equal(out, labels)


def test_palette_png_indices_are_read_as_labels(tmp_path):
    labels = _labels(top=3)
    img = Image.frombytes("P", (8, 16), labels.tobytes())  # palette indices = labels
    img.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * 756)  # colours
    img.save(tmp_path / "p.png")
    assert np.array_equal(read_mask(tmp_path / "p.png", num_labels=4), labels)


def test_missing_mask_names_the_path(tmp_path):
    with pytest.raises(MaskNotFoundError, match="nope.png"):
        read_mask(tmp_path / "nope.png")
    assert issubclass(MaskNotFoundError, FileNotFoundError)


def test_mis_sized_mask_states_both_sizes(tmp_path):
    path = write_mask(tmp_path / "m.png", _labels(h=8, w=4))
    with pytest.raises(MaskSizeError, match=r"is 8x4 \(HxW\) but its image is 16x8"):
        read_mask(path, expected_hw=(16, 8))


def test_out_of_range_label_is_reported_with_the_allowed_range(tmp_path):
    path = write_mask(tmp_path / "m.png", _labels(top=6))
    with pytest.raises(MaskLabelError, match=r"label\(s\) \[5, 6\]; expected 0..4"):
        read_mask(path, num_labels=5)


def test_ignore_label_is_allowed_in_addition(tmp_path):
    labels = _labels(top=2)
    labels[0, 0] = 255
    path = write_mask(tmp_path / "m.png", labels)
    assert read_mask(path, num_labels=3, ignore_label=255)[0, 0] == 255
    with pytest.raises(MaskLabelError):
        read_mask(path, num_labels=3)


def test_colour_png_is_refused_as_not_a_label_map(tmp_path):
    Image.new("RGB", (8, 16)).save(tmp_path / "rgb.png")
    with pytest.raises(MaskFormatError, match="mode 'RGB'"):
        read_mask(tmp_path / "rgb.png")


def test_corrupt_mask_file_is_a_format_error(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(MaskFormatError, match="Cannot read part mask"):
        read_mask(tmp_path / "bad.png")


def test_sixteen_bit_label_maps_are_read(tmp_path):
    Image.fromarray(_labels().astype(np.uint16)).save(tmp_path / "m16.png")
    assert np.array_equal(read_mask(tmp_path / "m16.png", num_labels=5), _labels())


def test_write_mask_refuses_labels_that_do_not_fit_8_bits(tmp_path):
    with pytest.raises(ValueError, match="0..255"):
        write_mask(tmp_path / "m.png", np.full((2, 2), 300))
    with pytest.raises(ValueError, match="PNG"):
        write_mask(tmp_path / "m.jpg", _labels())


def test_image_hw_reads_height_and_width(tmp_path, trees):
    path = trees.write_image(tmp_path / "x.jpg", size=(8, 16))
    assert image_hw(path) == (16, 8)
