"""One atomic writer for every saved file: temp file beside it, fsync, rename, umask mode."""

import json
import os
import stat

import pytest
import torch

from rganet_reid.utils import io


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


@pytest.mark.parametrize("save", [
    lambda p: io.write_json_atomic(p, {"a": 1}),
    lambda p: io.save_torch_atomic(p, {"w": torch.ones(2)}),
])
def test_files_get_the_umask_mode_like_open_not_0600(tmp_path, umask_027, save):
    path = save(tmp_path / "sub" / "f")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # 0o666 & ~0o027
    assert [p.name for p in path.parent.iterdir()] == ["f"]  # no temp file left


@pytest.mark.parametrize("save", [
    lambda p: io.write_json_atomic(p, {"a": 1}),
    lambda p: io.save_torch_atomic(p, {"w": torch.ones(2)}),
])
def test_json_and_torch_files_are_fsynced_before_the_rename(tmp_path, monkeypatch, save):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(io.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))
    monkeypatch.setattr(io.os, "replace",
                        lambda a, b: (events.append("replace"), real_replace(a, b)))
    save(tmp_path / "f")
    assert events[:2] == ["fsync", "replace"]


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temp(tmp_path):
    path = io.write_json_atomic(tmp_path / "r.json", {"v": 1})

    def half_write(fh):
        fh.write(b'{"v": ')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        io.write_atomic(path, half_write)
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_json_content_round_trips_and_replaces(tmp_path):
    path = tmp_path / "r.json"
    io.write_json_atomic(path, {"v": 1})
    io.write_json_atomic(path, {"v": [2, 3]})
    assert json.loads(path.read_text(encoding="utf-8")) == {"v": [2, 3]}


def test_a_killed_writers_temp_file_is_removed_by_the_next_save(tmp_path):
    """A save killed mid-write leaves ``.f.<pid>-<hex>.tmp``: the next save of ``f`` removes
    it when that process is gone, and keeps a running writer's (and other files') temps."""
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".f.{dead}-deadbeef.tmp"
    alive = tmp_path / f".f.{os.getppid()}-cafe0001.tmp"
    other = tmp_path / f".g.{dead}-deadbeef.tmp"
    for p in (stale, alive, other):
        p.write_bytes(b"half")
    io.save_torch_atomic(tmp_path / "f", {"w": torch.ones(1)})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["f", alive.name, other.name])


def test_a_full_disk_during_torch_save_is_no_space_naming_the_file(tmp_path, monkeypatch):
    """torch.save reports a failed write as RuntimeError("unexpected pos ..."); the writer
    turns it into ENOSPC naming the file (the one error path prints "No space left on ...")."""
    import errno
    import shutil

    from rganet_reid.cli.errors import describe

    previous = io.save_torch_atomic(tmp_path / "last.pth", {"w": torch.ones(1)})

    def failing_save(obj, fh):
        fh.write(b"partial")
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 0")

    monkeypatch.setattr(io.torch, "save", failing_save)
    monkeypatch.setattr(io.shutil, "disk_usage",
                        lambda p: shutil._ntuple_diskusage(100, 100, 0))  # full
    with pytest.raises(OSError) as info:
        io.save_torch_atomic(previous, {"w": torch.zeros(1)})
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(previous)
    assert describe(info.value).startswith(f"No space left on the device holding {previous}")
    assert torch.load(previous, weights_only=True)["w"].item() == 1.0  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["last.pth"]
