"""``model.resume`` continues the same training: changed training keys are listed and refused
(not silently ignored, no bare KeyError); a finished run says so and writes no bogus epoch."""

from __future__ import annotations

import json

import pytest
import torch
from test_main_e2e import BASELINE, tiny_opts

from rganet_reid.cli.main import main
from rganet_reid.config import load_config
from rganet_reid.config.keys import set_key
from rganet_reid.engine.checkpoint import CheckpointError
from rganet_reid.engine.resume_policy import check_resume_config, training_differences


def test_training_keys_differ_evaluation_and_location_keys_do_not():
    saved, now = load_config(None, freeze=False), load_config(None, freeze=False)
    now.train.lr, now.sampler.num_instances, now.seed = 0.1, 8, 7
    now.test.batch_size, now.data.root, now.train.max_epoch = 3, "/elsewhere", 99
    assert [d[0] for d in training_differences(saved, now)] == [
        "seed", "sampler.num_instances", "train.lr"]
    now.train.lr_scheduler = saved.train.lr_scheduler = "cosine"  # its period is saved
    assert "train.max_epoch" in [d[0] for d in training_differences(saved, now)]


def test_a_checkpoint_without_a_config_is_resumed_with_a_warning(caplog):
    check_resume_config(None, load_config(None), "old.pth")
    assert "stores no config" in caplog.text


@pytest.fixture(scope="module")
def one_epoch(synthocc_root, tmp_path_factory):
    run = tmp_path_factory.mktemp("resume") / "run"
    assert main(["--config-file", BASELINE, *tiny_opts(synthocc_root, run, 1)]) == 0
    return run


@pytest.mark.parametrize("change, listed", [  # lr and batch size: unit level, below
    (["train.optim", "sgd"], "train.optim: checkpoint 'adam', now 'sgd'"),  # was KeyError
])
def test_a_changed_training_key_is_refused_by_name(synthocc_root, one_epoch, tmp_path, capsys,
                                                   change, listed):
    ckpt = one_epoch / "checkpoints" / "last.pth"
    opts = tiny_opts(synthocc_root, tmp_path / "r", 2)
    opts += change
    assert main(["--config-file", BASELINE, *opts, "model.resume", str(ckpt)]) == 2
    err = capsys.readouterr().err
    assert listed in err and "refused" in err and "model.load_weights" in err
    assert "Traceback" not in err and "KeyError" not in err
    assert not (tmp_path / "r" / "checkpoints").exists()  # nothing trained


def test_resuming_a_finished_run_trains_nothing_and_says_so(synthocc_root, one_epoch, tmp_path,
                                                           capsys):
    ckpt = one_epoch / "checkpoints" / "last.pth"
    out = tmp_path / "again"
    assert main(["--config-file", BASELINE, *tiny_opts(synthocc_root, out, 1), "model.resume",
                 str(ckpt)]) == 0
    assert "finished at epoch 1 (train.max_epoch 1): nothing to train" in capsys.readouterr().err
    assert json.loads((out / "results.json").read_text())["epoch"] == 1
    assert not (out / "checkpoints").exists()
    assert torch.load(ckpt, weights_only=True)["epoch"] == 1


@pytest.mark.parametrize("key, value, listed", [
    ("train.lr", 0.1, "train.lr: checkpoint 0.00035, now 0.1"),  # was silently kept
    ("train.batch_size", 8, "train.batch_size: checkpoint 64, now 8"),
    ("loss.triplet.margin", 0.5, "loss.triplet.margin: checkpoint 0.3, now 0.5"),
])
def test_check_resume_config_raises_a_checkpoint_error(key, value, listed):
    saved = load_config(None)
    now = load_config(None, freeze=False)
    set_key(now, key, value, "the test")
    with pytest.raises(CheckpointError, match="refused") as info:
        check_resume_config(saved.dump(), now, "x.pth")
    assert listed in str(info.value)
