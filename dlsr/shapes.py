"""Old import path of `dlsr.synth.shapes` (the procedural objects): kept for now, goes away later."""

from dlsr.synth.shapes import *  # noqa: F403
from dlsr.synth.shapes import __all__ as __all__
