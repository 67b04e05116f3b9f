"""Offline stand-in for CLIP weights: part-aligned pre-training on SynthOcc."""

from rganet_reid.pretrain.local_weights import LOCAL_TAG, resolve_pretrained

__all__ = ["LOCAL_TAG", "resolve_pretrained"]
