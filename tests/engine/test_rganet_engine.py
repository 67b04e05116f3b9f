"""The two-stage RGANet engine on a tiny in-memory data manager (no files needed)."""

import pytest
import torch

from rganet_reid.config.defaults import get_default_config
from rganet_reid.engine.builder import build_optimizer, build_scheduler
from rganet_reid.engine.registry import ENGINES
from rganet_reid.engine.rganet_engine import RGANetEngine, confidence_stats
from rganet_reid.modeling import build_rganet
from rganet_reid.modeling.ram import MemoryBank

NUM_PIDS = 4


class TinyDataManager:
    """Two batches of 8 images (4 ids x 2), with part masks; no test sets."""

    def __init__(self, with_masks: bool = True) -> None:
        g = torch.Generator().manual_seed(0)
        self.train_loader = []
        for _ in range(2):
            batch = {"img": torch.randn(8, 3, 64, 32, generator=g),
                     "pid": torch.arange(8) % NUM_PIDS}
            if with_masks:
                batch["mask"] = torch.randint(0, 5, (8, 64, 32), generator=g)
            self.train_loader.append(batch)
        self.num_train_pids = NUM_PIDS
        self.test_loader = {}
        self.test_splits = {}


def _engine(tmp_path, with_masks=True, **rganet):
    cfg = get_default_config()
    cfg.model.name, cfg.loss.name = "rganet_tiny", "rganet"
    cfg.data.height, cfg.data.width = 64, 32
    cfg.data.load_masks = with_masks
    cfg.data.save_dir = str(tmp_path)
    cfg.train.max_epoch, cfg.train.lr, cfg.train.optim = 1, 1e-4, "adam"
    cfg.rganet.stage1.max_epoch = 2
    cfg.rganet.stage1.lr = 1e-2
    for key, value in rganet.items():
        *path, leaf = key.split(".")
        node = cfg.rganet
        for part in path:
            node = getattr(node, part)
        setattr(node, leaf, value)
    model = build_rganet(cfg, NUM_PIDS)
    optimizer = build_optimizer(cfg, model)
    return RGANetEngine(cfg, TinyDataManager(with_masks), model, optimizer,
                        build_scheduler(cfg, optimizer), device=torch.device("cpu"))


def test_engine_is_registered_for_loss_rganet():
    assert ENGINES.get("rganet") is RGANetEngine


def test_before_train_learns_the_prompt_then_freezes_it_and_fills_the_memory(tmp_path):
    engine = _engine(tmp_path)
    model = engine.model
    image_weights = model.image_encoder.visual.conv1.weight.clone()
    ctx = model.prompt.ctx.detach().clone()
    engine.before_train()
    assert len(engine.stage1_history) == 2
    assert all(r["loss_seg"] > 0 for r in engine.stage1_history)
    assert not torch.equal(model.prompt.ctx, ctx)  # stage 1 moved the context
    assert torch.equal(model.image_encoder.visual.conv1.weight, image_weights)  # and only it
    assert model.stage == 2 and model.prompt.is_frozen and model.prompt.text_encoder is None
    assert model.memory.is_initialized


def test_stage2_step_trains_updates_memory_and_extracts_region_features(tmp_path):
    engine = _engine(tmp_path)
    engine.before_train()
    engine.set_model_mode("train")
    engine.after_open_layers()
    centers = engine.model.memory.centers.clone()
    weights = engine.model.image_encoder.visual.conv1.weight.clone()
    model = engine.model
    with torch.no_grad():
        model.dai.fc.bias.fill_(10.0)  # α ≈ 1: every region passes the 0.85 threshold
    terms = engine.forward_backward(engine.train_loader[0])
    assert set(terms) == {"loss_id", "loss_tri", "loss_ram", "loss_tri_region", "loss_dai",
                          "alpha_mean", "memory_update_rate", "memory_kept_share"}
    assert terms["alpha_mean"] > 0.99 and terms["memory_update_rate"] == 1.0
    assert terms["memory_kept_share"] == 1.0
    assert not torch.equal(model.image_encoder.visual.conv1.weight, weights)
    assert not torch.equal(model.memory.centers, centers)
    engine.set_model_mode("eval")
    feats = engine.extract_features(engine.train_loader[0]["img"], extras=True)
    assert feats["global_feat"].shape == (8, 128)
    assert feats["region_feats"].shape == (8, 4, 128)
    w = (feats["alpha"] + feats["beta"]) / 2
    assert torch.allclose(feats["confidence"], w)
    assert torch.allclose(feats["region_weights"], engine.cfg.rganet.region_weight_scale * w)


def test_an_epoch_without_memory_updates_is_reported(tmp_path, caplog):
    engine = _engine(tmp_path)
    engine.before_train()
    with torch.no_grad():
        engine.model.dai.fc.bias.fill_(-10.0)  # α ≈ 0: no region passes the 0.85 threshold
    centers = engine.model.memory.centers.clone()
    means = engine.train_epoch(0)
    assert means["memory_update_rate"] == 0.0 and means["alpha_mean"] < 0.01
    assert means["memory_kept_share"] == 0.0
    assert torch.equal(engine.model.memory.centers, centers)
    assert "rganet.memory.momentum has no effect" in caplog.text
    caplog.clear()
    engine.train_epoch(1)
    assert "no effect" not in caplog.text  # once per run


def test_stage1_is_skipped_for_templates_and_without_masks(tmp_path, caplog):
    template = _engine(tmp_path / "tpl", **{"prompt.mode": "template"})
    template.before_train()
    assert template.stage1_history == [] and template.model.memory.is_initialized
    nomask = _engine(tmp_path / "nomask", with_masks=False)
    nomask.before_train()
    assert nomask.stage1_history == [] and "no part masks" in caplog.text
    assert nomask.model.prompt.is_frozen


@pytest.mark.parametrize("regions", ["none", "stripes"])
def test_baseline_and_stripes_train_without_stage1(tmp_path, regions):
    engine = _engine(tmp_path, regions=regions)
    engine.before_train()
    assert engine.stage1_history == []
    terms = engine.forward_backward(engine.train_loader[1])
    assert ("loss_ram" in terms) == (regions == "stripes")


def test_run_trains_saves_and_resumes_into_stage2(tmp_path):
    engine = _engine(tmp_path)
    engine.run()
    ckpt = tmp_path / "checkpoints" / "last.pth"
    assert ckpt.is_file()
    state = torch.load(ckpt, weights_only=True)
    assert state["engine"]["stage1_done"] is True
    assert not any(".text_encoder." in k for k in state["model"])

    resumed = _engine(tmp_path / "resumed")
    resumed.resume(ckpt)
    assert resumed.model.stage == 2 and resumed.model.prompt.is_frozen
    assert torch.equal(resumed.model.memory.centers, engine.model.memory.centers)


def test_a_diverging_prompt_stage_stops_naming_its_lr(tmp_path):
    """rganet.stage1.lr 1e6: the context vectors explode while L_seg stays finite; the run
    stops after the epoch instead of continuing with meaningless prototypes."""
    engine = _engine(tmp_path)
    engine.cfg.defrost()
    engine.cfg.rganet.stage1.lr = 1e6
    with pytest.raises(FloatingPointError, match="diverged at epoch 1.*lower rganet.stage1.lr"):
        engine.before_train()


def test_confidence_stats_tell_moved_centres_from_kept_features():
    # two images, two regions; only image 0's region 0 passes Eq. 5's threshold: region 0's
    # centre moves (1 of 2 centres) but only 1 of the 4 region features enters the mean
    alpha = torch.tensor([[0.9, 0.1], [0.2, 0.5]])
    kept = MemoryBank(2, 3, alpha_threshold=0.85).passes(alpha)
    stats = confidence_stats({"alpha": alpha}, torch.tensor([True, False]), kept)
    assert stats["memory_update_rate"] == 0.5
    assert stats["memory_kept_share"] == 0.25
    assert abs(stats["alpha_mean"] - 0.425) < 1e-6
