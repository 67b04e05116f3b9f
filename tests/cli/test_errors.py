"""The one error path of every command (:mod:`rganet_reid.cli.errors`): a fault is one line
naming the file, key or device, exit status 2, the traceback in the log file and on the
console only with ``--debug``; a bug keeps its traceback."""

from __future__ import annotations

import errno
import logging

import pytest
import torch

from rganet_reid.cli.errors import EXIT_FAULT, EXIT_INTERRUPTED, describe, run_command
from rganet_reid.utils.logging import setup_logging
from rganet_reid.utils.seed import DeviceError, resolve_device

log = logging.getLogger("rganet_reid.cli")


@pytest.mark.parametrize("code, expected", [
    (errno.ENOSPC, "No space left on the device holding /out/run/model.pth"),
    (errno.EROFS, "/out/run/model.pth: Read-only file system. Make it writable"),
    (errno.EACCES, "/out/run/model.pth: Permission denied. Make it writable"),
    (errno.EFBIG, "(ulimit -f)"),
    (errno.ENOTDIR, "a file stands where a folder is needed"),
])
def test_os_faults_name_the_path_and_what_to_do(code, expected):
    import os

    err = OSError(code, os.strerror(code), "/out/run/model.pth")
    assert expected in describe(err)


def test_a_dataloader_workers_error_is_its_original_message():
    msg = ("Caught ImageReadError in DataLoader worker process 0.\nOriginal Traceback (most "
           "recent call last):\n  File \"x.py\", line 1, in f\nrganet_reid.data.image_io."
           "ImageReadError: Cannot read image /d/a.jpg: truncated\n")
    assert describe(OSError(msg)) == "Cannot read image /d/a.jpg: truncated"


def _fault():
    raise DeviceError("device='cuda:3': this machine has 1 CUDA device(s)")


def test_a_fault_is_one_line_with_status_2_and_its_traceback_goes_to_the_log(tmp_path,
                                                                             capsys):
    def body():
        setup_logging(tmp_path)  # what a run does once its folder is known
        _fault()

    assert run_command(body, log=log) == EXIT_FAULT
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
    assert "DeviceError: device='cuda:3'" in err and f"traceback in {tmp_path}" in err
    logged = (tmp_path / "log.txt").read_text()
    assert "Traceback (most recent call last)" in logged and "in _fault" in logged


def test_debug_prints_the_traceback(capsys):
    assert run_command(_fault, debug=True, log=log) == EXIT_FAULT
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "in _fault" in err
    assert run_command(_fault, log=log) == EXIT_FAULT  # and off again
    assert "Traceback" not in capsys.readouterr().err


def test_a_bug_keeps_its_traceback_and_ctrl_c_is_status_130(capsys):
    def bug():
        raise TypeError("a bug in the package")

    with pytest.raises(TypeError):
        run_command(bug, log=log)

    def interrupted():
        raise KeyboardInterrupt

    assert run_command(interrupted, log=log) == EXIT_INTERRUPTED
    assert "Interrupted" in capsys.readouterr().err


def test_a_diverged_training_is_a_fault_not_a_traceback(capsys):
    def diverged():
        raise FloatingPointError("Loss became nan at step 3; lower train.lr or disable train.amp.")

    assert run_command(diverged, log=log) == EXIT_FAULT
    err = capsys.readouterr().err
    assert "Traceback" not in err and "Loss became nan at step 3" in err


def test_devices_that_do_not_exist_here_are_named(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="CUDA is not available on this machine"):
        resolve_device("cuda")
    with pytest.raises(DeviceError, match="'gpu0' is not a device"):
        resolve_device("gpu0")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(DeviceError, match=r"has 1 CUDA device\(s\)"):
        resolve_device("cuda:3")
    assert resolve_device("cpu") == torch.device("cpu")
