"""Domain errors: every failure a user can cause, with a message that says what to do.

The CLI turns any `DlsrError` into one line on stderr and exit code 1; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations


class DlsrError(Exception):
    """Base class of the errors a user can cause and fix (bad file, bad option, bad weights)."""


class ConfigError(DlsrError):
    """An option or config value is unknown or out of range."""


class WeightsError(DlsrError):
    """A weights file is missing, corrupt, of an unknown format or does not match its model."""


class InputImageError(DlsrError):
    """An input image is missing, unreadable, empty or unusable."""


class EmptySurfaceError(DlsrError):
    """The signed distance field never crosses the requested level, so there is no surface to mesh."""


class OutputError(DlsrError):
    """An output cannot be written (missing or unwritable folder, existing file, unknown format, full disk)."""


class DatasetError(DlsrError):
    """A dataset file or folder (camera metadata, voxels, meshes, split lists) is missing, malformed or inconsistent."""


class MissingDependencyError(DlsrError):
    """An optional dependency needed by the requested feature is not installed (e.g. the `dlsr[data]` extra)."""


class MeshError(DlsrError):
    """A mesh file or folder is missing, unreadable, empty, not a mesh, or not usable as a shape."""


class TrainingError(DlsrError):
    """A training run cannot go on: its loss or weights stopped being finite numbers."""
