"""Occluded-DukeMTMC read from miniature trees in the published layout."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from rganet_reid.data.datasets.base import DatasetLayoutError
from rganet_reid.data.datasets.layout import MalformedFileNameError
from rganet_reid.data.datasets.occluded_duke import OccludedDuke, parse_duke_name


def _by_name(items):
    return {Path(p).name: (pid, cam) for p, pid, cam, *_ in items}


def test_parse_duke_name_reads_pid_and_zero_based_camera():
    assert parse_duke_name(Path("0001_c2_f0046182.jpg")) == (1, 1)
    assert parse_duke_name(Path("0702_c8_f0000001.jpg")) == (702, 7)
    for bad in ("0001_c9_f0046182.jpg", "0001_c2.jpg", "0001_c2_f0046182.png"):
        with pytest.raises(ValueError):
            parse_duke_name(Path(bad))


def test_occluded_duke_parses_pids_and_cameras_and_relabels_train(tmp_path, trees):
    trees.duke(tmp_path)
    ds = OccludedDuke(root=str(tmp_path), verbose=False)
    assert ds.dataset_dir == str(tmp_path / "Occluded_Duke")
    # train pids 1, 3, 7 → labels 0, 1, 2; cameras c2 → 1, c8 → 7
    assert _by_name(ds.train) == {
        "0001_c2_f0046182.jpg": (0, 1), "0001_c5_f0051781.jpg": (0, 4),
        "0003_c1_f0044158.jpg": (1, 0), "0007_c8_f0000001.jpg": (2, 7),
    }
    # query and gallery keep the original pids
    assert _by_name(ds.query) == {"0005_c2_f0046985.jpg": (5, 1), "0009_c3_f0000333.jpg": (9, 2)}
    assert {pid for _, pid, _, _ in ds.gallery} == {5, 9, 11}
    assert ds.num_train_pids == 3 and ds.eval_ranks == (1, 5, 10)


@pytest.mark.parametrize("folder", ["dukemtmcreid/Occluded_Duke", "occluded_duke"])
def test_occluded_duke_finds_the_alternative_placements(tmp_path, trees, folder, caplog):
    trees.duke(tmp_path, folder=folder)
    with caplog.at_level(logging.INFO):
        ds = OccludedDuke(root=str(tmp_path), verbose=False)
    assert ds.dataset_dir == str(tmp_path / folder)
    assert f"using {tmp_path / folder}" in caplog.text


def test_occluded_duke_accepts_root_pointing_at_the_dataset_folder(tmp_path, trees):
    trees.duke(tmp_path)
    ds = OccludedDuke(root=str(tmp_path / "Occluded_Duke"), verbose=False)
    assert len(ds.gallery) == 4


def test_wrong_root_names_the_candidates_and_the_layout(tmp_path):
    with pytest.raises(DatasetLayoutError) as err:
        OccludedDuke(root=str(tmp_path), verbose=False)
    msg = str(err.value)
    assert str(tmp_path / "Occluded_Duke") in msg
    assert str(tmp_path / "dukemtmcreid" / "Occluded_Duke") in msg
    assert "bounding_box_train" in msg and "Expected layout" in msg


def test_missing_split_folder_is_named(tmp_path, trees):
    trees.duke(tmp_path)
    for f in (tmp_path / "Occluded_Duke" / "query").iterdir():
        f.unlink()
    (tmp_path / "Occluded_Duke" / "query").rmdir()
    with pytest.raises(DatasetLayoutError, match=r"missing in .*Occluded_Duke:\n .*query"):
        OccludedDuke(root=str(tmp_path), verbose=False)


def test_malformed_file_name_is_an_error_naming_file_and_pattern(tmp_path, trees):
    trees.duke(tmp_path)
    trees.write_image(tmp_path / "Occluded_Duke" / "bounding_box_test" / "person_12.jpg")
    with pytest.raises(MalformedFileNameError) as err:
        OccludedDuke(root=str(tmp_path), verbose=False)
    msg = str(err.value)
    assert "person_12.jpg" in msg and "0001_c2_f0046182.jpg" in msg


def test_summary_is_logged_and_miniature_counts_warn_not_fail(tmp_path, trees, caplog):
    trees.duke(tmp_path)
    with caplog.at_level(logging.INFO):
        OccludedDuke(root=str(tmp_path), verbose=True)
    assert "# ids" in caplog.text  # the statistics table
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("published 702 ids / 15618 images" in r.getMessage() for r in warnings)


def test_torchreid_init_image_dataset_builds_it_after_registration(tmp_path, trees,
                                                                   init_via_torchreid):
    trees.duke(tmp_path)
    ds = init_via_torchreid("occluded_duke", tmp_path)
    assert isinstance(ds, OccludedDuke) and len(ds.train) == 4
