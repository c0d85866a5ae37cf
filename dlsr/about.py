"""What this installation is: versions, the device `auto` picks, and the card of the weights it would use."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable
from importlib import metadata
from typing import Any

from dlsr import __version__
from dlsr.errors import DlsrError

_LIBRARIES = ("torch", "numpy", "scipy", "scikit-image", "trimesh", "pillow", "safetensors", "typer", "rich")


def system_card(weights: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Versions, device and weights description as a JSON-able dict.

    A problem with the weights does not raise: it is reported under `card["weights"]["error"]`.
    """
    return {
        "dlsr": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "libraries": library_versions(_LIBRARIES),
        "device": _device_card(),
        "weights": _weights_card(weights),
    }


def card_lines(card: dict[str, Any]) -> list[str]:
    """Render a `system_card` as plain text lines for the terminal."""
    lines = [f"dlsr {card['dlsr']}  (python {card['python']}, {card['platform']})"]
    lines.append("libraries: " + ", ".join(f"{name} {version}" for name, version in card["libraries"].items()))
    device = card["device"]
    lines.append(
        f"device: {device['auto']}  (cuda available: {device['cuda_available']}, cpu threads: {device['threads']})"
    )
    weights = card["weights"]
    if "error" in weights:
        lines.append(f"weights: none usable: {weights['error']}")
        return lines
    lines += [
        f"weights: {weights['path']}",
        f"  sha256: {weights['sha256']}",
        f"  architecture: {weights['arch']} ({weights['parameters']:,} parameters): {weights['summary']}",
        f"  output grid: {weights['grid']['resolution']}^3 over [-{weights['grid']['bound']}, "
        f"{weights['grid']['bound']}]^3, {weights['grid']['sign']}, surface at level {weights['level']:g}",
        f"  preprocessing: {weights['preprocess']}",
    ]
    provenance = weights["provenance"]
    if "description" in provenance:
        lines.append(f"  description: {provenance['description']}")
    if "objective" in provenance:
        lines.append(f"  objective: {provenance['objective'].get('name')}")
    training = provenance.get("training", {})
    if training:
        lines.append(
            f"  training: {training.get('train_seconds', 0) / 60:.0f} min, {training.get('command')}"
            f" (commit {str(training.get('commit'))[:12]})"
        )
    data = provenance.get("data") or {}
    for source in data if isinstance(data, list) else [data]:
        line = _describe_data(source.get("recipe") or {}) if isinstance(source, dict) else None
        if line:
            lines.append(f"  data: {line}")
    metrics = provenance.get("metrics", {})
    scores = metrics.get("scores") or {}
    if "class_mean" in scores:
        lines.append(
            f"  metrics: test sign IoU at {scores.get('resolution')}^3 {scores['class_mean']:.3f} (class mean), "
            f"validation {metrics.get('val_iou', float('nan')):.3f}"
        )
    for key in ("licence", "exported"):
        if key in provenance:
            lines.append(f"  {key}: {provenance[key]}")
    return lines


def _describe_data(recipe: dict[str, Any]) -> str | None:
    """One line about a dataset recipe (`dataset.json`): procedural objects or prepared meshes."""
    config = recipe.get("config")
    if not isinstance(config, dict):
        return None
    if recipe.get("kind") == "prepared":
        return (
            f"dlsr data prepare of {recipe.get('source')} ({recipe.get('layout')} layout), {config.get('views')} views"
        )
    categories = len(config.get("categories") or []) or "all"
    return (
        f"dlsr data synth, {config.get('per_category')} objects per category ({categories} categories), "
        f"{config.get('views')} views, seed {config.get('seed')}, appearance {config.get('appearance', 'flat')}"
    )


def library_versions(distributions: Iterable[str]) -> dict[str, str]:
    """Installed version of each distribution (a pip name: "scikit-image"), "not installed" for a missing one."""
    return {name: _version(name) for name in distributions}


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _device_card() -> dict[str, Any]:
    import torch

    from dlsr.pipeline import resolve_device

    chosen = resolve_device("auto")
    name = str(chosen)
    if chosen.type == "cuda":
        name += f" ({torch.cuda.get_device_name(chosen)})"
    return {"auto": name, "cuda_available": torch.cuda.is_available(), "threads": torch.get_num_threads()}


def _weights_card(weights: str | os.PathLike[str] | None) -> dict[str, Any]:
    from dlsr.checkpoint import find_weights, read_weights_info
    from dlsr.config import config_to_dict
    from dlsr.models import MODELS
    from dlsr.sdf import SIGN_CONVENTION

    try:
        info = read_weights_info(find_weights(weights))
    except DlsrError as exc:
        return {"error": str(exc)}
    return {
        "path": str(info.path),
        "sha256": info.sha256(),
        "arch": info.arch,
        "summary": MODELS[info.arch].summary,
        "parameters": info.parameters,
        "config": config_to_dict(info.config),
        "grid": {"resolution": info.grid.resolution, "bound": info.grid.bound, "sign": SIGN_CONVENTION},
        "preprocess": config_to_dict(info.preprocess),
        "level": info.level,
        "provenance": info.provenance,
    }
