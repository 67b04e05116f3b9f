"""Pre-flight (:mod:`rganet_reid.engine.preflight`): a run starts clean or stops before any
data or model is built, with every problem listed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from rganet_reid.cli.main import main
from rganet_reid.config import load_config
from rganet_reid.engine import preflight
from rganet_reid.engine.preflight import PreflightError, check_config, check_images


def cfg_with(tmp_path, **keys):
    cfg = load_config(None, freeze=False)
    cfg.data.save_dir = str(tmp_path / "out")
    for key, value in keys.items():
        section, _, leaf = key.rpartition("__")
        node = cfg
        for part in section.split("__") if section else []:
            node = node[part]
        node[leaf] = value
    return cfg


def test_every_config_problem_is_listed_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    (tmp_path / "file").write_text("x")
    cfg = cfg_with(tmp_path, train__optim="adamm", rganet__regions="foo", train__amp="fp8",
                   model__load_weights=str(tmp_path / "none.pth"), device="cuda",
                   data__mask_root=str(tmp_path / "masks"), data__targets=["dukee"],
                   data__save_dir=str(tmp_path / "file" / "run"), data__workers=-1)
    with pytest.raises(PreflightError) as info:
        check_config(cfg)
    msg = str(info.value)
    for expected in ("9 problem(s)", "train.optim is 'adamm'; choose one of: adam",
                     "rganet.regions is 'foo'", "train.amp is 'fp8'",
                     "model.load_weights", "none.pth is not a file",
                     "data.mask_root", "data.targets names unknown dataset(s) ['dukee']",
                     "is a file, not a folder", "CUDA is not available",
                     "data.workers is -1; use 0"):
        assert expected in msg, expected


@pytest.mark.parametrize("batch, inst, expected", [
    (16, 0, "sampler.num_instances is 0"),
    (2, 4, "smaller than sampler.num_instances 4 (images of one identity per batch): raise "
            "train.batch_size"),
    (18, 4, "not a multiple of sampler.num_instances 4, so batches would straddle identities: "
            "use 16 or 20"),
])
def test_sampler_arithmetic(tmp_path, batch, inst, expected):
    with pytest.raises(PreflightError, match="1 problem") as info:
        check_config(cfg_with(tmp_path, train__batch_size=batch, sampler__num_instances=inst))
    assert expected in str(info.value)


def test_an_unwritable_run_folder_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(preflight.os, "access", lambda path, mode: False)  # tests run as root
    with pytest.raises(PreflightError, match=r"data.save_dir .*out: .* is not writable"):
        check_config(cfg_with(tmp_path))


def test_settings_that_run_but_not_as_meant_are_warned(tmp_path, caplog):
    check_config(cfg_with(tmp_path, test__evaluate=True))
    assert "test.evaluate True without model.load_weights: evaluating untrained" in caplog.text
    check_config(cfg_with(tmp_path, model__name="rganet_tiny", loss__name="rganet",
                          train__max_epoch=1))
    assert "rganet.stage1.max_epoch=30 epochs before the 1 of train.max_epoch" in caplog.text


def _images(folder, n):
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        paths.append(folder / f"{i}.jpg")
        Image.fromarray(np.full((32, 16, 3), i * 20, np.uint8)).save(paths[-1])
    return [(str(p), i, 0, 0) for i, p in enumerate(paths)]


def test_every_unreadable_image_of_every_split_is_listed(tmp_path):
    train, gallery = _images(tmp_path / "train", 3), _images(tmp_path / "gallery", 3)
    (tmp_path / "gallery" / "1.jpg").write_bytes(b"not an image")
    (tmp_path / "train" / "2.jpg").unlink()
    cfg = cfg_with(tmp_path, data__root=str(tmp_path))
    with pytest.raises(PreflightError, match="2 problem") as info:
        check_images({"train": train, "d gallery": gallery}, cfg)
    msg = str(info.value)
    assert "train/2.jpg: image file not found" in msg and "Cannot read image" in msg
    assert "gallery/1.jpg" in msg


def test_a_second_run_decodes_only_what_changed_and_the_key_turns_it_off(tmp_path, monkeypatch):
    items = _images(tmp_path / "q", 4)
    cfg = cfg_with(tmp_path, data__root=str(tmp_path))
    seen = []
    real = preflight.image_problem
    monkeypatch.setattr(preflight, "image_problem", lambda p: (seen.append(p), real(p))[1])
    check_images({"q": items}, cfg)
    assert len(seen) == 4
    seen.clear()
    check_images({"q": items}, cfg)
    assert seen == []  # all from the cache
    (tmp_path / "q" / "3.jpg").write_bytes(b"broken now")
    with pytest.raises(PreflightError, match="3.jpg"):
        check_images({"q": items}, cfg)
    assert [p.rsplit("/", 1)[1] for p in seen] == ["3.jpg"]
    cfg.data.preflight = False
    check_images({"q": items}, cfg)  # off: not even the broken file is looked at


@pytest.mark.parametrize("opts, message", [
    (["rganet.regions", "foo"], "rganet.regions is 'foo'"),
    (["sampler.num_instances", "0"], "sampler.num_instances is 0"),
])
def test_main_stops_before_reading_data_with_one_message(tmp_path, capsys, opts, message):
    save = tmp_path / "run"
    code = main(["data.root", str(tmp_path / "no-data"), "data.save_dir", str(save), *opts])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (save / "config.yaml").exists() and not (tmp_path / "no-data").exists()


def test_identities_with_fewer_images_than_num_instances_are_warned(tmp_path, caplog):
    items = [("a.jpg", 1, 0, 0)] * 4 + [("b.jpg", 2, 0, 0)] * 2 + [("c.jpg", 3, 0, 0)]
    preflight.sampler_warnings(items, cfg_with(tmp_path, sampler__num_instances=4))
    assert "2 of 3 training identities have fewer than sampler.num_instances=4" in caplog.text
    caplog.clear()
    preflight.sampler_warnings(items, cfg_with(tmp_path, sampler__num_instances=1))
    assert caplog.text == ""
