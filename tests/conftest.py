"""Shared fixtures: real data location, and a tiny model trained here for end-to-end tests on learned weights."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
"""Real third-party samples (../shared/realdata beside the repository); tests that need them skip without."""

# The toy task: an image of a flat coloured rectangle, width:height = w:h, shows a box of depth BOX_DEPTH; the
# network must predict that box's SDF (normalised so its longest side is 1). Cropping removes the picture's
# scale, so only the aspect ratio is visible: the network has to read it from the image.
BOX_DEPTH = 0.3
TINY_ARCH = "dlsr-lite"
TINY_CONFIG = {
    "image_size": 32,
    "resolution": 16,
    "encoder_channels": [8, 16, 32],
    "latent_dim": 64,
    "decoder_channels": [16, 8],
    "decoder_convs": [1, 0],
}


def realdata_path(*parts: str) -> Path:
    """A path under ../shared/realdata, or skip the test when the folder is absent."""
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real sample data not available ({path})")
    return path


TINY_CATEGORIES = ("02691156", "03001627")  # airplane, chair


def make_tiny_dataset(root: Path, *, views: int, points: int, surface_points: int) -> Path:
    """A small `dlsr data synth` dataset: airplanes and chairs, five objects each (split 3 / 1 / 1), 64-pixel
    views, ground truth at 16^3; the caller chooses the number of views and samples."""
    from dlsr.synth import SynthConfig, make_dataset

    config = SynthConfig(
        categories=TINY_CATEGORIES,
        per_category=5,
        views=views,
        image_size=64,
        sdf_resolution=16,
        voxel_resolution=16,
        points=points,
        surface_points=surface_points,
        split=(0.6, 0.2, 0.2),
    )
    make_dataset(config, root)
    return root


def box_half_sizes(width: float, height: float) -> tuple[float, float, float]:
    """Half sizes of the normalised box (longest side 1) that a width:height rectangle shows."""
    scale = 1.0 / max(width, height, BOX_DEPTH)
    return (width * scale / 2, height * scale / 2, BOX_DEPTH * scale / 2)


def rectangle_image(width: float, height: float, rng: np.random.Generator, canvas: int = 96) -> Image.Image:
    """A front view of the box: a rectangle (x right, y up) of a random colour at a random place on white."""
    long_side = rng.uniform(0.45, 0.7) * canvas
    w_px = max(3, round(long_side * width / max(width, height)))
    h_px = max(3, round(long_side * height / max(width, height)))
    left = int(rng.integers(2, canvas - w_px - 2))
    top = int(rng.integers(2, canvas - h_px - 2))
    image = Image.new("RGB", (canvas, canvas), (255, 255, 255))
    colour = tuple(int(c) for c in rng.integers(0, 180, size=3))
    ImageDraw.Draw(image).rectangle([left, top, left + w_px - 1, top + h_px - 1], fill=colour)
    return image


@dataclass(frozen=True)
class TinyModel:
    weights: Path  # a real dlsr weights file
    seconds: float  # training time


def train_tiny_model(path: Path, steps: int = 150, seed: int = 0) -> TinyModel:
    """Train a small dlsr-lite on the rectangle -> box task for a few seconds and save real weights."""
    import time

    import torch

    from dlsr.checkpoint import save_weights
    from dlsr.image import PreprocessConfig, prepare_image, to_tensor
    from dlsr.models import build_model
    from dlsr.sdf import Grid, box, sample_sdf

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = build_model(TINY_ARCH, TINY_CONFIG)
    preprocess = PreprocessConfig(image_size=model.config.image_size)
    grid = Grid(model.config.resolution, model.config.bound)

    images, targets = [], []
    for _ in range(96):
        long_side = 1.0
        short_side = float(rng.uniform(0.25, 1.0))
        width, height = (long_side, short_side) if rng.random() < 0.5 else (short_side, long_side)
        images.append(prepare_image(rectangle_image(width, height, rng), preprocess).pixels)
        targets.append(sample_sdf(box(half_size=box_half_sizes(width, height)), grid))
    inputs = to_tensor(images)
    truth = torch.as_tensor(np.stack(targets))

    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    band = 3 * grid.spacing  # regress the SDF clamped to a band around the surface, where meshing needs it
    model.train()
    for _ in range(steps):
        index = torch.as_tensor(rng.choice(len(images), size=16, replace=False))
        prediction = model(inputs[index])
        loss = (prediction.clamp(-band, band) - truth[index].clamp(-band, band)).abs().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    provenance = {"description": "test-suite toy model: rectangle images -> box SDFs", "steps": steps}
    save_weights(model, path, grid=grid, preprocess=preprocess, provenance=provenance)
    return TinyModel(weights=path, seconds=time.perf_counter() - started)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> TinyModel:
    """Real learned weights (a few seconds of training), shared by the end-to-end tests."""
    return train_tiny_model(tmp_path_factory.mktemp("weights") / "tiny.safetensors")


@pytest.fixture(autouse=True)
def _no_weights_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """$DLSR_WEIGHTS from the developer's shell must not change what a test sees."""
    monkeypatch.delenv("DLSR_WEIGHTS", raising=False)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two categories of five procedural objects, three 64-pixel views each, ground truth at 16^3."""
    return make_tiny_dataset(tmp_path_factory.mktemp("data") / "tiny", views=3, points=500, surface_points=1000)


# ------------------------------------------------------------------------------------------ dlsr eval

FAST = {"points": 4000, "iou_points": 4000}  # enough for the identities below, a fraction of the default's cost
R2N2_CHAIRS = ("1a74a83fa6d24b3cacd67ce2c72c02e", "1a8bbf2994788e2743e99e0cae970928")


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two categories of five procedural objects, two 64-pixel views each; test split = one object each."""
    return make_tiny_dataset(tmp_path_factory.mktemp("eval") / "synth", views=2, points=2000, surface_points=4000)


def ground_truth_predictions(root: Path, out: Path, transform: Any = None, per_view: bool = False) -> Path:
    """Write each test object's true mesh as its prediction (optionally moved), named as `dlsr eval` expects."""
    import trimesh

    from dlsr.eval.layouts import read_samples

    _, samples = read_samples(root)
    for sample in samples:
        mesh = trimesh.load(sample.truth.mesh, process=False)
        if transform is not None:
            mesh.vertices = transform(np.asarray(mesh.vertices))
        name = f"{sample.key}.obj" if per_view else f"{sample.category}/{sample.model_id}.obj"
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        mesh.export(out / name)
    return out


def scored(path: Path) -> list[dict[str, Any]]:
    """Sample records without their timings (the only field that differs between equal runs)."""
    from dlsr.eval import read_results

    _, records, _ = read_results(path)
    return sorted(({k: v for k, v in r.items() if k != "seconds"} for r in records), key=lambda r: r["index"])


def make_r2n2(synth: Path, root: Path) -> Path:
    """The synth objects of every split rearranged as 3D-R2N2's ShapeNetRendering + ShapeNetVox32."""
    import shutil

    for folder in sorted(synth.glob("*/*/rendering")):
        category, model_id = folder.parent.parent.name, folder.parent.name
        shutil.copytree(folder, root / "ShapeNetRendering" / category / model_id / "rendering")
        target = root / "ShapeNetVox32" / category / model_id
        target.mkdir(parents=True)
        shutil.copy(folder.parent / "model.binvox", target / "model.binvox")
    return root


def run_cli(args: list[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real `dlsr` command in this process, without DLSR_DEBUG from the shell."""
    from typer.testing import CliRunner

    from dlsr.cli import app

    monkeypatch.delenv("DLSR_DEBUG", raising=False)
    return CliRunner().invoke(app, [str(a) for a in args])


# ------------------------------------------------------------------------------------------ dlsr train


def tiny_values(**train: Any) -> dict[str, Any]:
    """Settings of a run that takes about a second per epoch."""
    settings = {
        "epochs": 2,
        "batch_size": 4,
        "warmup_steps": 2,
        "surface_points": 64,
        "val_views": 2,
        "cache_workers": 1,
        "threads": 1,
        **train,
    }
    return {"train": settings, "model": dict(TINY_CONFIG)}


def write_toml(path: Path, values: dict[str, Any]) -> Path:
    import json

    lines = []
    for table, entries in values.items():
        lines.append(f"[{table}]")
        for key, value in entries.items():
            lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def assert_one_line_error(result: Any, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert "Traceback" not in result.output


def cli_train(data: Path, out: Path, config: Path, *extra: str) -> Any:
    from typer.testing import CliRunner

    from dlsr.cli import app

    arguments = ["train", str(data), "--out", str(out), "--config", str(config), "-q", *extra]
    return CliRunner().invoke(app, arguments)
