"""The ground-truth colour oracle: part histograms compared over the parts both images show."""

import numpy as np
import pytest
import torch

from rganet_reid.evaluation.colour_oracle import oracle_distance, part_histograms

RED, BLUE, GREEN, GREY = (200, 30, 30), (30, 30, 200), (30, 200, 30), (128, 128, 128)


def person(colours: dict[int, tuple[int, int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """A 40x10 image with part k (1..4) in rows 10(k-1)..10k-1 painted ``colours[k]``; a part
    missing from ``colours`` is hidden (mask 0, grey pixels)."""
    image = np.full((40, 10, 3), GREY, np.uint8)
    mask = np.zeros((40, 10), np.uint8)
    for part, colour in colours.items():
        image[10 * (part - 1):10 * part] = colour
        mask[10 * (part - 1):10 * part] = part
    return image, mask


def distance(a: dict, b: dict) -> float:
    ha, va = part_histograms(*person(a))
    hb, vb = part_histograms(*person(b))
    d = oracle_distance(torch.from_numpy(ha[None]), torch.from_numpy(va[None]),
                        torch.from_numpy(hb[None]), torch.from_numpy(vb[None]))
    return float(d[0, 0])


def test_histograms_are_per_visible_part_and_unit_length():
    hists, visible = part_histograms(*person({1: RED, 2: BLUE}))
    assert visible.tolist() == [True, True, False, False]
    np.testing.assert_allclose((hists[:2] ** 2).sum(1), 1.0, rtol=1e-6)
    assert not hists[2:].any()
    assert np.argmax(hists[0]) != np.argmax(hists[1])


def test_distance_averages_the_parts_visible_in_both_images():
    full = {1: RED, 2: BLUE, 3: GREEN, 4: RED}
    assert distance(full, full) == pytest.approx(0.0, abs=1e-6)
    # one of four shared parts differs completely: Hellinger distance 1 on it, mean 1/4
    assert distance(full, {**full, 2: GREEN}) == pytest.approx(0.25, abs=1e-6)
    # the occluded image shows only head and upper body, both equal: the hidden parts are
    # not counted, so the distance is 0 (not 2/4)
    assert distance(full, {1: RED, 2: BLUE}) == pytest.approx(0.0, abs=1e-6)
    assert distance({1: RED, 2: BLUE}, {1: RED, 2: GREEN}) == pytest.approx(0.5, abs=1e-6)


def test_images_that_share_no_visible_part_are_as_far_apart_as_possible():
    assert distance({1: RED, 2: RED}, {3: RED, 4: RED}) == pytest.approx(1.0)


def test_matrix_shapes_and_a_ranking():
    gallery = [person({1: RED, 2: BLUE, 3: GREEN, 4: RED}), person({1: RED, 2: GREEN}),
               person({2: BLUE, 3: BLUE})]
    query = person({2: BLUE, 3: GREEN})
    gh, gv = map(np.stack, zip(*(part_histograms(*g) for g in gallery)))
    qh, qv = part_histograms(*query)
    d = oracle_distance(torch.from_numpy(qh[None]), torch.from_numpy(qv[None]),
                        torch.from_numpy(gh), torch.from_numpy(gv))
    assert d.shape == (1, 3)
    assert d[0].argsort().tolist() == [0, 2, 1]
