"""The ``rganet`` configuration section: every RGANet hyper-parameter (paper section IV-B).

Defaults are the paper's settings (N=4 regions, γ=20, K=8 context vectors, m_u=0.3, α threshold
0.85, 30 prompt epochs with Adam 5e-5). The stage-2 optimiser and schedule (Adam 5e-5, wd 5e-4,
×0.1 at epochs 40/70, 120 epochs) live in the ordinary ``train`` / ``adam`` sections, set by
the project YAML files. Every ablation of the paper is a change of these keys:

* Table V — ``regions`` none (plain CLIP-ViT baseline: global ID + triplet) / stripes / rgm,
  × ``dai`` on/off × ``iai`` on/off;
* Table VI — ``prompt.mode`` learnable, or ``template`` with ``prompt.template`` one of
  :data:`rganet_reid.modeling.prompt.TABLE_VI_TEMPLATES`;
* Fig. 3 — ``num_regions`` (N, with the paper's name lists), ``gamma``, ``prompt.n_ctx`` (K),
  ``memory.momentum`` (m_u).
"""

from __future__ import annotations

from yacs.config import CfgNode as CN


def add_rganet_config(cfg: CN) -> None:
    """Add the ``rganet`` section to ``cfg`` (defaults = the paper's settings)."""
    cfg.rganet = CN()

    # ------------------------------------------------------------ image encoder (CLIP ViT)
    # Any open_clip ViT architecture name ("ViT-B-16" in the paper, "RGANet-Tiny-ViT" for CPU
    # runs and tests). "" = the architecture of the model.name preset: rganet / rganet_vit_b16
    # → ViT-B-16, rganet_tiny → RGANet-Tiny-ViT.
    cfg.rganet.clip_arch = ""
    # QuickGELU activations. True for OpenAI's CLIP weights (the paper's); False for most
    # LAION / DataComp open_clip weights. With an open_clip tag in model.pretrained the tag's own
    # setting is used instead.
    cfg.rganet.quick_gelu = True
    # Patch-embedding stride. 0 = the patch size (no overlap, the paper's setting). A smaller
    # value gives TransReID-style overlapping patches (e.g. 12 for ViT-B-16); the position
    # embedding is resampled to the larger grid.
    cfg.rganet.patch_stride = 0
    # Which feature feeds retrieval (eval mode), as in BoT/TransReID: "before" the BNNeck
    # (the triplet-loss feature) or "after" it (the classifier's input). Training always uses
    # the pre-BN features for the triplet loss and the BN features for the classifiers.
    cfg.rganet.neck_feat = "before"

    # ------------------------------------------------------------ regions (Table V)
    # "none": plain CLIP-ViT baseline, global feature only (ID + triplet loss);
    # "stripes": N fixed horizontal stripes of the feature map (PCB-like);
    # "rgm": the Region Generation Module (text prototypes → masks, Eq. 1–2).
    cfg.rganet.regions = "rgm"
    cfg.rganet.num_regions = 4  # N (Fig. 3a: 2, 3, 4 or 5)
    # Part names fed to the text encoder. [] = the paper's list for num_regions:
    #   2: upper body, lower body          3: head, upper body, lower body
    #   4: head, upper body, lower body, foot   5: the four + "bags"
    # A non-empty list must have num_regions entries.
    cfg.rganet.part_names = []
    cfg.rganet.gamma = 20.0  # γ, amplification of the cosine similarities in Eq. 1

    # ------------------------------------------------------------ prompts (Table VI)
    cfg.rganet.prompt = CN()
    # "learnable": [V]_1..[V]_K [CLASS]. (CoOp context vectors, trained in stage 1 with L_seg);
    # "template": a hand-crafted template, no prompt training and no masks needed.
    cfg.rganet.prompt.mode = "learnable"
    # Used when mode = template; must contain "[CLASS]". Table VI's templates:
    #   "a photo of a [CLASS]."    "a person photo of a [CLASS]."
    #   "a photo of a [CLASS] part of a person."    "a [CLASS] part of a person." (best)
    cfg.rganet.prompt.template = "a [CLASS] part of a person."
    cfg.rganet.prompt.n_ctx = 8  # K, number of learnable context vectors
    # "" = context vectors drawn from N(0, 0.02²) (CoOp's generic context). Or a phrase of
    # exactly n_ctx tokens whose word embeddings initialise them (e.g. "a photo of a" for K=4).
    cfg.rganet.prompt.ctx_init = ""

    # ------------------------------------------------------------ region assessment (RAM)
    cfg.rganet.dai = True  # discrimination-aware indicator α (Eq. 4)
    # One DAI layer per region (W_a^j) instead of the paper's one shared layer.
    cfg.rganet.dai_per_region = False
    cfg.rganet.iai = True  # invariance-aware indicator β (Eq. 6) with the memory bank (Eq. 5)
    # How α and β combine into the confidence w: "softmax_sum" = softmax_j(α_j + β_j) (the
    # text); "mean" = (α_j + β_j) / 2 (Fig. 4's numbers; not normalised over regions; default:
    # measured best, projects/RGANet/README.md "Where the paper's text and figures disagree").
    # With one indicator off only the other enters; with both off every w_j = 1/N (softmax_sum)
    # or 1 (mean).
    cfg.rganet.confidence = "mean"
    # How β (Eq. 6) is read from the cosines cos(F_j^r, C_k) of region features to the class
    # centres: "regions" = softmax over the regions j of cos(F_j^r, C_j)/τ (the text: β sums
    # to 1 over an image's regions); "centres" = softmax over the centres k of cos(F_j^r, C_k)/τ
    # taken at k = j (how much region j looks like its own class rather than another; Fig. 4's
    # β values 0.85, 0.90, 0.08, 0.03 do not sum to 1; default: measured best).
    cfg.rganet.iai_mode = "centres"
    cfg.rganet.iai_temperature = 0.1  # τ of iai_mode (1 with "regions" = the text)
    # The scale c of the confidences that Eq. 10 receives: the model outputs
    # region_weights = c·w (and w itself as `confidence`). Eq. 10 is applied unchanged; with
    # c·w it equals Eq. 10 with the global distance weighted 1/c² against the regions
    # (docs/retrieval.md). 1 = the paper as written. Default 8: chosen on held-out identities
    # (a second SynthOcc world, data.synthocc.seed 1) with the synthocc-clip-v2 checkpoints,
    # never on a test set; measured in projects/RGANet/README.md "Where the paper's text and
    # figures disagree". Training (L_ram, the weighted triplet) always uses the unscaled w, so
    # the benchmark re-evaluates (never retrains) a run when only c changes.
    cfg.rganet.region_weight_scale = 8.0
    cfg.rganet.memory = CN()
    cfg.rganet.memory.momentum = 0.3  # m_u in Eq. 5
    cfg.rganet.memory.alpha_threshold = 0.85  # only regions with α_j above this update C_j
    # Batches of the training set used to initialise the class centres with fixed-stripe
    # features before stage 2 (0 = the whole training set, as in the paper).
    cfg.rganet.memory.init_batches = 0

    # ------------------------------------------------------------ losses
    # Whether the confidence w is detached in L_ram (Eq. 7). False (the text): L_ram's gradient
    # reaches α and β; with an unnormalised w (confidence mean) it only pushes every w towards
    # 0, so the default detaches it and the DAI learns from dai_target instead.
    cfg.rganet.detach_weights = True
    # What trains the DAI (α, Eq. 4) besides L_ram: "weight" = nothing (α learns only through
    # w in L_ram, the text as written); "self" = binary cross-entropy towards the region
    # classifier's own detached probability of the true identity (the "self-learning manner"
    # of §I); "relative" = that probability divided by the global classifier's, capped at 1;
    # "mask" = the visible share of the region's part in the training image's part mask (the
    # masks L_seg already reads; occluders and erased boxes are 0), min(1, 2 pixels /
    # batch median), class-balanced — not in the paper (losses/dai_loss.py).
    cfg.rganet.dai_target = "relative"
    cfg.rganet.dai_loss_weight = 1.0  # weight of that loss in Eq. 8 (dai_target != weight)
    # Weight each anchor's region triplet term by its confidence w_j (detached, weighted mean);
    # False = Eq. 8 (unweighted).
    cfg.rganet.region_triplet_weighted = False
    # Whether the masks S of Eq. 1 pass gradient to the encoder and prototypes through the
    # region pooling of Eq. 2. False (the paper): every loss of Eq. 8 also shapes the masks.
    # True: only L_seg does (needs rganet.seg.weight_stage2 > 0) — measured necessary when the
    # encoder fine-tunes at a from-scratch learning rate, where the ReID losses otherwise pull
    # every mask towards global pooling (all pixels background, regions = the global feature).
    cfg.rganet.detach_masks = False
    cfg.rganet.seg = CN()
    # L_seg weight in stage 2 (Eq. 8 has none: 0.0). Set > 0 to keep supervising the masks while
    # the encoder trains, e.g. when the encoder starts from random weights (no CLIP checkpoint),
    # where text prototypes alone cannot locate parts.
    cfg.rganet.seg.weight_stage2 = 0.0
    # Pixel CE over the N+1 classes (background 0 included; the brief's reading of Eq. 3).
    # False = Eq. 3 literally: only pixels labelled 1..N enter the sum.
    cfg.rganet.seg.include_background = True
    # How the image-size part mask is brought to the feature grid: "majority" (most frequent
    # label in each cell) or "nearest".
    cfg.rganet.seg.downsample = "majority"
    # Where L_seg compares: "grid" = on the feature grid (the mask downsampled as above);
    # "image" = at the mask's own resolution, the mask logits upsampled bilinearly (parts
    # smaller than a grid cell, e.g. feet, then still count).
    cfg.rganet.seg.resolution = "grid"
    # Cross-entropy weight of each class, background first (N+1 values); [] = all 1. Small
    # parts (head, feet: ~2 % and ~1 % of a SynthOcc image) otherwise barely count.
    cfg.rganet.seg.class_weights = []
    cfg.rganet.seg.ignore_index = 255  # mask label for unknown pixels (excluded from L_seg)
    # Map the dataset's mask labels to region indices: label_map[i] = target of label i
    # ([] = identity). E.g. 4-part masks (0 bg, 1 head, 2 upper, 3 lower, 4 foot) for N=2
    # (upper body, lower body): [0, 1, 1, 2, 2].
    cfg.rganet.seg.label_map = []

    # ------------------------------------------------------------ stage 1: prompt learning
    cfg.rganet.stage1 = CN()
    cfg.rganet.stage1.max_epoch = 30  # 0 skips the stage
    cfg.rganet.stage1.optim = "adam"
    cfg.rganet.stage1.lr = 5e-5
    cfg.rganet.stage1.weight_decay = 0.0
    # The paper trains only the context vectors; True also trains the background prototype p0
    # with L_seg (otherwise p0 learns in stage 2 only).
    cfg.rganet.stage1.train_background = False
