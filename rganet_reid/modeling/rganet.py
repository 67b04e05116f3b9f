"""RGANet: CLIP ViT + Region Generation Module + Region Assessment Module (paper §III).

Forward contract (the engine, the losses and the evaluation rely on it):

* train mode, stage 2 — ``model(imgs)`` returns a dict with ``global_feat`` (B, d, pre-BN),
  ``global_logits`` (B, C); with regions: ``region_feats`` (B, N, d, pre-BN),
  ``region_logits`` (B, N, C), ``weights`` w (B, N), ``alpha`` (B, N, DAI on), ``beta``
  (B, N, IAI on), ``iai_similarity`` cos(F_j^r, C_k) (B, N, N, IAI on) and ``mask_logits``
  (B, N+1, H, W) = γ·cos(F, p_k) before the softmax of Eq. 1 (RGM only). Keys of
  switched-off parts are absent.
* train mode, stage 1 (prompt learning) — only ``mask_logits`` (what L_seg needs); the frozen
  image encoder runs without autograd.
* eval mode — ``global_feat`` (B, d), ``region_feats`` (B, N, d) or None, ``region_weights``
  (B, N) or None (the w of Eq. 10), plus ``alpha`` / ``beta`` / ``iai_similarity`` /
  ``mask_logits`` when present (for evaluation against ground truth and visualisation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import torch
from torch import nn

from rganet_reid.modeling.heads import GlobalHead, RegionHeads
from rganet_reid.modeling.image_encoder import CLIPImageEncoder
from rganet_reid.modeling.prompt import PromptLearner
from rganet_reid.modeling.ram import (
    CONFIDENCE_MODES,
    IAI_MODES,
    DiscriminationIndicator,
    MemoryBank,
    combine_confidence,
    invariance_from_similarity,
)
from rganet_reid.modeling.rgm import RegionGenerationModule, stripe_features

logger = logging.getLogger(__name__)

REGION_MODES = ("none", "stripes", "rgm")
#: A sum over data-parallel processes (identity for one process), given by the engine.
Reduce = Callable[[torch.Tensor], torch.Tensor]


class RGANet(nn.Module):
    """Region Generation and Assessment Network.

    ``classifier_keys`` names the tensors sized by the number of training identities (the
    global classifier and the N region classifiers W_b^j): a weight loader lets them differ
    when loading a checkpoint trained on other identities.

    Args:
        image_encoder: :class:`CLIPImageEncoder` (weights loaded).
        num_classes: training identities C.
        regions: ``"none"`` (global baseline), ``"stripes"`` or ``"rgm"``.
        num_regions: N.
        prompt: the :class:`PromptLearner` (``regions="rgm"`` only).
        gamma: γ of Eq. 1.
        dai / iai: discrimination- / invariance-aware indicators on or off.
        dai_per_region: one DAI layer per region instead of one shared (not in the paper).
        confidence: ``"softmax_sum"`` or ``"mean"`` (see :func:`combine_confidence`).
        iai_mode / iai_temperature: how β is read from the region-to-centre cosines, and τ
            (see :func:`~rganet_reid.modeling.ram.invariance_from_similarity`).
        memory_momentum / alpha_threshold: m_u and the α threshold of Eq. 5.
        neck_feat: eval features ``"before"`` or ``"after"`` the BNNeck.
        region_weight_scale: c of the eval output ``region_weights = c·w`` (what Eq. 10
            receives; ``confidence`` is w itself). 1 = Eq. 10 as written.
        stage1_train_background: also train p_0 in stage 1.
        detach_masks: region pooling passes no gradient into the masks (only L_seg trains them).
    """

    classifier_keys: tuple[str, ...] = ("global_head.classifier", "region_heads.weight")

    def __init__(
        self,
        image_encoder: CLIPImageEncoder,
        num_classes: int,
        regions: str = "rgm",
        num_regions: int = 4,
        prompt: PromptLearner | None = None,
        gamma: float = 20.0,
        dai: bool = True,
        dai_per_region: bool = False,
        iai: bool = True,
        confidence: str = "softmax_sum",
        iai_mode: str = "regions",
        iai_temperature: float = 1.0,
        memory_momentum: float = 0.3,
        alpha_threshold: float = 0.85,
        neck_feat: str = "before",
        region_weight_scale: float = 1.0,
        stage1_train_background: bool = False,
        detach_masks: bool = False,
    ) -> None:
        super().__init__()
        if regions not in REGION_MODES:
            raise ValueError(f"rganet.regions must be one of {REGION_MODES}, got {regions!r}")
        if confidence not in CONFIDENCE_MODES:
            raise ValueError(
                f"rganet.confidence must be one of {CONFIDENCE_MODES}, got {confidence!r}"
            )
        if iai_mode not in IAI_MODES:
            raise ValueError(f"rganet.iai_mode must be one of {IAI_MODES}, got {iai_mode!r}")
        if iai_temperature <= 0:
            raise ValueError(f"rganet.iai_temperature must be > 0, got {iai_temperature}")
        if not region_weight_scale > 0:
            raise ValueError("rganet.region_weight_scale must be > 0 (the scale of the "
                             f"confidences in Eq. 10), got {region_weight_scale}")
        if neck_feat not in ("before", "after"):
            raise ValueError(f"rganet.neck_feat must be 'before' or 'after', got {neck_feat!r}")
        if regions == "rgm" and prompt is None:
            raise ValueError("regions='rgm' needs a PromptLearner")
        if regions != "none" and num_regions < 1:
            raise ValueError(f"rganet.num_regions must be >= 1, got {num_regions}")
        dim = image_encoder.out_dim
        self.image_encoder = image_encoder
        self.num_classes = num_classes
        self.regions = regions
        self.num_regions = num_regions if regions != "none" else 0
        self.confidence = confidence
        self.iai_mode = iai_mode
        self.iai_temperature = float(iai_temperature)
        self.neck_feat = neck_feat
        self.region_weight_scale = float(region_weight_scale)
        self.stage1_train_background = stage1_train_background
        self.feat_dim = dim
        self.global_head = GlobalHead(dim, num_classes)
        self.prompt = prompt if regions == "rgm" else None
        self.rgm = RegionGenerationModule(dim, gamma, detach_masks) if regions == "rgm" else None
        has_regions = regions != "none"
        self.dai = (DiscriminationIndicator(dim, num_regions if dai_per_region else 0)
                    if has_regions and dai else None)
        self.memory = (
            MemoryBank(num_regions, dim, memory_momentum, alpha_threshold)
            if has_regions and iai else None
        )
        self.region_heads = RegionHeads(num_regions, dim, num_classes) if has_regions else None
        self.stage = 2
        self.apply_trainability()

    # ------------------------------------------------------------------ stages
    def prompt_parameters(self) -> list[nn.Parameter]:
        """Stage-1 trainable parameters: the context vectors (+ p_0 if configured)."""
        if self.prompt is None or self.prompt.ctx is None or self.prompt.is_frozen:
            return []
        params = [self.prompt.ctx]
        if self.stage1_train_background:
            params.append(self.rgm.bg_prototype)
        return params

    def set_stage(self, stage: int) -> None:
        """1: prompt learning (only :meth:`prompt_parameters` train); 2: ReID training.

        Entering stage 2 caches the prototypes and drops the text encoder
        (:meth:`freeze_prototypes`).
        """
        if stage == 1 and not self.prompt_parameters():
            raise ValueError(
                "Stage 1 trains learnable prompt context; this model has none "
                f"(regions={self.regions!r}, prompt mode "
                f"{getattr(self.prompt, 'mode', None)!r}, frozen="
                f"{self.prompt.is_frozen if self.prompt else None})."
            )
        if stage not in (1, 2):
            raise ValueError(f"stage must be 1 or 2, got {stage}")
        if stage == 2:
            self.freeze_prototypes()
        self.stage = stage
        self.apply_trainability()

    def apply_trainability(self) -> None:
        """Set ``requires_grad`` for the current stage (call again after ``open_all_layers``).

        Always frozen: the text encoder, the BNNeck shifts. Stage 1: everything but the prompt
        parameters. Stage 2: everything but the context vectors.
        """
        prompt_params = {id(p) for p in self.prompt_parameters()}
        for p in self.parameters():
            p.requires_grad_(self.stage == 2 or id(p) in prompt_params)
        if self.prompt is not None:
            if self.prompt.text_encoder is not None:
                self.prompt.text_encoder.requires_grad_(False)
            if self.prompt.ctx is not None:
                self.prompt.ctx.requires_grad_(self.stage == 1 and id(self.prompt.ctx)
                                               in prompt_params)
        self.global_head.bottleneck.bias.requires_grad_(False)
        if self.region_heads is not None:
            self.region_heads.bottleneck.bias.requires_grad_(False)

    def freeze_prototypes(self) -> None:
        """Cache the text prototypes and drop the text encoder (no-op without RGM)."""
        if self.prompt is not None:
            self.prompt.freeze()

    def adapt_to_state_dict(self, state_dict: dict) -> None:
        """Make ``self.state_dict()`` keys match a checkpoint before a key-by-key comparison.

        A checkpoint written after :meth:`freeze_prototypes` has cached prototypes and no text
        encoder; a freshly built model has the text encoder. ``load_state_dict`` handles this by
        itself; call this first when comparing key sets (e.g. a strict weight loader).
        """
        frozen = state_dict.get("prompt.frozen")
        if self.prompt is not None and frozen is not None and bool(frozen):
            self.prompt.drop_text_encoder()

    def prototypes(self) -> torch.Tensor:
        """Part prototypes p_1..p_N ``(N, d)`` (cached once frozen)."""
        if self.prompt is None:
            raise RuntimeError(f"regions={self.regions!r} has no prototypes")
        if self.prompt.is_frozen:
            return self.prompt.cached
        ctx_trains = self.prompt.ctx is not None and self.prompt.ctx.requires_grad
        with torch.set_grad_enabled(torch.is_grad_enabled() and ctx_trains):
            return self.prompt()

    # ------------------------------------------------------------------ forward
    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor | None]:
        if self.training and self.stage == 1:
            return self._forward_stage1(images)
        feature_map = self.image_encoder(images)
        global_feat = feature_map.mean(dim=(2, 3))  # F_g = GAP(F)
        global_bn, global_logits = self.global_head(global_feat)
        out: dict[str, torch.Tensor | None] = {}
        if self.training:
            out.update(global_feat=global_feat, global_logits=global_logits)
        else:
            out["global_feat"] = global_feat if self.neck_feat == "before" else global_bn
        if self.regions == "none":
            if not self.training:
                out.update(region_feats=None, region_weights=None)
            return out
        if self.regions == "rgm":
            mask_logits, region_feats = self.rgm(feature_map, self.prototypes())
            out["mask_logits"] = mask_logits
        else:
            region_feats = stripe_features(feature_map, self.num_regions)
        alpha = self.dai(region_feats) if self.dai is not None else None
        beta = None
        if self.memory is not None:
            similarity = self.memory.similarity(region_feats)
            beta = invariance_from_similarity(similarity, self.iai_mode, self.iai_temperature)
            out["iai_similarity"] = similarity
        weights = combine_confidence(alpha, beta, self.confidence, self.num_regions,
                                     reference=region_feats)
        if alpha is not None:
            out["alpha"] = alpha
        if beta is not None:
            out["beta"] = beta
        region_bn, region_logits = self.region_heads(region_feats)
        if self.training:
            out.update(region_feats=region_feats, region_logits=region_logits, weights=weights)
        else:
            out.update(region_feats=region_feats if self.neck_feat == "before" else region_bn,
                       region_weights=weights * self.region_weight_scale, confidence=weights)
        return out

    def _forward_stage1(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        encoder_trains = any(p.requires_grad for p in self.image_encoder.parameters())
        with torch.set_grad_enabled(encoder_trains and torch.is_grad_enabled()):
            feature_map = self.image_encoder(images)
        mask_logits, _ = self.rgm(feature_map, self.prototypes())
        return {"mask_logits": mask_logits}

    # ------------------------------------------------------------------ memory bank
    @torch.no_grad()
    def update_memory(self, outputs: dict, reduce: Reduce | None = None) -> torch.Tensor | None:
        """Eq. 5 after a stage-2 step, from the step's outputs (no-op without IAI); ``reduce``
        sums the batch statistics over data-parallel processes (:meth:`MemoryBank.update`)."""
        if self.memory is None or outputs.get("region_feats") is None:
            return None
        return self.memory.update(outputs["region_feats"], outputs.get("alpha"), reduce)

    @torch.no_grad()
    def init_memory_bank(
        self, loader: Iterable, device: torch.device | str | None = None, max_batches: int = 0,
        reduce: Reduce | None = None,
    ) -> int:
        """Initialise the class centres with fixed-stripe features of the training set (§III-D).

        One forward pass (eval mode) over ``loader`` (batches: dicts with ``img``, tuples whose
        first item is the images, or image tensors); C_j = mean over images of the j-th stripe
        feature. ``max_batches`` > 0 stops early. ``reduce`` sums the feature sums and the
        image count over data-parallel processes (each passing over its own share of the
        training set) before the mean. Returns the number of images seen (by all processes).
        """
        if self.memory is None:
            return 0
        device = torch.device(device) if device is not None else self.global_head.classifier \
            .weight.device
        was_training = self.training
        self.eval()
        total = torch.zeros_like(self.memory.centers, dtype=torch.float64)
        count = 0
        try:
            for i, batch in enumerate(loader):
                if max_batches and i >= max_batches:
                    break
                images = _batch_images(batch).to(device)
                feats = stripe_features(self.image_encoder(images), self.num_regions)
                total += feats.double().sum(dim=0)
                count += feats.shape[0]
        finally:
            self.train(was_training)
        if reduce is not None:
            total, count = reduce(total), int(reduce(torch.tensor(count)))
        if count == 0:
            raise ValueError("init_memory_bank got an empty loader")
        self.memory.initialize((total / count).to(self.memory.centers.dtype))
        logger.info("Memory bank initialised from fixed-stripe features of %d images", count)
        return count


def _batch_images(batch) -> torch.Tensor:
    if isinstance(batch, dict):
        return batch["img"]
    if isinstance(batch, (list, tuple)):
        return batch[0]
    return batch
