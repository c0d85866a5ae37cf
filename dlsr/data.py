"""Old import path of `dlsr.image` (preparing input images): kept for now, goes away later."""

from dlsr.image import *  # noqa: F403
from dlsr.image import __all__ as __all__
