"""The training configs in docs/configs, which the model card's commands name, stay loadable and true.

A config that no longer loads (a renamed key, a value the checks now refuse) would break a documented chain
without any run noticing; and the shipped weights must have been trained with the settings of the config that
their recorded command names.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlsr.checkpoint import read_weights_info
from dlsr.config import config_to_dict
from dlsr.models import build_model, make_config
from dlsr.train.config import load_run_config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "docs" / "configs").glob("*.toml"))
SHIPPED = [ROOT / "weights" / name for name in ("dlsr-dls-64.safetensors", "dlsr-dls-32.safetensors")]


@pytest.mark.parametrize("path", CONFIGS, ids=[path.stem for path in CONFIGS])
def test_every_documented_config_loads_and_builds_its_model(path: Path) -> None:
    config = load_run_config(path, {})  # raises ConfigError on any key or value the code no longer accepts
    build_model(config.train.arch, config.model)


@pytest.mark.parametrize("weights", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_shipped_weights_were_trained_with_the_config_their_command_names(weights: Path) -> None:
    info = read_weights_info(weights)
    training = info.provenance["training"]
    named = re.search(r"--config (\S+)", training["command"])
    assert named, training["command"]
    config = load_run_config(ROOT / named.group(1), {})
    assert make_config(config.train.arch, config.model) == info.config
    stored_train, from_file = training["config"], config_to_dict(config.train)
    for key in ("epochs", "batch_size", "lr", "warmup_steps", "final_lr_fraction", "seed", "train_views"):
        assert stored_train[key] == from_file[key], key
    # Settings added to the code after a run are absent from its record; every recorded one must match.
    objective, augment = config_to_dict(config.objective), config_to_dict(config.augment)
    assert {key: objective[key] for key in info.provenance["objective"]} == info.provenance["objective"]
    assert {key: augment[key] for key in training["augment"]} == training["augment"]
