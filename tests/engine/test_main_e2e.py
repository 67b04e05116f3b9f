"""End to end through tools/main.py on tiny SynthOcc: train, evaluate, resume, test-only."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rganet_reid.cli.main import main

REPO = Path(__file__).resolve().parents[2]
BASELINE = str(REPO / "configs" / "baselines" / "osnet_x0_25.yaml")


def tiny_opts(root, save_dir, epochs=2):
    return ["data.root", str(root), "data.synthocc.size", "tiny", "data.save_dir",
            str(save_dir), "train.max_epoch", str(epochs), "train.batch_size", "16",
            "data.workers", "0", "test.batch_size", "64", "train.stepsize", "[1]",
            "train.print_freq", "1"]


def test_tools_main_trains_and_evaluates_a_torchreid_model(synthocc_root, tmp_path):
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, str(REPO / "tools" / "main.py"), "--config-file", BASELINE,
         *tiny_opts(synthocc_root, run)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((run / "results.json").read_text())["results"]["synthocc_occluded"]
    for key in ("rank1", "rank3", "mAP", "mINP"):
        assert 0.0 <= results[key] <= 100.0
    assert results["num_query"] > 0
    assert (run / "checkpoints" / "last.pth").is_file() and (run / "model.pth").is_file()
    assert (run / "log.txt").read_text().count("epoch 2/2") >= 1
    assert any((run / "tensorboard").iterdir())
    assert "mAP" in proc.stderr  # the results table is logged


def test_resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one(synthocc_root, tmp_path):
    assert main(["--config-file", BASELINE, *tiny_opts(synthocc_root, tmp_path / "full")]) == 0
    assert main(["--config-file", BASELINE, *tiny_opts(synthocc_root, tmp_path / "half", 1)]) == 0
    resumed = tiny_opts(synthocc_root, tmp_path / "half", 2)
    ckpt = tmp_path / "half" / "checkpoints" / "last.pth"
    assert main(["--config-file", BASELINE, *resumed, "model.resume", str(ckpt)]) == 0
    a = torch.load(tmp_path / "full" / "model.pth", weights_only=True)["model"]
    b = torch.load(tmp_path / "half" / "model.pth", weights_only=True)["model"]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_evaluate_only_with_loaded_weights_reproduces_the_final_metrics(synthocc_root, tmp_path):
    run = tmp_path / "train"
    assert main(["--config-file", BASELINE, *tiny_opts(synthocc_root, run, 1)]) == 0
    trained = json.loads((run / "results.json").read_text())["results"]
    ev = tmp_path / "eval"
    assert main(["--config-file", BASELINE, *tiny_opts(synthocc_root, ev, 1), "test.evaluate",
                 "True", "model.load_weights", str(run / "model.pth")]) == 0
    evaluated = json.loads((ev / "results.json").read_text())["results"]
    assert evaluated["synthocc_occluded"]["mAP"] == pytest.approx(
        trained["synthocc_occluded"]["mAP"], abs=1e-6)


def test_unknown_config_key_exits_with_status_2_and_names_the_key(tmp_path, capsys):
    assert main(["train.max_epochz", "3", "data.save_dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Unknown config key 'train.max_epochz'" in err and "train.max_epoch" in err


def test_weights_from_another_architecture_are_refused(synthocc_root, tmp_path, capsys):
    from rganet_reid.compat import torchreid_models

    other = torchreid_models.build_model("resnet18", 10, pretrained=False)
    torch.save({"state_dict": other.state_dict()}, tmp_path / "resnet18.pth")
    code = main(["--config-file", BASELINE, *tiny_opts(synthocc_root, tmp_path / "r", 1),
                 "test.evaluate", "True", "model.load_weights", str(tmp_path / "resnet18.pth")])
    assert code == 2
    assert "does not fit the model" in capsys.readouterr().err


def test_batch_needing_more_identities_than_the_training_set_is_a_clear_error(
        synthocc_root, tmp_path, capsys):
    opts = tiny_opts(synthocc_root, tmp_path / "r", 1)
    opts[opts.index("train.batch_size") + 1] = "64"
    code = main(["--config-file", BASELINE, *opts, "sampler.num_instances", "2"])
    assert code == 2
    assert "identities per batch, but the training set has 16" in capsys.readouterr().err
