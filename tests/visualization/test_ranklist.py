"""Rank-list figures (paper Fig. 5 form): size, frame colours, ranking as the evaluation."""

import numpy as np
import pytest
import torch
from PIL import Image

from rganet_reid.evaluation import FeatureSet, region_weighted_distance
from rganet_reid.visualization.ranklist import (
    COLORS,
    FRAME,
    MARGIN,
    QUERY_GAP,
    SPACING,
    RankedImage,
    RankRow,
    draw_ranklists,
    interleave_models,
    pick_queries,
    ranklist_figure_size,
    ranklists_from_features,
)


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (40, 20, 3), dtype=np.uint8)


def _rows(n_rows: int, topk: int) -> list[RankRow]:
    return [RankRow(_image(r), [RankedImage(_image(10 * r + i), 0.1 * i, i % 2 == 0, f"id {i}")
                                for i in range(topk)], f"row {r}") for r in range(n_rows)]


def test_figure_has_the_expected_pixel_size(tmp_path):
    # 3 rows, top-10, 64x128 cells: 2*8 + 64 + 24 + 10*64 + 9*6 = 798 wide,
    # 2*8 + 3*(18 + 128 + 28) + 26 (title) = 564 high
    assert ranklist_figure_size(3, 10, (64, 128), title=True) == (798, 564)
    out = draw_ranklists(_rows(3, 10), tmp_path / "fig.png", title="Fig. 5")
    assert Image.open(out).size == (798, 564)
    out = draw_ranklists(_rows(1, 4), tmp_path / "small.png", cell=(32, 64))
    assert Image.open(out).size == ranklist_figure_size(1, 4, (32, 64)) == (
        2 * MARGIN + 32 + QUERY_GAP + 4 * 32 + 3 * SPACING, 2 * MARGIN + 18 + 64 + 28)


def test_frames_are_green_for_correct_and_red_for_wrong_results(tmp_path):
    out = draw_ranklists(_rows(1, 3), tmp_path / "fig.png")
    pixels = np.asarray(Image.open(out).convert("RGB"))
    top = MARGIN + 18  # no title; the row label line
    y = top + 128 // 2  # middle of the cells, on their left frame

    def frame_colour(cell_index: int) -> tuple:
        x0 = MARGIN if cell_index == 0 else MARGIN + 64 + QUERY_GAP + (cell_index - 1) * (
            64 + SPACING)
        return tuple(pixels[y, x0 + FRAME // 2])

    def is_green(c):
        return c[1] > 150 and c[0] < 60 and c[2] < 60

    def is_red(c):
        return c[0] > 150 and c[1] < 60 and c[2] < 60

    assert frame_colour(0) == COLORS["query"]
    assert is_green(frame_colour(1)) and frame_colour(1) == COLORS[True]  # result 0: correct
    assert is_red(frame_colour(2)) and frame_colour(2) == COLORS[False]  # result 1: wrong
    assert is_green(frame_colour(3))


def test_rows_are_stacked_at_their_pixel_offsets(tmp_path):
    pixels = np.asarray(Image.open(draw_ranklists(_rows(2, 2), tmp_path / "f.png")).convert(
        "RGB"))
    x = MARGIN + 64 + QUERY_GAP + 10  # inside the first result of each row
    for row in range(2):
        top = MARGIN + row * (18 + 128 + 28) + 18  # the cell's first pixel row
        assert tuple(pixels[top + FRAME // 2, x]) == COLORS[True]  # its top frame
        assert tuple(pixels[top - 3, x]) == (255, 255, 255)  # the label band above it


def test_unknown_identities_get_a_gray_frame(tmp_path):
    row = RankRow(_image(0), [RankedImage(_image(1), 0.5, None)])
    pixels = np.asarray(Image.open(draw_ranklists([row], tmp_path / "f.png")).convert("RGB"))
    x = MARGIN + 64 + QUERY_GAP + FRAME // 2
    assert tuple(pixels[MARGIN + 18 + 64, x]) == COLORS[None]


def _feature_sets():
    g = torch.Generator().manual_seed(0)
    pids_q, cams_q = np.array([0, 1, 2]), np.array([0, 0, 1])
    pids_g = np.array([0, 0, 1, 1, 2, 2, 3, 3, 0])
    cams_g = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1])

    def fs(pids, cams):
        n = len(pids)
        return FeatureSet(torch.randn(n, 8, generator=g), pids, cams,
                          torch.randn(n, 2, 8, generator=g), torch.rand(n, 2, generator=g))

    return fs(pids_q, cams_q), fs(pids_g, cams_g)


def test_rank_rows_follow_eq10_and_leave_out_same_identity_same_camera():
    query, gallery = _feature_sets()
    rows = ranklists_from_features(query, gallery, list(range(3)), list(range(9)), [0, 2], 4)
    dist = region_weighted_distance(query, gallery)
    for row, qi in zip(rows, [0, 2]):
        kept = [g for g in torch.sort(dist[qi], stable=True).indices.tolist()
                if not (gallery.pids[g] == query.pids[qi] and gallery.camids[g] ==
                        query.camids[qi])]
        assert [r.image for r in row.results] == kept[:4]
        assert [r.correct for r in row.results] == [bool(gallery.pids[g] == query.pids[qi])
                                                    for g in kept[:4]]
        assert [r.distance for r in row.results] == pytest.approx(dist[qi, kept[:4]].tolist())
    assert 0 not in [r.image for r in rows[0].results]  # query 0: id 0, cam 0 = gallery 0


def test_two_models_interleave_per_query(tmp_path):
    a, b = _rows(2, 3), _rows(2, 3)
    rows = interleave_models({"ViT baseline": a, "RGANet": b})
    assert [r.label for r in rows] == ["row 0 · ViT baseline", "row 0 · RGANet",
                                       "row 1 · ViT baseline", "row 1 · RGANet"]
    out = draw_ranklists(rows, tmp_path / "cmp.png")
    assert Image.open(out).size == ranklist_figure_size(4, 3)
    with pytest.raises(ValueError, match="row per query"):
        interleave_models({"a": a, "b": b[:1]})


def test_random_queries_have_a_correct_match_and_are_reproducible():
    query, gallery = _feature_sets()
    picked = pick_queries(query, gallery, 2, seed=3)
    assert list(picked) == list(pick_queries(query, gallery, 2, seed=3))
    for qi in picked:
        assert ((gallery.pids == query.pids[qi]) & (gallery.camids != query.camids[qi])).any()
