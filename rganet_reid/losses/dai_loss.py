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

Measured on SynthOcc, neither target sees occlusion: a ViT's patch tokens carry the whole
image's identity, so a region pooled over an occluder still classifies the person, its target
stays high, and α ranks hidden parts *above* visible ones (AUROC 0.38). A third target reads
the training image's part mask instead — the same (pseudo) masks Eq. 3 already needs:

* ``mask``: t_j = min(1, 2 n_j / median_b n_j), the pixels n_j of region j's part in the
  (augmented) training mask over half the batch median of that count: a part that shows at
  least half its usual size is visible (1; the AUROC's threshold), less is the visible share
  of that (occluders and erased boxes are labelled 0); "lower scores to the background or
  occluded regions" (§III-D) as a supervised target, with a class-balanced BCE (hidden
  parts are rare). Not in the paper. Visible parts reach α ≈ 1, above Eq. 5's threshold,
  so the memory bank keeps updating.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from yacs.config import CfgNode

from rganet_reid.losses.registry import LOSSES
from rganet_reid.losses.seg_loss import SegmentationLoss

#: Targets read from the classifiers (:func:`dai_target`).
CLASSIFIER_TARGETS = ("self", "relative")
DAI_TARGETS = ("weight", *CLASSIFIER_TARGETS, "mask")


def mask_visibility(region_labels: torch.Tensor, num_regions: int) -> torch.Tensor:
    """The ``mask`` target ``(B, N)``: min(1, n_j / (half the median over the batch of n_j)).

    ``region_labels`` ``(B, H, W)``: 0 = background / occluder, 1..N = regions (any other
    label, e.g. the unknown 255, counts for no region). A region absent from at least half
    of the batch (median 0) gets 1 where it has any pixel, else 0.
    """
    labels = region_labels.long()
    counts = torch.stack([(labels == j).flatten(1).sum(1) for j in range(1, num_regions + 1)],
                         dim=1).float()  # (B, N)
    reference = counts.median(dim=0).values
    ratio = 2.0 * counts / reference.clamp_min(1.0)
    return torch.where(reference > 0, ratio, (counts > 0).float()).clamp(max=1.0)


def dai_target(region_logits: torch.Tensor, pids: torch.Tensor, kind: str,
               global_logits: torch.Tensor | None = None) -> torch.Tensor:
    """The detached self-learning target t ``(B, N)`` of the DAI (see the module docstring).

    ``region_logits`` ``(B, N, C)``, ``pids`` ``(B,)``; ``global_logits`` ``(B, C)`` for
    ``relative``.
    """
    if kind not in CLASSIFIER_TARGETS:
        raise ValueError(f"A classifier DAI target is one of {CLASSIFIER_TARGETS}, got {kind!r}")
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


def balanced_bce(alpha: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BCE(α, t) in which the hidden regions (t < 0.5) of the batch weigh as much in total as
    the visible ones: hidden parts are rare in training (a few % of the regions), and an
    unweighted BCE learns to rank them (AUROC) but leaves their α near the visible ones'.
    Without a hidden region in the batch it is the plain mean BCE."""
    hidden = target < 0.5
    n_hidden = int(hidden.sum())
    if n_hidden == 0 or n_hidden == target.numel():
        return F.binary_cross_entropy(alpha, target)
    weight = torch.where(hidden, (target.numel() - n_hidden) / n_hidden, 1.0)
    per_region = F.binary_cross_entropy(alpha, target, reduction="none")
    return (weight * per_region).sum() / weight.sum()


@LOSSES.register("dai")
class DiscriminationTargetLoss(nn.Module):
    """BCE(α_j, t_j) averaged over images and regions, t the detached :func:`dai_target`.

    With ``mask`` the target is :func:`mask_visibility` of the batch's part masks, read
    through ``remap`` (L_seg's label handling, ``rganet.seg.label_map``), and the BCE is
    class-balanced (:func:`balanced_bce`).

    Args:
        target: ``self``, ``relative`` or ``mask`` (``rganet.dai_target``).
        remap: dataset labels → region labels (needed by ``mask``).
    """

    def __init__(self, target: str = "self",
                 remap: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        super().__init__()
        if target not in DAI_TARGETS[1:]:
            raise ValueError(f"rganet.dai_target for a DAI loss must be one of "
                             f"{DAI_TARGETS[1:]}, got {target!r}")
        if target == "mask" and remap is None:
            raise ValueError("the 'mask' DAI target needs the label remapping of L_seg")
        self.target = target
        self.remap = remap

    @property
    def needs_masks(self) -> bool:
        return self.target == "mask"

    @classmethod
    def from_config(cls, cfg: CfgNode, num_classes: int = 0) -> DiscriminationTargetLoss:
        mask_target = cfg.rganet.dai_target == "mask"
        remap = SegmentationLoss.from_config(cfg).remap if mask_target else None
        return cls(cfg.rganet.dai_target, remap)

    def forward(self, alpha: torch.Tensor, region_logits: torch.Tensor, pids: torch.Tensor,
                global_logits: torch.Tensor | None = None,
                masks: torch.Tensor | None = None) -> torch.Tensor:
        """``alpha`` (B, N) in (0, 1), ``region_logits`` (B, N, C), ``pids`` (B,), ``masks``
        (B, H, W) part labels (``mask`` target) → scalar."""
        if self.target == "mask":
            if masks is None:
                raise ValueError("rganet.dai_target 'mask' needs part masks in the batch: set "
                                 "data.load_masks True (and data.mask_root for datasets "
                                 "without masks).")
            target = mask_visibility(self.remap(masks.to(alpha.device)), alpha.shape[1])
            return balanced_bce(alpha.float(), target)
        target = dai_target(region_logits, pids, self.target, global_logits)
        return F.binary_cross_entropy(alpha.float(), target)
