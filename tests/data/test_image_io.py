"""The one image reader of training and inference: every mode becomes the right 8-bit RGB."""

import re

import numpy as np
import pytest
from PIL import Image

from rganet_reid.data.image_io import ImageReadError, array_to_rgb, read_rgb, to_rgb

RGB = np.array([[[10, 20, 30], [200, 100, 50]], [[0, 255, 128], [7, 8, 9]]], dtype=np.uint8)


def as_array(img: Image.Image) -> np.ndarray:
    assert img.mode == "RGB"
    return np.asarray(img)


def test_rgb_file_reads_unchanged(tmp_path):
    Image.fromarray(RGB).save(tmp_path / "a.png")
    assert np.array_equal(as_array(read_rgb(tmp_path / "a.png")), RGB)


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    # PIL's own convert("RGB") clips every 16-bit value above 255 to white
    values = np.array([[0, 257], [32896, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")
    out = as_array(read_rgb(tmp_path / "g16.png"))
    assert out[..., 0].tolist() == [[0, 1], [128, 255]]
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_32_bit_integer_images_are_read_as_16_bit_data(tmp_path):
    img = Image.fromarray(np.array([[0, 65535]], dtype=np.int32))
    assert img.mode == "I"
    assert as_array(to_rgb(img))[0, :, 0].tolist() == [0, 255]


def test_float_images_are_taken_as_0_to_1():
    img = Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))
    assert img.mode == "F"
    assert as_array(to_rgb(img))[0, :, 0].tolist() == [0, 128, 255]


@pytest.mark.parametrize("mode", ["L", "1", "P", "LA", "RGBA", "CMYK", "YCbCr"])
def test_eight_bit_modes_convert_like_pil(tmp_path, mode):
    src = Image.fromarray(RGB).convert(mode)
    suffix = ".tif" if mode in ("CMYK", "YCbCr") else ".png"
    path = tmp_path / f"img{suffix}"
    if mode == "YCbCr":
        path = tmp_path / "img.jpg"
    src.save(path)
    expected = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(as_array(read_rgb(path)), expected)


def test_cmyk_green_becomes_rgb_green():
    img = Image.new("CMYK", (2, 2), (255, 0, 255, 0))
    assert as_array(to_rgb(img))[0, 0].tolist() == [0, 255, 0]


def test_rgba_alpha_is_dropped_and_the_colour_kept():
    rgba = np.dstack([RGB, np.zeros(RGB.shape[:2], np.uint8)])  # fully transparent
    assert np.array_equal(as_array(to_rgb(Image.fromarray(rgba))), RGB)
    assert np.array_equal(as_array(array_to_rgb(rgba)), RGB)


@pytest.mark.parametrize("arr, expected", [
    (RGB, RGB),
    (RGB[..., 0], np.repeat(RGB[..., :1], 3, axis=2)),
    (RGB[..., :1], np.repeat(RGB[..., :1], 3, axis=2)),
    (RGB.astype(np.uint16) * 257, RGB),
    (RGB.astype(np.float32) / 255, RGB),
    (np.array([[True, False]]), np.array([[[255] * 3, [0] * 3]], np.uint8)),
])
def test_numpy_arrays_are_channel_last_rgb(arr, expected):
    assert np.array_equal(as_array(array_to_rgb(arr)), expected)


@pytest.mark.parametrize("arr, message", [
    (np.zeros((3, 16, 8), np.uint8), "channel-first"),
    (np.zeros((16, 8, 2), np.uint8), "expected an (H, W)"),
    (np.full((2, 2), 300.0, np.float32), "float images must lie in [0, 1]"),
    (np.full((2, 2), -1, np.int16), "0..65535"),
    (np.zeros((0, 4), np.uint8), "empty"),
    (np.full((2, 2), np.nan, np.float32), "NaN"),
])
def test_bad_arrays_are_clear_errors(arr, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        array_to_rgb(arr)


def test_unreadable_and_missing_files_are_errors_naming_them(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(ImageReadError, match=f"^Cannot read image {re.escape(str(bad))}: "):
        read_rgb(bad)
    truncated = tmp_path / "cut.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 7).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:60])
    with pytest.raises(ImageReadError, match=f"^Cannot read image {re.escape(str(truncated))}: "):
        read_rgb(truncated)
    with pytest.raises(ImageReadError, match="not found: .*missing.png"):
        read_rgb(tmp_path / "missing.png")
