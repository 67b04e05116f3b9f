"""rganet-reid: RGANet (Region Generation and Assessment Network) as a torchreid extension.

Importing the package registers its datasets, models, engines and losses with torchreid
(see :mod:`rganet_reid.registration`).
"""

from rganet_reid.registration import register_all

__version__ = "0.1.0"

register_all()

__all__ = ["__version__", "register_all"]
