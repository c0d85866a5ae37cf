"""dlsr: single-image 3D reconstruction with Deep Level Sets (Michalkiewicz et al., ICCV 2019).

The entry points are re-exported lazily, so `import dlsr` (and `dlsr --help`) stays fast: torch, trimesh and
scikit-image load only when a function that needs them is first used.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_model": "dlsr.pipeline",
    "reconstruct": "dlsr.pipeline",
    "predict_sdf": "dlsr.pipeline",
    "extract_mesh": "dlsr.mesh",
    "save_mesh": "dlsr.mesh",
    "load_image": "dlsr.image",
    "Grid": "dlsr.sdf",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'dlsr' has no attribute {name!r}")
