"""Spec files and command-line model lists → entries and the configs every run trains with."""

from pathlib import Path

import pytest

from rganet_reid.benchmark.cli import spec_from_models
from rganet_reid.benchmark.runner import (
    build_run_config,
    check_trainable,
    config_hash,
    plan_runs,
)
from rganet_reid.benchmark.spec import SpecError
from rganet_reid.benchmark.spec_file import load_spec, spec_from_dict

REPO = Path(__file__).resolve().parents[2]
OCC = "synthocc_occluded"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", sorted((REPO / "projects/RGANet/benchmarks").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_every_project_spec_loads_and_plans_its_runs(path, tmp_path):
    spec = load_spec(path)
    assert spec.name == path.stem
    plans = plan_runs(spec, tmp_path)
    assert len(plans) == len(spec.entries) * len(spec.seeds)  # SynthOcc: one train group
    for plan in plans:
        assert plan.cfg.data.height == 128 and plan.cfg.train.batch_size == 64
        assert plan.cfg.train.max_epoch == spec.budget["max_epoch"]
    check_trainable(plans)  # every RGANet run's losses build (N against the L_seg keys)


def test_project_specs_share_runs_of_identical_entries(tmp_path):
    specs = {n: load_spec(REPO / f"projects/RGANet/benchmarks/{n}.yaml")
             for n in ("leaderboard", "table_vii", "table_v", "table_vi", "regions")}
    plans = {n: {p.entry.label: p for p in plan_runs(s, tmp_path) if p.seed == 1}
             for n, s in specs.items()}
    dirs = {n: {label: p.run_dir for label, p in ps.items()} for n, ps in plans.items()}
    models = {k: v for k, v in dirs["leaderboard"].items() if "oracle" not in k.lower()}
    assert models == dirs["table_vii"]  # the leaderboard adds the colour oracle's row
    oracle = dirs["leaderboard"]["Colour oracle (GT part masks, no learning)"]
    assert oracle not in models.values()
    # every table is made from the default weights: the same entry is the same run everywhere
    assert dirs["regions"]["RGM"] == dirs["table_vi"]["learnable"] == dirs["table_v"]["RGM"]
    assert dirs["leaderboard"]["RGANet"] == dirs["table_v"]["RGANet (RGM + DAI + IAI)"]
    assert dirs["leaderboard"]["ViT baseline"] == dirs["table_v"]["Baseline"]
    for label in ("RGANet (RGM + DAI + IAI)", "RGM + IAI", "RGM + DAI", "RGM"):
        assert dirs["regions"][label] == dirs["table_v"][label], label
    assert dirs["regions"]["RGANet, the text's RAM"] not in dirs["table_v"].values()
    for name, ps in plans.items():
        for label, plan in ps.items():
            if plan.cfg.model.name.startswith("rganet") and "random init" not in label:
                assert plan.cfg.model.pretrained == "synthocc-clip-v2", (name, label)
    fig3 = {p.entry.label: p.run_dir
            for p in plan_runs(load_spec(REPO / "projects/RGANet/benchmarks/fig3.yaml"), tmp_path)}
    assert fig3["RGM"] == dirs["table_v"]["RGM"]
    assert fig3["RGANet"] == dirs["table_v"]["RGANet (RGM + DAI + IAI)"]


def test_paths_resolve_against_the_spec_folder(tmp_path):
    _write(tmp_path / "configs" / "m.yaml", "model:\n  name: resnet18\n")
    spec = load_spec(_write(tmp_path / "specs" / "s.yaml", (
        "name: s\nprotocols: [synthocc_occluded]\n"
        "entries:\n  - {label: M, config: ../configs/m.yaml}\n")))
    assert spec.entries[0].config == (tmp_path / "configs" / "m.yaml").resolve()
    with pytest.raises(SpecError, match="nope.yaml not found"):
        load_spec(_write(tmp_path / "specs" / "bad.yaml", (
            "name: b\nprotocols: [synthocc_occluded]\nentries:\n  - {config: nope.yaml}\n")))


def test_an_entry_may_not_change_what_the_spec_fixes_for_all():
    with pytest.raises(SpecError, match="'R18' overrides \\['train.batch_size'\\]"):
        spec_from_dict({"name": "s", "protocols": [OCC], "overrides": {"train.batch_size": 64},
                        "entries": [{"label": "R18", "model": "resnet18",
                                     "overrides": {"train.batch_size": 32}}]})
    with pytest.raises(SpecError, match="train.max_epoch"):
        spec_from_dict({"name": "s", "protocols": [OCC], "budget": {"max_epoch": 3},
                        "entries": [{"model": "resnet18", "overrides": {"train.max_epoch": 9}}]})


@pytest.mark.parametrize("data, message", [
    ({"protocols": ["occluded_dukee"]}, "unknown protocol"),
    ({"shape": "pie"}, "shape must be one of"),
    ({"budget": {"epochs": 3}}, "budget keys"),
    ({"budget": {"max_time": -1}}, "budget.max_time"),
    ({"seeds": ["a"]}, "seeds"),
    ({"entries": [{"label": "x"}]}, "needs a config file or a model name"),
    ({"entries": [{"model": "a"}, {"model": "a"}]}, "must be unique"),
    ({"colour": "red"}, "unknown keys"),
])
def test_malformed_specs_are_refused_with_the_reason(data, message):
    spec = {"name": "s", "protocols": [OCC], "entries": [{"model": "resnet18"}], **data}
    with pytest.raises(SpecError, match=message):
        spec_from_dict(spec)


def test_run_config_applies_entry_then_shared_overrides_budget_and_protocol(tmp_path):
    spec = spec_from_dict({
        "name": "s", "protocols": [OCC, "synthocc_holistic"], "budget": {"max_epoch": 3,
                                                                       "max_time": 60},
        "overrides": {"data.height": 64, "data.width": 32, "train.batch_size": 16},
        "entries": [{"label": "PCB", "model": "pcb_p4", "overrides": {"train.lr": 0.01}},
                    {"label": "R18", "model": "resnet18"},
                    {"label": "tiny", "model": "rganet_tiny"}]})
    pcb, r18, tiny = (build_run_config(spec, e, spec.protocols, 7, tmp_path, root="/data")
                      for e in spec.entries)
    assert pcb.loss.name == "softmax" and r18.loss.name == "triplet"  # PCB: softmax only
    assert tiny.loss.name == "rganet"
    assert pcb.train.lr == 0.01 and r18.train.lr == 3.5e-4
    for cfg in (pcb, r18, tiny):
        assert (cfg.data.height, cfg.data.width, cfg.train.batch_size) == (64, 32, 16)
        assert (cfg.train.max_epoch, cfg.train.max_time) == (3, 60.0)
        assert cfg.data.sources == [OCC] and cfg.data.targets == [OCC, "synthocc_holistic"]
        assert (cfg.seed, cfg.data.root, cfg.data.save_dir) == (7, "/data", str(tmp_path))


def test_config_hash_ignores_seed_root_and_targets_but_not_training_settings(tmp_path):
    spec = spec_from_dict({"name": "s", "protocols": [OCC], "entries": [{"model": "resnet18"}]})
    entry = spec.entries[0]
    a = build_run_config(spec, entry, (OCC,), 1, tmp_path / "a", root="/x")
    b = build_run_config(spec, entry, ("synthocc_partial",), 2, tmp_path / "b", root="/y")
    assert config_hash(a) == config_hash(b)
    other = spec_from_dict({"name": "s", "protocols": [OCC], "overrides": {"train.lr": 0.1},
                            "entries": [{"model": "resnet18"}]})
    c = build_run_config(other, other.entries[0], (OCC,), 1, tmp_path / "c")
    assert config_hash(c) != config_hash(a)


def test_command_line_models_take_configs_and_torchreid_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "my_rganet.yaml", "model:\n  name: rganet_tiny\nloss:\n  name: rganet\n")
    _write(tmp_path / "w.pth", "")
    spec = spec_from_models(["my_rganet.yaml", "osnet_x1_0"], [OCC], budget={"max_epoch": 2},
                            weights={"osnet_x1_0": "w.pth"})
    rg, osnet = spec.entries
    assert (rg.label, rg.model, rg.config) == ("my_rganet", None, tmp_path / "my_rganet.yaml")
    assert (osnet.label, osnet.model, osnet.weights) == ("osnet_x1_0", "osnet_x1_0",
                                                         tmp_path / "w.pth")
    cfg = build_run_config(spec, osnet, (OCC,), 1, tmp_path / "run")
    assert cfg.test.evaluate and cfg.model.load_weights == str(tmp_path / "w.pth")
    with pytest.raises(SpecError, match="unknown model"):
        spec_from_models(["resnet50"], [OCC], weights={"resnet18": "w.pth"})
