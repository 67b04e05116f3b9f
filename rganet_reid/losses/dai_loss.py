"""What the discrimination-aware indicator (DAI, Eq. 4) learns from: a self-learning target.

The paper (§I, §III-D): the DAI "uses a self-learning manner to measure the discrimination
capability, i.e., whether this region can help to distinguish different identities", and
"when the quality of the given feature is not satisfactory, the network will produce a small
w_j". Taken literally through Eq. 7 alone, α learns only from L_ram = −w_j log p_j(y): with a
confidence normalised over regions (softmax) that moves weight towards the regions the
classifiers already fit best; with an unnormalised confidence (Fig. 4's mean of α and β),
−w_j log p_j(y) is minimised by w_j → 0 for every region, so α learns nothing useful either way.

The self-learning reading makes the network's own evidence the target: region j's classifier
(W_b^j of Eq. 7) says how well region j identifies the person, and α_j is trained to predict
that, with the target detached (binary cross-entropy):

* ``self``: t_j = softmax(W_b^j F_j^r)[y], the region classifier's probability of the true
  identity;
* ``relative``: t_j = min(1, p_j(y) / p_g(y)), the same probability relative to the global
  classifier's on the whole image — "can this region identify the person as well as the
  whole image can" — which is scale-free: it does not wait for the classifiers to become
  confident, so α of the visible regions reaches Eq. 5's threshold from the first epoch.

``weight`` (no loss here) is the literal reading.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from yacs.config import CfgNode

from rganet_reid.losses.registry import LOSSES

DAI_TARGETS = ("weight", "self", "relative")


def dai_target(region_logits: torch.Tensor, pids: torch.Tensor, kind: str,
               global_logits: torch.Tensor | None = None) -> torch.Tensor:
    """The detached self-learning target t ``(B, N)`` of the DAI (see the module docstring).

    ``region_logits`` ``(B, N, C)``, ``pids`` ``(B,)``; ``global_logits`` ``(B, C)`` for
    ``relative``.
    """
    if kind not in DAI_TARGETS[1:]:
        raise ValueError(f"A DAI target is one of {DAI_TARGETS[1:]}, got {kind!r}")
    with torch.no_grad():
        b, n, _ = region_logits.shape
        index = pids.view(b, 1, 1).expand(b, n, 1)
        p_region = region_logits.float().softmax(dim=-1).gather(-1, index).squeeze(-1)
        if kind == "self":
            return p_region
        if global_logits is None:
            raise ValueError("the 'relative' DAI target needs the global logits")
        p_global = global_logits.float().softmax(dim=-1).gather(-1, pids.view(b, 1))
        return (p_region / p_global.clamp_min(1e-12)).clamp(max=1.0)


@LOSSES.register("dai")
class DiscriminationTargetLoss(nn.Module):
    """BCE(α_j, t_j) averaged over images and regions, t the detached :func:`dai_target`.

    Args:
        target: ``self`` or ``relative`` (``rganet.dai_target``).
    """

    def __init__(self, target: str = "self") -> None:
        super().__init__()
        if target not in DAI_TARGETS[1:]:
            raise ValueError(f"rganet.dai_target for a DAI loss must be one of "
                             f"{DAI_TARGETS[1:]}, got {target!r}")
        self.target = target

    @classmethod
    def from_config(cls, cfg: CfgNode, num_classes: int = 0) -> DiscriminationTargetLoss:
        return cls(cfg.rganet.dai_target)

    def forward(self, alpha: torch.Tensor, region_logits: torch.Tensor, pids: torch.Tensor,
                global_logits: torch.Tensor | None = None) -> torch.Tensor:
        """``alpha`` (B, N) in (0, 1), ``region_logits`` (B, N, C), ``pids`` (B,) → scalar."""
        target = dai_target(region_logits, pids, self.target, global_logits)
        return F.binary_cross_entropy(alpha.float(), target)
