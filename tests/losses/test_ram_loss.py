"""Eq. 7: the confidence-weighted region ID loss."""

import torch
import torch.nn.functional as F

from rganet_reid.losses import RegionAssessmentLoss, smoothed_cross_entropy


def test_ram_loss_equals_its_formula_without_smoothing():
    torch.manual_seed(0)
    logits = torch.randn(3, 2, 5)  # B=3, N=2, C=5
    pids = torch.tensor([4, 0, 2])
    w = torch.tensor([[0.7, 0.3], [0.5, 0.5], [0.1, 0.9]])
    loss = RegionAssessmentLoss(eps=0.0)(logits, pids, w)
    log_p = F.log_softmax(logits, dim=-1)
    expected = sum(-w[i, j] * log_p[i, j, pids[i]] for i in range(3) for j in range(2)) / 3
    assert torch.allclose(loss, expected, atol=1e-6)


def test_ram_loss_with_label_smoothing_uses_the_smoothed_target():
    torch.manual_seed(1)
    logits, pids = torch.randn(2, 3, 4), torch.tensor([1, 3])
    w = torch.rand(2, 3)
    eps = 0.1
    target = torch.full((2, 4), eps / 4)
    target[torch.arange(2), pids] += 1 - eps
    log_p = F.log_softmax(logits, dim=-1)
    per = -(target.unsqueeze(1) * log_p).sum(-1)  # (B, N)
    expected = (w * per).sum(1).mean()
    assert torch.allclose(RegionAssessmentLoss(eps)(logits, pids, w), expected, atol=1e-6)


def test_weights_receive_gradient_unless_detached():
    logits, pids = torch.randn(2, 2, 3), torch.tensor([0, 1])
    w = torch.full((2, 2), 0.5, requires_grad=True)
    RegionAssessmentLoss(0.0)(logits, pids, w).backward()
    assert w.grad is not None and float(w.grad.abs().sum()) > 0
    w2 = torch.full((2, 2), 0.5, requires_grad=True)
    logits2 = torch.randn(2, 2, 3, requires_grad=True)
    RegionAssessmentLoss(0.0, detach_weights=True)(logits2, pids, w2).backward()
    assert w2.grad is None and logits2.grad is not None


def test_smoothed_cross_entropy_matches_torchreid_formula():
    torch.manual_seed(2)
    logits, pids = torch.randn(4, 6), torch.tensor([0, 5, 2, 2])
    target = torch.full((4, 6), 0.1 / 6)
    target[torch.arange(4), pids] += 0.9
    expected = (-target * F.log_softmax(logits, 1)).sum(1).mean()
    assert torch.allclose(smoothed_cross_entropy(logits, pids, 0.1), expected, atol=1e-6)
