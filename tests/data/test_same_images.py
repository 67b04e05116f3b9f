"""same_images: two item lists hold the same images (identity, camera, bytes), paths aside."""

from __future__ import annotations

from rganet_reid.data.same_images import same_images


def _items(folder, payloads, pids=None):
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for i, data in enumerate(payloads):
        path = folder / f"{i:04d}.jpg"
        path.write_bytes(data)
        items.append((str(path), (pids or [i] * len(payloads))[i], i % 3))
    return items


def test_the_same_bytes_under_other_paths_are_the_same_images(tmp_path):
    payloads = [b"abc", b"defg", b"hij"]
    assert same_images(_items(tmp_path / "a", payloads), _items(tmp_path / "b", payloads))


def test_one_changed_byte_of_equal_size_makes_them_differ(tmp_path):
    a = _items(tmp_path / "a", [b"abc", b"defg", b"hij"])
    b = _items(tmp_path / "b", [b"abc", b"defX", b"hij"])
    assert not same_images(a, b)


def test_identities_cameras_lengths_and_missing_files_are_compared(tmp_path):
    payloads = [b"abc", b"defg"]
    a = _items(tmp_path / "a", payloads)
    assert not same_images(a, _items(tmp_path / "b", payloads, pids=[0, 5]))
    assert not same_images(a, [(p, pid, (cam + 1) % 3) for p, pid, cam in a])
    assert not same_images(a, a[:1])
    assert not same_images(a, [(str(tmp_path / "gone.jpg"), *a[0][1:]), a[1]])
    assert same_images(a, a)
