"""Every on-disk format of model weights: self-describing safetensors weights files, where to find them, and the
resumable training states of a run.

A weights file holds the model's tensors plus JSON metadata (safetensors metadata is str -> str):

* ``dlsr.format``      "1", the version of this layout; anything else is refused.
* ``dlsr.arch``        registry name in `dlsr.models.MODELS`.
* ``dlsr.config``      the architecture's config dataclass as JSON; the model is rebuilt from it.
* ``dlsr.grid``        resolution, bound, sign convention, units and frame of the predicted SDF grid.
* ``dlsr.preprocess``  the `dlsr.image.PreprocessConfig` the model was trained with.
* ``dlsr.provenance``  free-form JSON: version, date, commit, data recipe, training command, metrics, licence.
* ``dlsr.level``       optional, JSON number: the iso-level (world units) at which the model's surface is taken
                       unless a user asks for another; absent means 0, the zero level set. A model whose SDF stays a
                       little positive across thin parts is calibrated to a small positive level (weights/README.md).

Loading never executes code (safetensors holds no pickle) and is strict: every tensor must match the rebuilt
model. The header is parsed with the standard library alone, without reading the tensors, so `dlsr info` is cheap;
turning ``dlsr.config`` into its config dataclass imports `dlsr.models`, and with it torch.

A training state (`save_training_state`, `read_training_state`; a run folder's last.pt and best.pt) is a
`torch.save` dict of tensors and JSON-able values only (model, optimiser and scheduler state, position in the run),
read back with ``weights_only=True`` so it too never executes code. It is for resuming a run; `dlsr train export`
turns it into a weights file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlsr.config import config_from_dict, config_to_dict
from dlsr.errors import DlsrError, WeightsError
from dlsr.files import atomic_write
from dlsr.sdf import SIGN_CONVENTION, Grid

if TYPE_CHECKING:
    import torch
    from torch import nn

    from dlsr.image import PreprocessConfig

WEIGHTS_FORMAT = "1"
DEFAULT_WEIGHTS_FILE = "dlsr-dls-64.safetensors"
WEIGHTS_ENV = "DLSR_WEIGHTS"
FRAME = "canonical object frame, y up, bounding box centred with longest side 1"

STATE_FORMAT = "dlsr-train-state-1"

_MAX_HEADER_BYTES = 100_000_000  # safetensors' own limit; a larger header means a corrupt or hostile file


@dataclass(frozen=True)
class WeightsInfo:
    """Everything a weights file says about its model, read from the header alone."""

    path: Path
    arch: str  # registry name in dlsr.models.MODELS
    config: Any  # the architecture's frozen config dataclass
    grid: Grid  # where the predicted SDF samples lie
    preprocess: PreprocessConfig  # how input images must be prepared
    provenance: dict[str, Any] = field(default_factory=dict)  # data, training, metrics, licence
    parameters: int = 0  # number of scalar values stored
    level: float = 0.0  # default iso-level of the surface, world units (`dlsr.level`)

    def sha256(self) -> str:
        """SHA-256 of the whole file, hex."""
        return sha256_file(self.path)


def model_grid(config: Any) -> Grid:
    """The grid a model's output lives on: every registered config has `resolution` and `bound`."""
    return Grid(resolution=config.resolution, bound=config.bound)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_weights(
    model: nn.Module,
    path: str | os.PathLike[str],
    *,
    preprocess: PreprocessConfig,
    grid: Grid | None = None,
    provenance: dict[str, Any] | None = None,
    overwrite: bool = True,
    half: bool = False,
    level: float = 0.0,
) -> Path:
    """Write `model`'s tensors and its self-description to a safetensors file, atomically.

    Args:
        model: a model built by `dlsr.models.build_model` (a `torch.compile` or DDP wrapper is unwrapped).
        path: destination `.safetensors` file.
        grid: the grid the model's output lives on; by default the model's own (`model_grid`), and when given it
            must equal that one.
        preprocess: the image preprocessing the model was trained with.
        provenance: JSON-able facts about how the weights were made (data, command, metrics, licence).
        overwrite: replace an existing file.
        half: store floating-point tensors as float16, halving the file; they are widened back to the model's
            float32 when loaded (`load_state_dict` converts), at a relative rounding of about 5e-4.
        level: the iso-level, world units, at which the model's surface is taken by default (finite, within a
            voxel or two of 0; see `dlsr.level` in the module docstring).
    """
    from safetensors.torch import save

    module: Any = getattr(model, "module", model)  # DistributedDataParallel
    module = getattr(module, "_orig_mod", module)  # torch.compile
    arch, config = module.arch, module.config
    own = model_grid(config)
    if grid is not None and grid != own:
        raise WeightsError(f"grid {grid} differs from the model's output grid {own}")
    _check_level(level, own)
    tensors = {name: tensor.detach().to("cpu").contiguous().clone() for name, tensor in module.state_dict().items()}
    if half:
        tensors = {name: t.half() if t.is_floating_point() else t for name, t in tensors.items()}
    metadata = {
        "dlsr.format": WEIGHTS_FORMAT,
        "dlsr.arch": arch,
        "dlsr.config": json.dumps(config_to_dict(config)),
        "dlsr.grid": json.dumps(_grid_to_dict(own)),
        "dlsr.preprocess": json.dumps(config_to_dict(preprocess)),
        "dlsr.provenance": json.dumps(provenance or {}),
    }
    if level != 0.0:
        metadata["dlsr.level"] = json.dumps(float(level))
    return atomic_write(path, save(tensors, metadata=metadata), overwrite=overwrite)


def read_weights_info(path: str | os.PathLike[str]) -> WeightsInfo:
    """Parse and validate a weights file's header without loading tensors (the config classes import torch).

    Raises:
        WeightsError: the file is missing, not a safetensors file, truncated, of another format version, or its
            metadata is missing or invalid.
    """
    from dlsr.image import PreprocessConfig
    from dlsr.models import make_config

    file = Path(path)
    header = _read_header(file)
    metadata = header.get("__metadata__") or {}
    if "dlsr.format" not in metadata:
        raise WeightsError(f"{file}: a safetensors file but not dlsr weights (no dlsr.format metadata)")
    found = metadata["dlsr.format"]
    if found != WEIGHTS_FORMAT:
        raise WeightsError(
            f"{file}: weights format {found!r} is not supported (this dlsr reads format {WEIGHTS_FORMAT!r}); "
            "use the dlsr version that wrote it, or re-export the weights"
        )
    try:
        arch = metadata["dlsr.arch"]
        config = make_config(arch, _json_field(metadata, "dlsr.config"))
        grid = _grid_from_dict(_json_field(metadata, "dlsr.grid"))
        preprocess = config_from_dict(PreprocessConfig, _json_field(metadata, "dlsr.preprocess"))
        provenance = _json_field(metadata, "dlsr.provenance")
    except KeyError as exc:
        raise WeightsError(f"{file}: metadata lacks {exc}; the file is incomplete, re-export it") from exc
    except DlsrError as exc:
        raise WeightsError(f"{file}: invalid metadata: {exc}") from exc
    try:
        level = float(_json_field(metadata, "dlsr.level")) if "dlsr.level" in metadata else 0.0
        _check_level(level, grid)
    except (TypeError, ValueError, WeightsError) as exc:
        raise WeightsError(f"{file}: invalid dlsr.level metadata ({exc}); re-export the weights") from exc
    if grid != model_grid(config):
        raise WeightsError(f"{file}: grid {grid} differs from the model's output grid {model_grid(config)}")
    parameters = 0
    for name, entry in header.items():
        if name != "__metadata__":
            count = 1
            for size in entry.get("shape", []):
                count *= int(size)
            parameters += count
    return WeightsInfo(file, arch, config, grid, preprocess, provenance, parameters, level)


def load_weights(path: str | os.PathLike[str], device: str = "cpu") -> tuple[nn.Module, WeightsInfo]:
    """Rebuild the model a weights file describes and load its tensors strictly, in eval mode.

    Raises:
        WeightsError: see `read_weights_info`; also when the tensors do not match the described model.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from dlsr.models import build_model

    info = read_weights_info(path)
    try:
        tensors = load_file(str(info.path), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise WeightsError(
            f"{info.path}: cannot read tensors ({exc}); the file is corrupt, re-download or re-export it"
        ) from exc
    model = build_model(info.arch, info.config)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise WeightsError(
            f"{info.path}: tensors do not match the {info.arch} model its metadata describes ({detail[:300]}); "
            "the file is corrupt or was edited, re-export it"
        ) from exc
    model.to(device)
    model.eval()
    return model, info


def default_search_dirs() -> list[Path]:
    """Where the default weights are looked for: the installed package's copy, then the checkout's `weights/`."""
    package = Path(__file__).resolve().parent
    return [package / "_weights", package.parent / "weights"]


def find_weights(
    explicit: str | os.PathLike[str] | None = None,
    *,
    environ: dict[str, str] | None = None,
    search_dirs: list[Path] | None = None,
) -> Path:
    """The weights file to use: `explicit` (--weights), else $DLSR_WEIGHTS, else the default file shipped in
    the installed package (`dlsr/_weights/`), else in the repository's `weights/` folder.

    Raises:
        WeightsError: the named file does not exist, or no default weights are installed.
    """
    env = os.environ if environ is None else environ
    for origin, value in (("--weights", explicit), (WEIGHTS_ENV, env.get(WEIGHTS_ENV) or None)):
        if value is not None:
            file = Path(value).expanduser()
            if not file.is_file():
                what = "is a folder" if file.is_dir() else "does not exist"
                raise WeightsError(
                    f"{file}: weights file given by {origin} {what}; give the path of a .safetensors file"
                )
            return file
    folders = default_search_dirs() if search_dirs is None else search_dirs
    for folder in folders:
        candidate = folder / DEFAULT_WEIGHTS_FILE
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(folder) for folder in folders)
    raise WeightsError(
        f"no trained weights found: this copy of dlsr ships no {DEFAULT_WEIGHTS_FILE} (looked in {looked}); "
        f"pass --weights FILE.safetensors or set {WEIGHTS_ENV}=FILE.safetensors to use weights you have"
    )


def save_training_state(
    path: str | os.PathLike[str],
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    *,
    epoch: int,
    step: int,
    best_iou: float,
    best_epoch: int,
) -> Path:
    """Write a resumable training state atomically: `model`'s tensors and config, the optimiser's and scheduler's
    state, and the position in the run (`step` steps into epoch `epoch`, 0-based; the best validation IoU so far
    and its epoch)."""
    import io

    import torch

    state = {
        "format": STATE_FORMAT,
        "arch": model.arch,
        "model_config": config_to_dict(model.config),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "epoch": epoch,
        "step": step,
        "best_iou": best_iou,
        "best_epoch": best_epoch,
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return atomic_write(path, buffer.getvalue())


def read_training_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a training state file without executing code (`torch.load(weights_only=True)`).

    Raises:
        WeightsError: missing, corrupt or not a dlsr training state.
    """
    return _load_state(
        path,
        STATE_FORMAT,
        "training state",
        missing="train first with `dlsr train`",
        damaged="it is damaged or empty",
    )


def _load_state(
    path: str | os.PathLike[str], state_format: str, what: str, *, missing: str, damaged: str
) -> dict[str, Any]:
    """`torch.load(weights_only=True)` of a dlsr state of `state_format`, every failure one WeightsError line.

    `missing` is the fix named when the file does not exist, `damaged` the one when it cannot be read.
    """
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such {what}; {missing}") from None
    except Exception as exc:  # torch raises many types for a damaged file
        # Some failures carry no message (a zero-byte file is an EOFError with none): name the type instead.
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise WeightsError(f"{path}: not a readable {what} ({reason}); {damaged}") from None
    if not isinstance(state, dict) or state.get("format") != state_format:
        raise WeightsError(f"{path}: not a dlsr {what} (format {state_format})")
    return state


# --- the foreground segmenter ------------------------------------------------------------------------------------

SEGMENTER_WEIGHTS_FILE = "dlsr-foreground.safetensors"
"""The shipped foreground segmenter (`dlsr.foreground`), beside the reconstruction weights."""
SEGMENTER_KIND = "foreground-segmenter"
SEGMENTER_STATE_FORMAT = "dlsr-segmenter-state-1"


def save_segmenter_weights(
    model: nn.Module, path: str | os.PathLike[str], *, provenance: dict[str, Any] | None = None
) -> Path:
    """Write a foreground segmenter's tensors (float16) and self-description to a safetensors file, atomically.

    The metadata has ``dlsr.format`` and ``dlsr.config`` as reconstruction weights do, plus ``dlsr.kind`` =
    "foreground-segmenter", so neither kind of file is ever loaded as the other.
    """
    from safetensors.torch import save

    module: Any = getattr(model, "_orig_mod", model)
    tensors = {
        name: (t.half() if t.is_floating_point() else t).detach().to("cpu").contiguous().clone()
        for name, t in module.state_dict().items()
    }
    metadata = {
        "dlsr.format": WEIGHTS_FORMAT,
        "dlsr.kind": SEGMENTER_KIND,
        "dlsr.arch": module.arch,
        "dlsr.config": json.dumps(config_to_dict(module.config)),
        "dlsr.provenance": json.dumps(provenance or {}),
    }
    return atomic_write(path, save(tensors, metadata=metadata))


def load_segmenter_weights(path: str | os.PathLike[str]) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the foreground segmenter a weights file describes, strictly, in eval mode on the CPU.

    Returns:
        The model (`dlsr.foreground.model.ForegroundNet`) and the file's provenance.

    Raises:
        WeightsError: the file is missing, corrupt, of another format or kind, or does not match its model.
    """
    from safetensors.torch import load_file

    from dlsr.foreground.model import ARCH, ForegroundNet, config_from_json

    file = Path(path)
    metadata = _read_header(file).get("__metadata__") or {}
    if metadata.get("dlsr.format") != WEIGHTS_FORMAT or metadata.get("dlsr.kind") != SEGMENTER_KIND:
        raise WeightsError(
            f"{file}: not dlsr foreground segmenter weights (format {WEIGHTS_FORMAT}, kind {SEGMENTER_KIND})"
        )
    if metadata.get("dlsr.arch") != ARCH:
        raise WeightsError(f"{file}: segmenter architecture {metadata.get('dlsr.arch')!r} is not {ARCH!r}")
    try:
        config = config_from_json(_json_field(metadata, "dlsr.config"))
        provenance = _json_field(metadata, "dlsr.provenance") if "dlsr.provenance" in metadata else {}
        model = ForegroundNet(config)
        model.load_state_dict(load_file(str(file), device="cpu"), strict=True)
    except (DlsrError, KeyError, RuntimeError, OSError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise WeightsError(f"{file}: unusable segmenter weights ({detail}); re-export them") from exc
    model.eval()
    return model, provenance


def save_segmenter_state(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Write a segmenter run's resumable state (tensors and JSON-able values only) atomically."""
    import io

    import torch

    buffer = io.BytesIO()
    torch.save({**state, "format": SEGMENTER_STATE_FORMAT}, buffer)
    return atomic_write(path, buffer.getvalue())


def read_segmenter_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a segmenter run's state without executing code (`weights_only=True`).

    Raises:
        WeightsError: unreadable, or not a segmenter state.
    """
    return _load_state(
        path,
        SEGMENTER_STATE_FORMAT,
        "segmenter state",
        missing="the run resumes only from its own state.pt; run `dlsr train segmenter` without it to start afresh",
        damaged="delete it to start afresh",
    )


def _read_header(file: Path) -> dict[str, Any]:
    if not file.exists():
        raise WeightsError(f"{file}: weights file does not exist; check the path")
    if file.is_dir():
        raise WeightsError(f"{file}: is a folder; give the path of a .safetensors weights file")
    size = file.stat().st_size
    try:
        with open(file, "rb") as stream:
            prefix = stream.read(8)
            if len(prefix) < 8:
                raise WeightsError(f"{file}: too short to be a safetensors weights file ({size} bytes); re-export it")
            (length,) = struct.unpack("<Q", prefix)
            if length > _MAX_HEADER_BYTES or 8 + length > size:
                raise WeightsError(f"{file}: not a safetensors weights file, or truncated; re-download or re-export it")
            raw = stream.read(length)
    except OSError as exc:
        raise WeightsError(f"{file}: cannot read ({exc.strerror}); check permissions") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{file}: not a safetensors weights file (unreadable header); re-export it") from exc
    if not isinstance(header, dict):
        raise WeightsError(f"{file}: not a safetensors weights file (header is not a table); re-export it")
    end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        offsets = entry.get("data_offsets") if isinstance(entry, dict) else None
        if not (isinstance(offsets, list) and len(offsets) == 2):
            raise WeightsError(f"{file}: tensor {name!r} has no valid data offsets; the file is corrupt")
        end = max(end, int(offsets[1]))
    if 8 + length + end > size:
        raise WeightsError(
            f"{file}: truncated ({size} bytes, the header promises {8 + length + end}); re-download or re-export it"
        )
    return header


def _json_field(metadata: dict[str, str], key: str) -> Any:
    try:
        return json.loads(metadata[key])
    except json.JSONDecodeError as exc:
        raise WeightsError(f"metadata {key} is not valid JSON ({exc})") from exc


MAX_LEVEL_VOXELS = 2.0
"""A default iso-level further than this many grid spacings from 0 is refused: it would no longer be the model's
surface but a dilation or erosion of it."""


def _check_level(level: float, grid: Grid) -> None:
    if not math.isfinite(level) or abs(level) > MAX_LEVEL_VOXELS * grid.spacing:
        raise ValueError(
            f"iso-level {level!r} must be finite and within {MAX_LEVEL_VOXELS:g} voxels "
            f"({MAX_LEVEL_VOXELS * grid.spacing:.4f}) of 0"
        )


def _grid_to_dict(grid: Grid) -> dict[str, Any]:
    return {
        "resolution": grid.resolution,
        "bound": grid.bound,
        "sign": SIGN_CONVENTION,
        "units": "world",
        "frame": FRAME,
    }


def _grid_from_dict(values: dict[str, Any]) -> Grid:
    sign = values.get("sign")
    if sign != SIGN_CONVENTION:
        raise WeightsError(f"grid sign convention {sign!r} is not {SIGN_CONVENTION!r}")
    return Grid(resolution=int(values["resolution"]), bound=float(values["bound"]))
