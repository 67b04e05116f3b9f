"""Fig. 4 figures: views from region outputs, the PNG's size, the most occluded items."""

import numpy as np
import pytest
import torch
from PIL import Image

from rganet_reid.visualization.regions import (
    draw_region_views,
    most_occluded,
    region_figure_size,
    views_from_outputs,
)


def _outputs(b: int = 2, n: int = 3, h: int = 4, w: int = 2) -> dict[str, torch.Tensor]:
    """Mask logits where region j (k = j + 1) wins exactly on row band j of the grid."""
    logits = torch.full((b, n + 1, h, w), -10.0)
    logits[:, 0] = 0.0
    for j in range(n):
        logits[:, j + 1, j] = 10.0
    alpha = torch.tensor([[0.9, 0.8, 0.1], [0.5, 0.4, 0.3]])
    beta = torch.tensor([[0.7, 0.6, 0.2], [0.5, 0.5, 0.5]])
    return {"mask_logits": logits, "alpha": alpha, "beta": beta,
            "region_weights": (alpha + beta) / 2}


def test_views_carry_each_regions_mask_and_scores_at_image_size():
    images = [np.zeros((8, 4, 3), np.uint8), np.full((16, 8, 3), 255, np.uint8)]
    views = views_from_outputs(_outputs(), images, ["a", "b", "c"],
                               visibility=np.array([[1.0, 0.5, 0.0], [1, 1, 1]]),
                               titles=["x", "y"])
    assert [v.masks.shape for v in views] == [(3, 8, 4), (3, 16, 8)]
    for view in views:  # region j covers band j (of 4 bands) of the image, nothing else
        band = view.masks.shape[1] // 4
        for j in range(3):
            rows = view.masks[j].mean(axis=1)
            assert rows[j * band + band // 2] > 0.9
            assert rows[3 * band + band // 2] < 0.1  # the background band
    np.testing.assert_allclose(views[0].w, [0.8, 0.7, 0.15], atol=1e-6)
    np.testing.assert_allclose(views[0].alpha, [0.9, 0.8, 0.1])
    assert views[1].title == "y" and views[0].visibility[2] == 0.0


def test_views_need_generated_regions():
    with pytest.raises(ValueError, match="rganet.regions rgm"):
        views_from_outputs({"region_weights": torch.ones(1, 3)}, [np.zeros((8, 4, 3))], "abc")


def test_figure_is_written_at_its_size(tmp_path):
    images = [np.zeros((128, 64, 3), np.uint8)] * 2
    views = views_from_outputs(_outputs(), images, ["a", "b", "c"])
    out = draw_region_views(views, tmp_path / "fig4.png", "title")
    assert Image.open(out).size == region_figure_size(2, 3)
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, no temp file left


def test_most_occluded_orders_by_mean_visibility():
    vis = np.array([[1.0, 1.0], [0.0, 0.2], [0.5, 0.5], [0.0, 0.1]])
    assert most_occluded(vis, 2) == [3, 1]
