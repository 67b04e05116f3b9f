"""Figures of a trained model (matplotlib): Fig. 4's regions and confidences."""

from rganet_reid.visualization.regions import (
    RegionView,
    draw_region_views,
    most_occluded,
    overlay_mask,
    region_views,
)

__all__ = ["RegionView", "draw_region_views", "most_occluded", "overlay_mask", "region_views"]
