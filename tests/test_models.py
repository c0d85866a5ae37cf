"""Tests for dlsr.models: the registry, configs, shapes, gradients, initial output and determinism."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dlsr.errors import ConfigError
from dlsr.models import (
    DEFAULT_ARCH,
    MODELS,
    LiteConfig,
    PaperResNetConfig,
    build_model,
    count_parameters,
    grow_state_dict,
    growth_refusal,
    make_config,
    pixel_shuffle_3d,
    upsample_2x_trilinear,
)
from dlsr.sdf import DEFAULT_BOUND, Grid, sample_sdf, sphere

# Small enough that a forward and backward pass take milliseconds, but with every kind of stage.
TINY = LiteConfig(
    image_size=32,
    resolution=16,
    stem_channels=4,
    encoder_channels=(8, 8),
    latent_dim=16,
    decoder_channels=(8, 8, 4),
    decoder_convs=(1, 1, 1),
)


def random_images(batch: int, size: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(seed))


def seeded_model(arch: str, config: object = None, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(arch, config)


@pytest.mark.parametrize("arch", list(MODELS))
def test_every_registered_model_maps_images_to_a_finite_float32_grid(arch: str) -> None:
    model = seeded_model(arch).eval()
    config = model.config
    # The paper net is slow, and batch 1 also checks that no layer needs batch statistics in eval mode.
    batch = 1 if arch == "dls-paper-resnet" else 2
    with torch.no_grad():
        sdf = model(random_images(batch, config.image_size))
    r = config.resolution
    assert sdf.shape == (batch, r, r, r)
    assert sdf.dtype == torch.float32
    assert torch.isfinite(sdf).all()
    assert model.arch == arch
    assert isinstance(config, MODELS[arch].config_class)


def test_registry_entries_are_complete() -> None:
    assert DEFAULT_ARCH in MODELS
    for arch, spec in MODELS.items():
        assert spec.module_class.arch == arch
        assert spec.summary and "\n" not in spec.summary
        defaults = spec.config_class()
        assert defaults.image_size == 128
        assert defaults.resolution == 32
        assert Grid(defaults.resolution, defaults.bound).bound == DEFAULT_BOUND


def test_tiny_lite_config_gives_its_own_shapes() -> None:
    model = seeded_model("dlsr-lite", TINY)
    sdf = model(random_images(3, TINY.image_size))
    assert sdf.shape == (3, 16, 16, 16)


@pytest.mark.parametrize("bad", ["nope", "DLSR-LITE", ""])
def test_unknown_arch_is_a_config_error_listing_the_valid_names(bad: str) -> None:
    for call in (lambda: make_config(bad), lambda: build_model(bad)):
        with pytest.raises(ConfigError) as info:
            call()
        for name in MODELS:
            assert name in str(info.value)


@pytest.mark.parametrize("arch", list(MODELS))
def test_unknown_config_key_is_a_config_error_listing_the_valid_keys(arch: str) -> None:
    with pytest.raises(ConfigError, match="unknown key") as info:
        make_config(arch, {"resolutoin": 32})
    assert "resolutoin" in str(info.value)
    for field in dataclasses.fields(MODELS[arch].config_class):
        assert field.name in str(info.value)
    with pytest.raises(ConfigError):
        build_model(arch, {"resolutoin": 32})


@pytest.mark.parametrize(
    ("arch", "values"),
    [
        ("dlsr-lite", {"resolution": 30}),  # not a multiple of 2 ** 3
        ("dlsr-lite", {"image_size": 100}),  # not a multiple of 4 * 2 ** 3
        ("dlsr-lite", {"decoder_convs": [1, 1]}),  # one count per stage
        ("dlsr-lite", {"template_radius": 0.9}),  # outside the grid
        ("dlsr-lite", {"latent_dim": "big"}),  # wrong type
        ("dls-paper-resnet", {"resolution": 64}),
        ("dls-paper-resnet", {"image_size": 64}),
        ("dls-paper-resnet", {"bound": 0}),
    ],
)
def test_invalid_config_values_are_config_errors(arch: str, values: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        make_config(arch, values)


def test_a_config_of_another_architecture_is_refused() -> None:
    with pytest.raises(ConfigError, match="LiteConfig"):
        build_model("dlsr-lite", PaperResNetConfig())


@pytest.mark.parametrize("config", [LiteConfig(), TINY, PaperResNetConfig()])
def test_configs_round_trip_through_dicts_and_json(config: object) -> None:
    arch = next(arch for arch, spec in MODELS.items() if isinstance(config, spec.config_class))
    values = dataclasses.asdict(config)
    assert make_config(arch, values) == config
    # JSON (weights metadata) turns tuples into lists; make_config must turn them back.
    assert make_config(arch, json.loads(json.dumps(values))) == config
    assert build_model(arch, values).config == config


def test_make_config_without_values_gives_the_defaults() -> None:
    assert make_config("dlsr-lite") == LiteConfig()
    assert make_config("dls-paper-resnet", {}) == PaperResNetConfig()


def test_paper_network_has_the_published_parameter_count() -> None:
    count = count_parameters(build_model("dls-paper-resnet"))
    assert abs(count - 21.7e6) / 21.7e6 < 0.05, count


def test_lite_default_is_a_few_million_parameters() -> None:
    count = count_parameters(build_model("dlsr-lite"))
    assert 1e6 < count < 10e6, count


def test_count_parameters_counts_every_scalar() -> None:
    layer = torch.nn.Linear(3, 4)  # 3 * 4 weights + 4 biases
    assert count_parameters(layer) == 16


def test_gradients_reach_every_lite_parameter() -> None:
    model = seeded_model("dlsr-lite", TINY).train()
    target = torch.randn(2, 16, 16, 16, generator=torch.Generator().manual_seed(1)) * 0.1
    loss = (model(random_images(2, TINY.image_size)) - target).abs().mean()
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_same_seed_gives_identical_models_and_another_seed_does_not() -> None:
    images = random_images(2, TINY.image_size)
    outputs = []
    for seed in (7, 7, 8):
        model = seeded_model("dlsr-lite", TINY, seed=seed).eval()
        with torch.no_grad():
            outputs.append(model(images))
    assert torch.equal(outputs[0], outputs[1])
    assert not torch.equal(outputs[0], outputs[2])


@pytest.mark.parametrize("training", [True, False])
def test_untrained_lite_outputs_the_template_sphere_plus_small_noise(training: bool) -> None:
    config = LiteConfig()
    model = seeded_model("dlsr-lite", config).train(training)
    with torch.no_grad():
        sdf = model(random_images(2, config.image_size))[0].numpy()
    grid = Grid(config.resolution, config.bound)
    expected = sample_sdf(sphere(radius=config.template_radius), grid)
    # The first training steps see the sphere plus a fraction of a voxel of noise: the right scale and place
    # (this also pins the template to dlsr.sdf's grid convention). In eval mode, untrained BN statistics
    # shrink the noise further.
    noise = sdf - expected
    assert np.abs(noise).max() < 3 * grid.spacing
    assert noise.std() < 0.5 * grid.spacing
    if training:
        assert noise.std() > 0.1 * grid.spacing  # the head is small, not dead
    centre = config.resolution // 2
    assert sdf[centre, centre, centre] < 0 < sdf[0, 0, 0]


def test_wrong_image_shape_is_a_value_error_naming_the_expected_shape() -> None:
    model = seeded_model("dlsr-lite", TINY)
    with pytest.raises(ValueError, match=r"\(B, 3, 32, 32\)"):
        model(torch.rand(1, 3, 64, 64))
    with pytest.raises(ValueError):
        model(torch.rand(3, 32, 32))


def test_lite_runs_under_bf16_autocast_and_returns_float32() -> None:
    model = seeded_model("dlsr-lite", TINY).eval()
    images = random_images(2, TINY.image_size)
    with torch.no_grad():
        reference = model(images)
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            low = model(images)
    assert low.dtype == torch.float32
    assert torch.isfinite(low).all()
    assert (low - reference).abs().max() < 0.05


def test_pixel_shuffle_3d_places_channels_in_2x2x2_blocks() -> None:
    channels = 2
    x = torch.arange(2 * 2 * 3 * 1 * 8 * channels, dtype=torch.float32).reshape(2, 2, 3, 1, 8 * channels)
    y = pixel_shuffle_3d(x)
    assert y.shape == (2, 4, 6, 2, channels)
    for a in range(2):
        for b in range(2):
            for d in range(2):
                block = (4 * a + 2 * b + d) * channels
                assert torch.equal(y[:, a::2, b::2, d::2, :], x[..., block : block + channels])


def test_upsample_2x_trilinear_matches_torch_interpolate() -> None:
    x = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    expected = F.interpolate(x[:, None], scale_factor=2.0, mode="trilinear", align_corners=False)[:, 0]
    assert torch.allclose(upsample_2x_trilinear(x), expected, atol=1e-6)


def test_upsample_2x_trilinear_keeps_linear_ramps_away_from_the_edges() -> None:
    ramp = torch.arange(4.0).reshape(1, 4, 1, 1).expand(1, 4, 2, 2)
    up = upsample_2x_trilinear(ramp)[0, :, 0, 0]
    # Cell-centred: fine sample f lies at coarse coordinate (f - 0.5) / 2, clamped to [0, 3] at the edges.
    assert torch.allclose(up, torch.tensor([0.0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.0]))


@pytest.mark.parametrize("config", [LiteConfig(), TINY])
def test_lite_gives_the_same_sdf_alone_and_in_a_batch(config: LiteConfig) -> None:
    # Batch 1 takes a different convolution kernel (oneDNN, forced) from batch 2 (PyTorch's own choice).
    model = seeded_model("dlsr-lite", config).eval()
    images = random_images(2, config.image_size)
    with torch.no_grad():
        alone = model(images[:1])
        batched = model(images)
        # Trained-like magnitudes: make the head's contribution large enough to compare.
        model.head.weight.mul_(100.0)
        alone_big, batched_big = model(images[:1]), model(images)
    assert torch.allclose(alone, batched[:1], atol=1e-6)
    assert torch.allclose(alone_big, batched_big[:1], rtol=1e-4, atol=1e-5)


# TINY on a grid twice as fine: one more decoder stage of the same width as TINY's last.
TINY_FINER = dataclasses.replace(TINY, resolution=32, decoder_channels=(8, 8, 4, 4), decoder_convs=(1, 1, 1, 1))


def test_growing_keeps_every_trained_tensor_and_resamples_the_template() -> None:
    from dlsr.sdf import resample_sdf

    coarse, fine = seeded_model("dlsr-lite", TINY, seed=1), seeded_model("dlsr-lite", TINY_FINER, seed=2)
    state, fresh = grow_state_dict(coarse, fine)
    fine.load_state_dict(state)
    assert fresh and all(name.startswith("decoder.3.") for name in fresh)
    old = coarse.state_dict()
    for name, tensor in fine.state_dict().items():
        if name in fresh:
            assert torch.equal(tensor, seeded_model("dlsr-lite", TINY_FINER, seed=2).state_dict()[name]), name
        elif name == "template":
            expected = resample_sdf(old["template"].numpy(), 32)
            assert tensor.shape == (32, 32, 32) and np.allclose(tensor.numpy(), expected, atol=1e-6)
        else:
            assert torch.equal(tensor, old[name]), name
    fine.eval()
    assert fine(random_images(2, 32)).shape == (2, 32, 32, 32)


def trained_like(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """`model` with random BatchNorm statistics and affine parameters, as a trained model has, in eval mode."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            shape = module.running_mean.shape  # type: ignore[union-attr]
            module.running_mean.copy_(0.3 * torch.randn(shape, generator=generator))  # type: ignore[union-attr]
            module.running_var.copy_(0.5 + torch.rand(shape, generator=generator))  # type: ignore[union-attr]
            module.weight.data.copy_(1 + 0.2 * torch.randn(shape, generator=generator))
            module.bias.data.copy_(0.2 * torch.randn(shape, generator=generator))
    return model.eval()


@pytest.mark.parametrize(
    "decoder_channels",
    [(8, 8, 6), (12, 8, 4), (8, 12, 8), (16, 16, 16)],
    ids=["last", "first", "middle-and-head", "all"],
)
def test_widening_a_decoder_keeps_the_trained_function_exactly(decoder_channels: tuple[int, ...]) -> None:
    """Added channels reach old ones only through zero weights: the wider model predicts what the narrow one did,
    and it can still learn (the added channels' weights get gradients once the first step moves the zeros)."""
    narrow = trained_like(seeded_model("dlsr-lite", TINY, seed=1), seed=3)
    wide_config = dataclasses.replace(TINY, decoder_channels=decoder_channels)
    wide = seeded_model("dlsr-lite", wide_config, seed=2)
    assert growth_refusal(TINY, wide_config) is None
    state, fresh = grow_state_dict(narrow, wide)
    assert fresh == []  # every tensor has a trained counterpart, some wider
    wide.load_state_dict(state)
    wide.eval()
    images = random_images(3, 32, seed=4)
    with torch.no_grad():
        assert torch.allclose(wide(images), narrow(images), atol=1e-5)
    # A control that fails without the zeros: the fresh weights alone change the prediction.
    assert not torch.allclose(seeded_model("dlsr-lite", wide_config, seed=2).eval()(images), narrow(images))
    wide.train()
    wide(images).square().mean().backward()
    if decoder_channels[-1] > TINY.decoder_channels[-1]:  # the head reads the added channels through zeros
        assert wide.head.weight.grad is not None
        assert wide.head.weight.grad[:, TINY.decoder_channels[-1] :].abs().sum() > 0


def test_growing_and_widening_combine() -> None:
    """A finer grid and wider old stages at once: old tensors embedded, only the new stage fresh."""
    target = dataclasses.replace(TINY_FINER, decoder_channels=(8, 12, 8, 4))
    narrow, wide = seeded_model("dlsr-lite", TINY, seed=1), seeded_model("dlsr-lite", target, seed=2)
    state, fresh = grow_state_dict(narrow, wide)
    wide.load_state_dict(state)
    assert fresh and all(name.startswith("decoder.3.") for name in fresh)
    old = narrow.state_dict()["decoder.2.0.expand.weight"]  # (8 * 4, 8): 8 sub-voxel blocks of 4 channels
    new = wide.state_dict()["decoder.2.0.expand.weight"]  # (8 * 8, 12)
    assert torch.equal(new.reshape(8, 8, 12)[:, :4, :8], old.reshape(8, 4, 8))
    assert not new.reshape(8, 8, 12)[:, :4, 8:].any()  # old outputs ignore the added inputs
    assert wide.eval()(random_images(2, 32)).shape == (2, 32, 32, 32)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"latent_dim": 32}, "latent_dim differs"),
        ({"resolution": 8, "decoder_channels": (8, 8), "decoder_convs": (1, 1)}, "at least the old grid"),
        ({"resolution": 16, "decoder_channels": (8, 8, 4), "decoder_convs": (1, 1, 1)}, "nothing to grow"),
        ({"decoder_channels": (8, 4, 4, 4)}, "at least as wide"),
        ({"decoder_convs": (1, 0, 1, 1)}, "the same decoder_convs"),
        ({"decoder_channels": (8, 8, 4, 2)}, "must not shrink"),
        ({"resolution": 64}, "coarse grid side"),
    ],
)
def test_growing_is_refused_with_the_reason_when_the_models_do_not_fit(change: dict, reason: str) -> None:
    target = dataclasses.replace(TINY_FINER, **change)
    assert reason in (growth_refusal(TINY, target) or "")
    with pytest.raises(ConfigError, match="cannot grow"):
        grow_state_dict(build_model("dlsr-lite", TINY), build_model("dlsr-lite", target))
    assert growth_refusal(TINY, TINY_FINER) is None
    assert "only dlsr-lite" in (growth_refusal(PaperResNetConfig(), TINY_FINER) or "")
