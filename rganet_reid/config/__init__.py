"""Configuration: one defaults file, YAML overrides with ``_BASE_``, command-line ``KEY VALUE``."""

from rganet_reid.config.defaults import get_default_config
from rganet_reid.config.loader import ConfigError, load_config, load_yaml_with_base, merge_opts

__all__ = ["ConfigError", "get_default_config", "load_config", "load_yaml_with_base", "merge_opts"]
