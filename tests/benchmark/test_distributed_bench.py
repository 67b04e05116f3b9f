"""``tools/bench_distributed.py``'s runner on tiny sizes: real torchrun launches (gloo, CPU)
whose per-rank records say what the bench table prints."""

from __future__ import annotations

from pathlib import Path

from rganet_reid.benchmark.distributed import run_distributed_bench

REPO = Path(__file__).resolve().parents[2]


def test_sharded_evaluation_records_of_1_and_2_processes(tmp_path, capsys):
    report = run_distributed_bench(nprocs=[1, 2], presets=["small"], train=False,
                                   eval_opts=["device", "cpu"], work_dir=tmp_path, threads=1)
    one, two = report["eval"]["small"][1], report["eval"]["small"][2]
    assert [r["rank"] for r in one] == [0] and [r["rank"] for r in two] == [0, 1]
    for rec in one + two:
        assert rec["num_query"] == 500 and rec["num_gallery"] == 5000
        assert rec["time_s"] > 0 and rec["peak_rss_mb"] > 0 and rec["threads"] == 1
        assert (rec["cmc"], rec["mAP"], rec["mINP"]) == (one[0]["cmc"], one[0]["mAP"],
                                                        one[0]["mINP"])
    assert 0.0 < one[0]["mAP"] < 1.0
    out = capsys.readouterr().out
    assert "| small" in out and "yes" in out


def test_training_throughput_records_of_2_processes(synthocc_root, tmp_path):
    opts = ["model.pretrained", "", "data.synthocc.size", "tiny", "rganet.stage1.max_epoch",
            "0", "data.workers", "0", "train.batch_size", "16", "device", "cpu",
            "data.root", str(synthocc_root)]
    report = run_distributed_bench(
        nprocs=[2], presets=[], train=True,
        train_config=str(REPO / "projects" / "RGANet" / "synth_occ.yaml"), train_opts=opts,
        work_dir=tmp_path, threads=1)
    ranks = report["train"][2]
    assert [r["rank"] for r in ranks] == [0, 1]
    assert all(r["global_batch"] == 16 and r["world_size"] == 2 for r in ranks)
    # every optimiser step is one global batch of 16 images, 8 on each rank
    assert ranks[0]["steps"] == ranks[1]["steps"] >= 2
    assert ranks[0]["images"] == ranks[1]["images"] == 16 * ranks[0]["steps"]
    assert ranks[0]["images_per_s"] > 0
