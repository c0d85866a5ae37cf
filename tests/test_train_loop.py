"""dlsr.train.loop: runs, exact resume, the schedule, non-finite losses and weights, pooled data, --init."""

from __future__ import annotations

import itertools
import json
import types
from pathlib import Path
from typing import Any

import pytest
import torch

from conftest import (
    TINY_CATEGORIES,
    assert_one_line_error,
    cli_train,
    make_tiny_dataset,
    realdata_path,
    tiny_values,
    write_toml,
)
from dlsr.checkpoint import load_weights, read_training_state
from dlsr.errors import ConfigError
from dlsr.sdf import Grid
from dlsr.train import (
    TrainConfig,
    export_weights,
    lr_factor,
    read_metrics,
    run_config_from_dict,
    score_split,
    train,
)

CATEGORIES = TINY_CATEGORIES


def test_a_run_writes_checkpoints_metrics_and_exportable_weights(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    report = train(tiny_dataset, out, run_config_from_dict(tiny_values()))
    assert report.epochs == 2 and 0.0 <= report.best_val_iou <= 1.0
    records = read_metrics(out)
    assert [r["epoch"] for r in records] == [1, 2]
    assert set(records[0]["train"]) == {"surface", "eikonal", "region", "surface_points", "loss"}
    assert set(records[-1]["val_iou_by_category"]) == set(CATEGORIES)
    assert read_training_state(out / "last.pt")["epoch"] == 2
    weights = export_weights(out, tmp_path / "tiny.safetensors", metrics={"note": "test"})
    model, info = load_weights(weights)
    assert info.arch == "dlsr-lite" and info.grid == Grid(16)
    assert info.preprocess.image_size == 32  # follows the network's input size
    assert info.provenance["metrics"]["note"] == "test"
    assert info.provenance["data"]["recipe"]["config"]["per_category"] == 5
    assert info.provenance["objective"]["name"] == "dls"
    scores = score_split(tiny_dataset, weights=weights, split="test", device="cpu").summary()
    assert set(scores["categories"]) == set(CATEGORIES) and 0.0 <= scores["class_mean"] <= 1.0
    from_run = score_split(tiny_dataset, weights=out, split="test", device="cpu").summary()
    best = read_training_state(out / "best.pt")
    exported = model.state_dict()
    for key, tensor in exported.items():  # the export stores float16 by default
        stored = best["model"][key]
        assert torch.equal(tensor, stored.half().float() if stored.is_floating_point() else stored), key
    assert from_run["class_mean"] == pytest.approx(scores["class_mean"])
    assert scores["level"] == from_run["level"] == 0.0

    # Weights with a calibrated iso-level are scored at it, unless asked for another.
    spacing = info.grid.spacing
    leveled = export_weights(out, tmp_path / "leveled.safetensors", level=2 * spacing)
    at_own = score_split(tiny_dataset, weights=leveled, split="test", device="cpu").summary()
    at_zero = score_split(tiny_dataset, weights=leveled, split="test", device="cpu", level=0.0).summary()
    assert at_own["level"] == pytest.approx(2 * spacing) and at_zero["level"] == 0.0
    assert at_zero["class_mean"] == pytest.approx(scores["class_mean"])
    assert at_own["class_mean"] != pytest.approx(at_zero["class_mean"])


class _Interrupt(Exception):
    pass


def test_resume_continues_exactly(tiny_dataset: Path, tmp_path: Path) -> None:
    config = run_config_from_dict(tiny_values(checkpoint_minutes=1e-9))  # save last.pt after every step
    straight = tmp_path / "straight"
    train(tiny_dataset, straight, config)

    broken = tmp_path / "broken"

    def stop_in_second_epoch(description: str, done: int, total: int) -> None:
        if description.startswith("epoch 2") and done == 2:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train(tiny_dataset, broken, config, progress=stop_in_second_epoch)
    state = read_training_state(broken / "last.pt")
    assert (state["epoch"], state["step"]) == (1, 1)  # the save after step 2 never happened: one step is redone
    train(tiny_dataset, broken, config, resume=True)

    expected, resumed = read_training_state(straight / "last.pt"), read_training_state(broken / "last.pt")
    for key, tensor in expected["model"].items():
        assert torch.equal(tensor, resumed["model"][key]), key
    assert [r["epoch"] for r in read_metrics(broken)] == [1, 2]
    assert read_metrics(broken)[-1]["val_iou"] == read_metrics(straight)[-1]["val_iou"]


def test_schedule_warms_up_then_decays() -> None:
    config = TrainConfig(warmup_steps=10, final_lr_fraction=0.1)
    factors = [lr_factor(step, 110, config) for step in range(111)]
    assert factors[0] == pytest.approx(0.01) and factors[10] == pytest.approx(1.0)
    assert all(a <= b for a, b in itertools.pairwise(factors[:11]))
    assert all(a >= b for a, b in itertools.pairwise(factors[10:]))
    assert factors[-1] == pytest.approx(0.1)


def test_training_runs_on_prepared_real_meshes(tmp_path: Path) -> None:
    """`dlsr data prepare` on the classic meshes (open, holed, multi-part, polygon soup) feeds `dlsr train`."""
    from dlsr.synth import SynthConfig, prepare_dataset

    meshes = realdata_path("meshes")
    source = tmp_path / "meshes"
    source.mkdir()
    for name in ("spot.obj", "cow.obj", "teapot.obj", "bunny.ply", "ant.ply", "chair_model.obj"):
        (source / name).symlink_to(meshes / name)
    config = SynthConfig(views=2, sdf_resolution=16, points=2000, surface_points=2000, split=(0.5, 0.25, 0.25))
    data = tmp_path / "prepared"
    assert prepare_dataset(source, config, data).written == 6
    out = tmp_path / "run"
    report = train(data, out, run_config_from_dict(tiny_values(epochs=1, val_views=1)))
    assert report.epochs == 1 and 0.0 <= report.best_val_iou <= 1.0
    scores = score_split(data, weights=out, split="test", device="cpu").summary()
    # Six meshes split 3 train, 2 val, 1 test.
    assert list(scores["categories"]) == ["all"] and scores["categories"]["all"]["objects"] == 1


def test_a_run_whose_loss_turns_non_finite_stops_and_keeps_the_last_good_state(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlsr.train import loop as train_loop

    real = train_loop.compute_loss
    calls = itertools.count()

    def poisoned(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if next(calls) >= 5:  # 4 steps an epoch: the second step of epoch 2 on
            result.loss = result.loss * float("nan")
        return result

    monkeypatch.setattr(train_loop, "compute_loss", poisoned)
    out = tmp_path / "run"
    result = cli_train(tiny_dataset, out, write_toml(tmp_path / "c.toml", tiny_values(epochs=3)))
    assert_one_line_error(result, 1, "the loss became nan at epoch 2, step 2", f"{out / 'last.pt'} keeps")
    for name in ("last.pt", "best.pt"):
        state = read_training_state(out / name)
        assert state["epoch"] == 1, name
        assert all(torch.isfinite(t).all() for t in state["model"].values() if t.is_floating_point()), name
    text = (out / "metrics.jsonl").read_text()
    assert [r["epoch"] for r in read_metrics(out)] == [1]
    assert "NaN" not in text and "Infinity" not in text


def test_weights_that_turn_non_finite_are_never_scored_or_saved(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlsr.train import loop as train_loop

    real = train_loop.make_optimizer

    def make(model: torch.nn.Module, config: TrainConfig) -> torch.optim.AdamW:
        optimizer = real(model, config)
        step, calls = optimizer.step, itertools.count()

        def poisoned_step(self: torch.optim.AdamW, *args: Any, **kwargs: Any) -> Any:
            result = step(*args, **kwargs)
            if next(calls) == 7:  # the last step of epoch 2: no later loss would show it
                with torch.no_grad():
                    next(model.parameters()).fill_(float("inf"))
            return result

        # A bound method, as the learning-rate scheduler wraps it.
        optimizer.step = types.MethodType(poisoned_step, optimizer)  # type: ignore[method-assign]
        return optimizer

    monkeypatch.setattr(train_loop, "make_optimizer", make)
    out = tmp_path / "run"
    result = cli_train(tiny_dataset, out, write_toml(tmp_path / "c.toml", tiny_values(epochs=2)))
    assert_one_line_error(result, 1, "the weights became non-finite", "epoch 2, step 4")
    assert read_training_state(out / "last.pt")["epoch"] == 1 and [r["epoch"] for r in read_metrics(out)] == [1]


def test_a_learning_rate_that_diverges_stops_the_run(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = cli_train(tiny_dataset, out, write_toml(tmp_path / "c.toml", tiny_values(epochs=1, lr=1e30)))
    assert_one_line_error(result, 1, "the loss became", "no checkpoint had been written yet", "lr = 1e+30")
    assert sorted(p.name for p in out.iterdir()) == ["run.json"]


def test_pooled_datasets_and_init_from_weights(tiny_dataset: Path, tmp_path: Path) -> None:
    """Two dataset folders train as one pool; a run starts from another run's weights when asked."""
    first = tmp_path / "first"
    train(tiny_dataset, first, run_config_from_dict(tiny_values(epochs=1)))
    weights = export_weights(first, tmp_path / "first.safetensors", half=False)
    other = make_tiny_dataset(tmp_path / "other", views=3, points=500, surface_points=1000)
    pooled = tmp_path / "pooled"
    values = tiny_values(epochs=1, init=str(weights), lr=1e-12, warmup_steps=0)
    start = {key: value.detach().clone() for key, value in load_weights(weights)[0].named_parameters()}
    train([tiny_dataset, other], pooled, run_config_from_dict(values))
    record = json.loads((pooled / "run.json").read_text())
    assert [Path(entry["path"]) for entry in record["data"]] == [tiny_dataset.resolve(), other.resolve()]
    trained = read_training_state(pooled / "last.pt")["model"]
    # At a negligible learning rate the run ends where the weights it started from were (AdamW's first steps
    # move each weight by about lr; BatchNorm's running statistics move regardless, so only parameters count).
    for key, tensor in start.items():
        assert torch.allclose(trained[key], tensor, atol=1e-6), key
    # Both folders' training images were seen: 2 x (3 objects x 2 categories x 3 views) / batch 4 = 9 steps.
    assert read_metrics(pooled)[0]["steps"] == 9
    _, pooled_info = load_weights(export_weights(pooled, tmp_path / "pooled.safetensors"))
    assert pooled_info.provenance["description"].endswith("on 2 pooled datasets (synth, synth)")
    assert load_weights(weights)[1].provenance["description"].endswith("on a synth dataset")
    big = tiny_values(epochs=1, init=str(weights))
    big["model"] = {**big["model"], "latent_dim": 32}
    with pytest.raises(ConfigError, match="other settings"):
        train(tiny_dataset, tmp_path / "mismatch", run_config_from_dict(big))


def test_datasets_with_different_view_counts_pool_on_the_fewest(tiny_dataset: Path, tmp_path: Path) -> None:
    """A 3-view folder pooled with a 1-view one trains on one view of each object (the first of the 3-view
    folder's, evenly spaced), and a 4-view one with a 2-view one on views 0 and 2 of the first, instead of refusing
    to pool them."""
    from dlsr.train.loop import pooled_views

    single = make_tiny_dataset(tmp_path / "single", views=1, points=500, surface_points=1000)
    assert pooled_views([tiny_dataset, single]) == [[0], None]
    assert pooled_views([tiny_dataset, tiny_dataset]) == [None, None]
    pooled = tmp_path / "pooled"
    train([tiny_dataset, single], pooled, run_config_from_dict(tiny_values(epochs=1)))
    # 2 folders x (3 objects x 2 categories) x 1 view / batch 4 = 3 steps (the 3-view folder alone: 4 steps).
    assert read_metrics(pooled)[0]["steps"] == 3
    four = make_tiny_dataset(tmp_path / "four", views=4, points=500, surface_points=1000)
    two = make_tiny_dataset(tmp_path / "two", views=2, points=500, surface_points=1000)
    assert pooled_views([four, two]) == [[0, 2], None]
    train([four, two], tmp_path / "four-two", run_config_from_dict(tiny_values(epochs=1)))
    assert read_metrics(tmp_path / "four-two")[0]["steps"] == 6  # 2 x 6 objects x 2 views / batch 4
    # A folder given twice counts twice: the way to weight a dataset up (Pix3D's real shapes, say).
    train([single, single], tmp_path / "twice", run_config_from_dict(tiny_values(epochs=1)))
    assert read_metrics(tmp_path / "twice")[0]["steps"] == 3  # 2 x 6 objects x 1 view / batch 4 (once: 1 step)


def test_a_run_on_a_finer_grid_grows_from_coarser_weights(tiny_dataset: Path, tmp_path: Path) -> None:
    """--init with a model one decoder stage short: the encoder starts trained, the new stage fresh."""
    coarse = export_weights(
        train(tiny_dataset, tmp_path / "coarse", run_config_from_dict(tiny_values(epochs=1))).out,
        tmp_path / "coarse.safetensors",
        half=False,
    )
    values = tiny_values(epochs=1, init=str(coarse), lr=1e-12, warmup_steps=0)
    values["model"] = {**values["model"], "resolution": 32, "decoder_channels": [16, 8, 8], "decoder_convs": [1, 0, 1]}
    train(tiny_dataset, tmp_path / "fine", run_config_from_dict(values))
    trained = read_training_state(tmp_path / "fine" / "last.pt")["model"]
    assert trained["template"].shape == (32, 32, 32)
    for key, tensor in load_weights(coarse)[0].named_parameters():
        if key != "template":
            assert torch.allclose(trained[key], tensor, atol=1e-6), key


def test_a_run_with_wider_decoder_stages_starts_from_narrower_weights(tiny_dataset: Path, tmp_path: Path) -> None:
    """--init with a model whose decoder is narrower: its weights sit inside the wider tensors, added inputs zero."""
    narrow = export_weights(
        train(tiny_dataset, tmp_path / "narrow", run_config_from_dict(tiny_values(epochs=1))).out,
        tmp_path / "narrow.safetensors",
        half=False,
    )
    old = dict(load_weights(narrow)[0].named_parameters())
    values = tiny_values(epochs=1, init=str(narrow), lr=1e-12, warmup_steps=0)
    widths = [2 * width for width in values["model"]["decoder_channels"]]
    values["model"] = {**values["model"], "decoder_channels": widths}
    train(tiny_dataset, tmp_path / "wide", run_config_from_dict(values))
    trained = read_training_state(tmp_path / "wide" / "last.pt")["model"]
    last = widths[-1] // 2
    assert trained["head.weight"].shape == (9, widths[-1])
    assert torch.allclose(trained["head.weight"][:, :last], old["head.weight"], atol=1e-6)
    assert trained["head.weight"][:, last:].abs().max() < 1e-6  # lr 1e-12: the zeros barely move
    assert torch.allclose(trained["encoder.0.conv1.weight"], old["encoder.0.conv1.weight"], atol=1e-6)
