"""The weights format: round trips, safe and strict loading, clear refusals, and where weights are found."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save

from dlsr.checkpoint import (
    DEFAULT_WEIGHTS_FILE,
    WEIGHTS_ENV,
    find_weights,
    load_weights,
    read_weights_info,
    save_weights,
)
from dlsr.errors import WeightsError
from dlsr.image import PreprocessConfig
from dlsr.models import build_model
from dlsr.sdf import Grid

SMALL = {
    "image_size": 32,
    "resolution": 16,
    "encoder_channels": [8, 8, 16],
    "latent_dim": 16,
    "decoder_channels": [8, 8],
    "decoder_convs": [0, 0],
}


@pytest.fixture
def saved(tmp_path: Path) -> tuple[torch.nn.Module, Path]:
    torch.manual_seed(3)
    model = build_model("dlsr-lite", SMALL).eval()
    path = save_weights(
        model,
        tmp_path / "small.safetensors",
        grid=Grid(16, model.config.bound),
        preprocess=PreprocessConfig(image_size=32),
        provenance={"description": "unit test", "metrics": {"iou": 0.5}},
    )
    return model, path


def test_round_trip_gives_equal_tensors_and_outputs(saved: tuple[torch.nn.Module, Path]) -> None:
    model, path = saved
    loaded, info = load_weights(path)
    assert not loaded.training
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], tensor, rtol=0, atol=0)
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded(images), model(images))
    assert info.arch == "dlsr-lite"
    assert info.config == model.config
    assert info.grid == Grid(16, model.config.bound)
    assert info.preprocess == PreprocessConfig(image_size=32)
    assert info.provenance["metrics"] == {"iou": 0.5}
    assert info.parameters == sum(t.numel() for t in model.state_dict().values())
    assert info.sha256() == hashlib.sha256(path.read_bytes()).hexdigest()


def _rewrite_metadata(path: Path, target: Path, **changes: str | None) -> Path:
    """Copy a weights file with some metadata keys replaced (None deletes the key)."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as handle:
        metadata = dict(handle.metadata())
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    for key, value in changes.items():
        key = key.replace("_", ".", 1)
        if value is None:
            metadata.pop(key, None)
        else:
            metadata[key] = value
    target.write_bytes(save(tensors, metadata=metadata))
    return target


def test_unknown_format_version_is_refused(saved: tuple[torch.nn.Module, Path], tmp_path: Path) -> None:
    bad = _rewrite_metadata(saved[1], tmp_path / "v2.safetensors", dlsr_format="2")
    with pytest.raises(WeightsError, match=r"format '2' is not supported") as info:
        read_weights_info(bad)
    assert str(bad) in str(info.value)


def test_mismatched_tensors_are_refused(saved: tuple[torch.nn.Module, Path], tmp_path: Path) -> None:
    config = dict(SMALL, latent_dim=24)
    bad = _rewrite_metadata(saved[1], tmp_path / "edited.safetensors", dlsr_config=json.dumps(config))
    with pytest.raises(WeightsError, match="do not match"):
        load_weights(bad)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dlsr_format": None}, "not dlsr weights"),
        ({"dlsr_arch": "resnet9000"}, "unknown architecture"),
        ({"dlsr_config": "{not json"}, "not valid JSON"),
        ({"dlsr_config": json.dumps({"wings": 2})}, "unknown key"),
        ({"dlsr_grid": json.dumps({"resolution": 16, "bound": 0.55, "sign": "positive-inside"})}, "sign"),
        ({"dlsr_grid": json.dumps({"resolution": 32, "bound": 0.55, "sign": "negative-inside"})}, "resolution"),
        ({"dlsr_preprocess": None}, "lacks"),
    ],
)
def test_bad_metadata_is_refused(
    saved: tuple[torch.nn.Module, Path], tmp_path: Path, changes: dict[str, str | None], message: str
) -> None:
    bad = _rewrite_metadata(saved[1], tmp_path / "bad.safetensors", **changes)
    with pytest.raises(WeightsError, match=message):
        load_weights(bad)


def test_damaged_files_are_refused(saved: tuple[torch.nn.Module, Path], tmp_path: Path) -> None:
    data = saved[1].read_bytes()
    cases = {
        "truncated.safetensors": data[: len(data) // 2],
        "header-only.safetensors": data[:200],
        "empty.safetensors": b"",
        "text.safetensors": b"this is not a weights file at all, just some text that is long enough",
        "flipped.safetensors": data[:8] + b"#" + data[9:],
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(WeightsError) as info:
            load_weights(path)
        assert str(path) in str(info.value), name


def test_a_pickle_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (str(marker),))  # type: ignore[return-value]

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"state_dict": Exploit()}))
    with pytest.raises(WeightsError):
        load_weights(path)
    assert not marker.exists()


def test_lookup_order(saved: tuple[torch.nn.Module, Path], tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / DEFAULT_WEIGHTS_FILE).write_bytes(saved[1].read_bytes())
    other = tmp_path / "other.safetensors"
    other.write_bytes(saved[1].read_bytes())
    env = {WEIGHTS_ENV: str(other)}
    assert find_weights(saved[1], environ=env, search_dirs=[shipped]) == saved[1]
    assert find_weights(None, environ=env, search_dirs=[shipped]) == other
    assert find_weights(None, environ={}, search_dirs=[tmp_path / "none", shipped]) == shipped / DEFAULT_WEIGHTS_FILE


def test_missing_weights_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=r"no trained weights found.*--weights.*DLSR_WEIGHTS"):
        find_weights(None, environ={}, search_dirs=[tmp_path])
    with pytest.raises(WeightsError, match="does not exist") as info:
        find_weights(tmp_path / "nope.safetensors", environ={})
    assert "nope.safetensors" in str(info.value)
    with pytest.raises(WeightsError, match=f"{WEIGHTS_ENV} is a folder"):
        find_weights(None, environ={WEIGHTS_ENV: str(tmp_path)})


def test_wrapped_models_save_without_prefixes(tmp_path: Path) -> None:
    """DDP keeps the model in .module and torch.compile in ._orig_mod: neither prefix may reach the file."""
    model = build_model("dlsr-lite", SMALL)

    class Wrapper(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.module = inner

    path = save_weights(Wrapper(model), tmp_path / "w.safetensors", grid=Grid(16), preprocess=PreprocessConfig(32))
    loaded, _ = load_weights(path)
    assert set(loaded.state_dict()) == set(model.state_dict())


def test_the_grid_is_the_models_own(tmp_path: Path) -> None:
    model = build_model("dlsr-lite", SMALL)
    path = save_weights(model, tmp_path / "default.safetensors", preprocess=PreprocessConfig(32))
    assert read_weights_info(path).grid == Grid(16, model.config.bound)
    with pytest.raises(WeightsError, match="differs from the model's output grid"):
        save_weights(model, tmp_path / "bad.safetensors", grid=Grid(16, 0.7), preprocess=PreprocessConfig(32))
    assert not (tmp_path / "bad.safetensors").exists()


def test_half_precision_files_load_as_float32_and_predict_the_same_signs(tmp_path: Path) -> None:
    from safetensors import safe_open

    torch.manual_seed(0)
    model = build_model("dlsr-lite", SMALL).eval()
    full = save_weights(model, tmp_path / "full.safetensors", preprocess=PreprocessConfig(32))
    half = save_weights(model, tmp_path / "half.safetensors", preprocess=PreprocessConfig(32), half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    with safe_open(str(half), framework="pt") as stored:
        assert stored.get_tensor("template").dtype == torch.float16
    loaded, _ = load_weights(half)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, found = model(images), loaded(images)
    assert torch.allclose(found, expected, atol=2e-3)
    assert ((found < 0) == (expected < 0)).float().mean() > 0.99


def test_a_calibrated_level_round_trips_and_is_checked(saved: tuple[torch.nn.Module, Path], tmp_path: Path) -> None:
    model, plain = saved
    assert read_weights_info(plain).level == 0.0  # files without dlsr.level: the zero level set
    grid = Grid(16, model.config.bound)
    path = save_weights(
        model, tmp_path / "level.safetensors", preprocess=PreprocessConfig(image_size=32), level=0.5 * grid.spacing
    )
    assert read_weights_info(path).level == pytest.approx(0.5 * grid.spacing)
    with pytest.raises(ValueError, match="within 2 voxels"):
        save_weights(model, tmp_path / "far.safetensors", preprocess=PreprocessConfig(image_size=32), level=0.5)
    for bad in ("0.5", "NaN", '"high"'):
        broken = _rewrite_metadata(path, tmp_path / f"bad-{len(bad)}.safetensors", **{"dlsr.level": bad})
        with pytest.raises(WeightsError, match=r"dlsr\.level"):
            read_weights_info(broken)


def test_a_training_state_round_trips_and_refuses_other_files(tmp_path: Path) -> None:
    from dlsr.checkpoint import read_training_state, save_training_state

    torch.manual_seed(4)
    model = build_model("dlsr-lite", SMALL)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    model(torch.rand(2, 3, 32, 32)).sum().backward()
    optimizer.step()
    scheduler.step()
    path = save_training_state(
        tmp_path / "last.pt", model, optimizer, scheduler, epoch=2, step=5, best_iou=0.25, best_epoch=1
    )
    state = read_training_state(path)
    assert (state["epoch"], state["step"], state["best_iou"], state["best_epoch"]) == (2, 5, 0.25, 1)
    assert state["arch"] == "dlsr-lite" and state["model_config"]["resolution"] == 16
    rebuilt = build_model(state["arch"], state["model_config"])
    rebuilt.load_state_dict(state["model"])
    for name, tensor in model.state_dict().items():
        assert torch.equal(rebuilt.state_dict()[name], tensor), name
    torch.save({"format": "something else"}, tmp_path / "other.pt")
    with pytest.raises(WeightsError, match="not a dlsr training state"):
        read_training_state(tmp_path / "other.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(WeightsError, match="damaged or empty"):
        read_training_state(tmp_path / "empty.pt")
    with pytest.raises(WeightsError, match="no such training state"):
        read_training_state(tmp_path / "missing.pt")


def test_a_bad_segmenter_state_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    """`read_segmenter_state` shares the training state's loader: a damaged, foreign or missing file is one
    WeightsError naming the file, and the fix for a segmenter run is to delete its state."""
    from dlsr.checkpoint import STATE_FORMAT, read_segmenter_state, save_segmenter_state

    save_segmenter_state(tmp_path / "ok.pt", {"step": 3})
    assert read_segmenter_state(tmp_path / "ok.pt")["step"] == 3
    torch.save({"format": STATE_FORMAT, "step": 3}, tmp_path / "training.pt")  # a training run's state
    with pytest.raises(WeightsError, match=r"training\.pt: not a dlsr segmenter state"):
        read_segmenter_state(tmp_path / "training.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(WeightsError, match=r"empty\.pt: not a readable segmenter state .*delete it to start afresh"):
        read_segmenter_state(tmp_path / "empty.pt")
    with pytest.raises(WeightsError, match=r"missing\.pt: no such segmenter state; .*start afresh"):
        read_segmenter_state(tmp_path / "missing.pt")
