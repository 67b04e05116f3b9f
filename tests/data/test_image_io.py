"""The one image reader of training and inference: every mode becomes the right 8-bit RGB."""

import re

import numpy as np
import pytest
from PIL import Image

from rganet_reid.data.image_io import ImageReadError, array_to_rgb, check_image, read_rgb, to_rgb

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


def test_values_a_mode_cannot_hold_are_refused_by_name_not_called_corrupt(tmp_path):
    path = tmp_path / "f.tif"
    Image.fromarray(np.full((4, 4), 200.0, np.float32)).save(path)  # F, outside [0, 1]
    for read in (read_rgb, check_image):
        with pytest.raises(ImageReadError, match=r"mode F.*must lie in \[0, 1\]") as info:
            read(path)
        assert "corrupt" not in str(info.value)
    with pytest.raises(ImageReadError, match="0..65535"):
        to_rgb(Image.fromarray(np.full((2, 2), 70000, np.int32)))
    with pytest.raises(ImageReadError, match="cannot convert mode 'La'"):
        to_rgb(Image.new("La", (2, 2)))


@pytest.mark.parametrize("make", [
    lambda: Image.fromarray(RGB).convert("P"),
    lambda: Image.fromarray(RGB).convert("PA"),
    lambda: Image.fromarray(RGB).convert("LA"),
    lambda: Image.fromarray(RGB).convert("CMYK"),
    lambda: Image.fromarray(RGB[..., 0].astype(np.uint16) * 257),
    lambda: Image.fromarray(RGB[..., 0].astype(np.float32) / 255),
])
def test_the_check_and_the_reader_agree_on_every_mode(tmp_path, make):
    path = tmp_path / "img.tif"
    make().save(path)
    assert check_image(path) == (read_rgb(path).height, read_rgb(path).width)
    assert np.array_equal(as_array(read_rgb(path)), as_array(to_rgb(Image.open(path))))


def test_a_truncated_jpeg_fails_the_fast_check_as_it_fails_reading(tmp_path):
    path = tmp_path / "cut.jpg"
    noise = np.random.default_rng(0).integers(0, 255, (256, 128, 3), dtype=np.uint8)
    Image.fromarray(noise).save(path, quality=95)
    assert check_image(path) == (256, 128)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    for read in (read_rgb, check_image):
        with pytest.raises(ImageReadError, match="truncated"):
            read(path)


def test_exif_orientation_is_applied_and_the_check_reports_the_turned_size(tmp_path):
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    Image.fromarray(np.zeros((20, 10, 3), np.uint8)).save(path, exif=exif)
    img = read_rgb(path)
    assert (img.height, img.width) == (10, 20) == check_image(path)


def test_a_multi_frame_file_gives_its_first_frame(tmp_path):
    frames = [Image.new("RGB", (4, 4), c) for c in ((255, 0, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    assert as_array(read_rgb(tmp_path / "a.gif"))[0, 0].tolist() == [255, 0, 0]
