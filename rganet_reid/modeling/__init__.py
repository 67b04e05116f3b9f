"""RGANet model: CLIP ViT image encoder, text prototypes, RGM, RAM and heads.

Public entry points: :func:`build_rganet` (config → model) and ``MODEL_CONSTRUCTORS``
(torchreid-style constructors by model name, for torchreid's model factory). Importing this
package registers the JSON model configs of ``model_configs/`` (e.g. ``RGANet-Tiny-ViT``) with
open_clip.
"""

from rganet_reid.modeling.clip_backbone import (
    PretrainedWeightsError,
    create_clip,
    load_clip_state_dict,
    load_clip_weights,
    read_clip_checkpoint,
    register_model_configs,
)
from rganet_reid.modeling.factory import MODEL_CONSTRUCTORS, PRESET_ARCHS, build_rganet
from rganet_reid.modeling.image_encoder import CLIPImageEncoder
from rganet_reid.modeling.prompt import (
    PART_NAMES,
    TABLE_VI_TEMPLATES,
    PromptLearner,
    TextEncoder,
)
from rganet_reid.modeling.ram import DiscriminationIndicator, MemoryBank, combine_confidence
from rganet_reid.modeling.rganet import RGANet
from rganet_reid.modeling.rgm import (
    RegionGenerationModule,
    masked_average_pool,
    prototype_logits,
    stripe_features,
    stripe_masks,
)

__all__ = [
    "MODEL_CONSTRUCTORS",
    "PART_NAMES",
    "PRESET_ARCHS",
    "TABLE_VI_TEMPLATES",
    "CLIPImageEncoder",
    "DiscriminationIndicator",
    "MemoryBank",
    "PretrainedWeightsError",
    "PromptLearner",
    "RGANet",
    "RegionGenerationModule",
    "TextEncoder",
    "build_rganet",
    "combine_confidence",
    "create_clip",
    "load_clip_state_dict",
    "load_clip_weights",
    "masked_average_pool",
    "prototype_logits",
    "read_clip_checkpoint",
    "register_model_configs",
    "stripe_features",
    "stripe_masks",
]
