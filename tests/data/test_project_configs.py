"""Every projects/RGANet/<benchmark>.yaml runs end to end on a miniature tree of its datasets.

The configs are the paper's (ViT-B/16, CLIP weights, pseudo masks); here they run with the
tiny architecture, random weights, a hand-crafted prompt and one epoch, which exercises the
same data → model → engine → Eq. 10 evaluation path on each dataset's real layout.
"""

import json
from pathlib import Path

import pytest

from rganet_reid.cli.main import main

REPO = Path(__file__).resolve().parents[2]
CONFIGS = {
    "occ_duke": ("occluded_duke", ("duke",)),
    "occ_reid": ("occluded_reid", ("market", "occluded_reid")),
    "partial_reid": ("partial_reid", ("market", "partial_reid")),
    "partial_ilids": ("partial_ilids", ("market", "partial_ilids")),
    "market1501": ("market1501_strict", ("market",)),
    "msmt17": ("msmt17_strict", ("msmt",)),
}
SMALL = ["model.name", "rganet_tiny", "model.pretrained", "", "data.load_masks", "False",
         "rganet.prompt.mode", "template", "rganet.stage1.max_epoch", "0",
         "train.max_epoch", "1", "train.batch_size", "4", "sampler.num_instances", "2",
         "data.workers", "0", "data.height", "32", "data.width", "16", "test.batch_size", "8"]


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_project_config_trains_and_evaluates_on_a_miniature_tree(config, trees, tmp_path):
    target, builders = CONFIGS[config]
    root = tmp_path / "reid-data"
    for name in builders:
        getattr(trees, name)(root)
    run = tmp_path / "run"
    code = main(["--config-file", str(REPO / "projects" / "RGANet" / f"{config}.yaml"),
                 "--root", str(root), "--save-dir", str(run), *SMALL])
    assert code == 0
    metrics = json.loads((run / "results.json").read_text())["results"][target]
    assert 0.0 <= metrics["mAP"] <= 100.0 and metrics["num_query"] > 0
