"""Old import path of `dlsr.mesh_input` (reading users' meshes): kept for now, goes away later."""

from dlsr.mesh_input import *  # noqa: F403
from dlsr.mesh_input import __all__ as __all__
