"""Config loading: defaults, _BASE_ inheritance, overrides and the errors users see."""

from pathlib import Path

import pytest

from rganet_reid.config import ConfigError, get_default_config, load_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_have_torchreid_sections_and_rganet_section():
    cfg = get_default_config()
    for section in ("model", "data", "sampler", "train", "sgd", "adam", "rmsprop", "loss",
                    "test", "rganet", "retrieval"):
        assert section in cfg


def test_yaml_overrides_defaults_and_command_line_overrides_yaml(tmp_path):
    f = write(tmp_path / "a.yaml", "train:\n  lr: 0.01\n  max_epoch: 3\n")
    cfg = load_config(f, ["train.max_epoch", "7"])
    assert cfg.train.lr == 0.01
    assert cfg.train.max_epoch == 7


def test_base_chain_is_merged_child_last_with_relative_paths(tmp_path):
    write(tmp_path / "configs" / "base.yaml", "train:\n  lr: 0.1\n  max_epoch: 5\n")
    write(tmp_path / "configs" / "mid.yaml",
          "_BASE_: base.yaml\ntrain:\n  max_epoch: 9\ndata:\n  height: 64\n")
    child = write(tmp_path / "projects" / "x.yaml",
                  "_BASE_: ../configs/mid.yaml\ndata:\n  width: 32\n")
    cfg = load_config(child)
    assert (cfg.train.lr, cfg.train.max_epoch, cfg.data.height, cfg.data.width) == (
        0.1, 9, 64, 32)


def test_unknown_key_in_yaml_names_key_file_and_suggestion(tmp_path):
    f = write(tmp_path / "bad.yaml", "train:\n  max_epochs: 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(f)
    msg = str(err.value)
    assert "train.max_epochs" in msg and str(f) in msg and "train.max_epoch" in msg


def test_unknown_key_in_base_file_names_the_base_file(tmp_path):
    base = write(tmp_path / "base.yaml", "model:\n  nmae: x\n")
    child = write(tmp_path / "child.yaml", "_BASE_: base.yaml\n")
    with pytest.raises(ConfigError, match=str(base)):
        load_config(child)


@pytest.mark.parametrize("child_text, key", [
    ("_BASE_: base.yaml\ntrain:\n  max_epochz: 3\n", "train.max_epochz"),  # base has train
    ("_BASE_: base.yaml\nsede: 3\n", "sede"),
    ("_BASE_: base.yaml\ntrain:\n  lr: fast\n", "train.lr"),  # a wrong type, not a new key
])
def test_a_mistake_in_a_child_file_names_the_child_not_its_base(tmp_path, child_text, key):
    base = write(tmp_path / "base.yaml", "seed: 2\ntrain:\n  lr: 0.1\n  max_epoch: 5\n")
    child = write(tmp_path / "child.yaml", child_text)
    with pytest.raises(ConfigError) as info:
        load_config(child)
    msg = str(info.value)
    assert key in msg and str(child) in msg and str(base) not in msg


def test_base_keys_keep_their_file_at_the_top_level(tmp_path):
    base = write(tmp_path / "base.yaml", "sede: 2\n")
    child = write(tmp_path / "child.yaml", "_BASE_: base.yaml\nseed: 3\n")
    with pytest.raises(ConfigError, match=str(base)):
        load_config(child)


def test_unknown_command_line_key_is_an_error():
    with pytest.raises(ConfigError, match="the command line"):
        load_config(None, ["train.lrr", "0.1"])


def test_wrong_type_is_an_error_naming_the_expected_type(tmp_path):
    f = write(tmp_path / "t.yaml", "train:\n  max_epoch: three\n")
    with pytest.raises(ConfigError, match="expects int"):
        load_config(f)


def test_a_missing_base_names_the_file_that_names_it_and_yaml_errors_are_one_line(tmp_path):
    child = write(tmp_path / "child.yaml", "_BASE_: nowhere.yaml\n")
    with pytest.raises(ConfigError, match=f"{child}: its _BASE_ 'nowhere.yaml' is not a file"):
        load_config(child)
    broken = write(tmp_path / "broken.yaml", "train:\n  lr: [0.1\n")
    with pytest.raises(ConfigError, match="not valid YAML") as info:
        load_config(broken)
    assert "\n" not in str(info.value)


def test_base_cycle_is_detected(tmp_path):
    write(tmp_path / "a.yaml", "_BASE_: b.yaml\n")
    write(tmp_path / "b.yaml", "_BASE_: a.yaml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path / "a.yaml")


def test_missing_config_file_is_an_error():
    with pytest.raises(ConfigError, match="not found"):
        load_config("/nonexistent/config.yaml")


def test_odd_number_of_overrides_is_an_error():
    with pytest.raises(ConfigError, match="KEY VALUE"):
        load_config(None, ["train.lr"])


def test_int_is_accepted_for_float_key_and_list_values_parse():
    cfg = load_config(None, ["train.lr", "1", "train.stepsize", "[40, 70]",
                             "test.evaluate", "True"])
    assert isinstance(cfg.train.lr, float) and cfg.train.stepsize == [40, 70]
    assert cfg.test.evaluate is True


def test_every_shipped_config_loads():
    root = Path(__file__).resolve().parents[2]
    files = sorted(p for p in (root / "projects").rglob("*.yaml") if "benchmarks" not in p.parts)
    files += sorted((root / "configs").rglob("*.yaml"))
    assert len(files) >= 8, "the repository ships config files"
    for f in files:
        load_config(f)


def test_a_bracketed_list_of_bare_names_on_the_command_line_is_a_list():
    cfg = load_config(opts=["data.targets", "[synthocc_holistic, synthocc_partial]",
                            "rganet.seg.class_weights", "[0.5, 2, 1, 1, 3]",
                            "data.sources", "synthocc_occluded"])
    assert cfg.data.targets == ["synthocc_holistic", "synthocc_partial"]
    assert cfg.rganet.seg.class_weights == [0.5, 2, 1, 1, 3]
    assert cfg.data.sources == ["synthocc_occluded"]
    # not YAML either: kept as the raw text (the pre-flight check then names the bad dataset)
    assert load_config(opts=["data.targets", "[a, {b: "]).data.targets == ["[a, {b: "]
