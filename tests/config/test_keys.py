"""Dotted config keys: get / set / has with the loader's unknown-key and type errors."""

import pytest

from rganet_reid.config import ConfigError, get_default_config
from rganet_reid.config.keys import get_key, has_key, set_key


def test_get_and_set_walk_sections_to_the_named_leaf():
    cfg = get_default_config()
    set_key(cfg, "rganet.memory.momentum", 0.5, "a test")
    assert cfg.rganet.memory.momentum == 0.5 and cfg.train.gamma == 0.1
    assert get_key(cfg, "rganet.memory.momentum") == 0.5
    assert get_key(cfg, "rganet.memory") is cfg.rganet.memory
    assert get_key(cfg, "seed") == cfg.seed


def test_has_key_knows_leaves_and_sections_only():
    cfg = get_default_config()
    assert has_key(cfg, "train.lr") and has_key(cfg, "rganet.seg") and has_key(cfg, "seed")
    assert not has_key(cfg, "train.lrr")
    assert not has_key(cfg, "train.lr.value")  # below a leaf
    assert not has_key(cfg, "nosuch.lr")


def test_unknown_keys_name_the_key_the_source_and_close_matches():
    cfg = get_default_config()
    with pytest.raises(ConfigError, match=r"'train\.max_epochz' in spec\.yaml.*train\.max_epoch"):
        set_key(cfg, "train.max_epochz", 3, "spec.yaml")
    with pytest.raises(ConfigError, match=r"Unknown config key 'rganet\.nope\.x' in lookup"):
        get_key(cfg, "rganet.nope.x", "lookup")
    with pytest.raises(ConfigError, match="Unknown config key 'train.lr.x'"):
        set_key(cfg, "train.lr.x", 1, "x")


def test_set_coerces_to_the_default_type_and_refuses_sections_and_wrong_types():
    cfg = get_default_config()
    set_key(cfg, "train.lr", 1, "x")  # int for a float key
    assert isinstance(cfg.train.lr, float) and cfg.train.lr == 1.0
    set_key(cfg, "data.sources", "market1501", "x")  # one name for a list key
    assert cfg.data.sources == ["market1501"]
    set_key(cfg, "test.ranks", (1, 5), "x")
    assert cfg.test.ranks == [1, 5]
    with pytest.raises(ConfigError, match="'train.max_epoch' in x expects int"):
        set_key(cfg, "train.max_epoch", "ten", "x")
    with pytest.raises(ConfigError, match="'rganet.seg' in x is a section"):
        set_key(cfg, "rganet.seg", 1, "x")
