"""``rganet-main``'s command line: flags cannot swallow the KEY VALUE overrides, and a mistake
is an error that shows what was parsed."""

from __future__ import annotations

import pytest

from rganet_reid.cli.main import build_parser, config_from_args, main
from rganet_reid.config import ConfigError


def parse(*argv: str):
    return config_from_args(build_parser().parse_args(list(argv)))


@pytest.mark.parametrize("flag, key", [("-t", "targets"), ("-s", "sources"),
                                       ("--transforms", "transforms")])
def test_a_list_flag_followed_by_overrides_keeps_both(flag, key):
    value = "random_flip" if key == "transforms" else "synthocc_partial"
    cfg = parse(flag, value, "train.max_epoch", "3", "data.synthocc.size", "tiny")
    assert cfg.data[key] == [value]
    assert cfg.train.max_epoch == 3 and cfg.data.synthocc.size == "tiny"


def test_several_names_are_comma_separated_or_the_flag_repeated():
    assert parse("-t", "synthocc_occluded,synthocc_partial").data.targets == [
        "synthocc_occluded", "synthocc_partial"]
    assert parse("-t", "synthocc_occluded", "-t", "synthocc_partial", "--", "seed", "3"
                 ).data.targets == ["synthocc_occluded", "synthocc_partial"]


def test_a_second_name_after_a_flag_is_an_error_showing_the_parse():
    with pytest.raises(ConfigError) as info:
        parse("-t", "synthocc_occluded", "synthocc_partial", "train.max_epoch", "3")
    msg = str(info.value)
    assert "'synthocc_partial' is a dataset name, not a config key" in msg
    assert "-t/--targets ['synthocc_occluded']" in msg
    assert "overrides ['synthocc_partial', 'train.max_epoch', '3']" in msg
    assert "-t a,b" in msg


@pytest.mark.parametrize("argv, message", [
    (["train.lr", "0.1", "-t", "synthocc_partial"], "Option '-t' comes after"),
    (["train.max_epoch", "3", "train.lr"], "'train.lr' on the command line has no value"),
    (["train", "3"], "'train' is a config section"),
    (["train.max_epochz", "3"], "Did you mean: train.max_epoch"),
])
def test_override_mistakes_name_the_token_and_the_parse(argv, message):
    with pytest.raises(ConfigError, match="Parsed: ") as info:
        parse(*argv)
    assert message in str(info.value)


def test_help_shows_how_to_give_several_names_and_the_overrides(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "-t NAME[,NAME]" in out and "comma-separated" in out and "[--] [KEY VALUE ...]" in out


def test_a_parse_mistake_ends_with_one_line_and_status_2(capsys):
    assert main(["-t", "synthocc_occluded", "synthocc_partial", "train.max_epoch", "3"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "is a dataset name" in err
