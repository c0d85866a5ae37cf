"""The level-set layer against analytic grids: integrals, finite differences, every loss term and objective."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlsr.config import config_from_dict
from dlsr.errors import ConfigError
from dlsr.levelset import (
    OBJECTIVES,
    ObjectiveConfig,
    compute_loss,
    dirac,
    eikonal_term,
    enclosed_volume,
    gradient,
    heaviside,
    overlap_term,
    region_term,
    sample_grid,
    surface_area,
    surface_point_term,
    surface_term,
)
from dlsr.sdf import Grid

RADIUS = 0.4


def sphere(grid: Grid, radius: float = RADIUS, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Exact SDF of a centred sphere, (1, R, R, R)."""
    points = torch.as_tensor(grid.points(), dtype=dtype)
    return (torch.linalg.vector_norm(points, dim=-1) - radius)[None]


def sphere_surface_points(count: int, radius: float = RADIUS, seed: int = 0) -> torch.Tensor:
    """(1, count, 3) points on the sphere."""
    directions = torch.randn(count, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return (radius * directions / directions.norm(dim=1, keepdim=True))[None]


def test_heaviside_is_the_integral_of_dirac() -> None:
    band = 0.3
    phi = torch.linspace(-1, 1, 20001, dtype=torch.float64)
    step = float(phi[1] - phi[0])
    assert float(dirac(phi, band).sum()) * step == pytest.approx(1.0, abs=1e-4)
    cumulative = torch.cumsum(dirac(phi, band), 0) * step
    assert torch.allclose(cumulative, heaviside(phi, band), atol=2e-4)
    assert float(heaviside(torch.tensor(-band - 1e-3), band)) == 0.0
    assert float(heaviside(torch.tensor(band + 1e-3), band)) == 1.0
    assert float(heaviside(torch.tensor(0.0), band)) == 0.5


def test_gradient_matches_numpy_gradient() -> None:
    values = torch.randn(2, 9, 9, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    spacing = 0.125
    ours = gradient(values, spacing).numpy()
    for axis in range(3):
        expected = np.gradient(values.numpy(), spacing, axis=axis + 1)  # central inside, one-sided at borders
        np.testing.assert_allclose(ours[:, axis], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("band_voxels", [1.0, 1.5, 2.0])
def test_sphere_area_and_volume_within_2_percent_at_64(band_voxels: float) -> None:
    grid = Grid(64)
    phi = sphere(grid)
    band = band_voxels * grid.spacing
    area = float(surface_area(phi, grid, band)[0])
    volume = float(enclosed_volume(phi, grid, band)[0])
    assert area == pytest.approx(4 * math.pi * RADIUS**2, rel=0.02)
    assert volume == pytest.approx(4 / 3 * math.pi * RADIUS**3, rel=0.02)


def test_area_is_independent_of_the_grid_size() -> None:
    areas = [float(surface_area(sphere(Grid(n)), Grid(n), 1.5 * Grid(n).spacing)[0]) for n in (32, 48, 64)]
    assert max(areas) / min(areas) < 1.02


def test_eikonal_term_is_zero_for_a_distance_function_and_not_for_a_scaled_one() -> None:
    grid = Grid(48)
    phi = sphere(grid)
    assert float(eikonal_term(phi, grid)[0]) < 1e-3
    assert float(eikonal_term(2 * phi, grid)[0]) == pytest.approx(1.0, abs=0.02)  # |∇(2φ)| - 1 = 1 everywhere


def test_sample_grid_is_exact_for_linear_fields_and_keeps_axis_order() -> None:
    grid = Grid(16)
    points = torch.as_tensor(grid.points(), dtype=torch.float64)
    phi = (0.5 * points[..., 0] - 2.0 * points[..., 1] + 3.0 * points[..., 2] + 0.1)[None]
    query = (torch.rand(1, 500, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) - 0.5) * 1.0
    expected = 0.5 * query[..., 0] - 2.0 * query[..., 1] + 3.0 * query[..., 2] + 0.1
    assert torch.allclose(sample_grid(phi, query, grid), expected, atol=1e-10)


def test_every_loss_is_minimal_at_the_true_sdf_and_grows_when_the_surface_shifts() -> None:
    grid = Grid(32)
    truth = sphere(grid)
    points = sphere_surface_points(2000)
    occupancy = (truth < 0).double()
    band = 1.5 * grid.spacing
    at_truth = {
        "surface": float(surface_term(truth, truth.abs(), grid, band)[0]),
        "region": float(region_term(truth, occupancy, band, "squared")[0]),
        "points": float(surface_point_term(truth, points, grid)[0]),
    }
    # D is 0 on the surface but not across the band: the minimum is area * ε * (1/2 - 2/π²), not 0.
    assert at_truth["surface"] == pytest.approx(4 * math.pi * RADIUS**2 * band * (0.5 - 2 / math.pi**2), rel=0.03)
    assert at_truth["points"] < 2e-3  # trilinear interpolation of |x| - r is exact to O(h^2)
    for shift in (-0.1, -0.05, 0.05, 0.1):
        moved = truth + shift  # the sphere shrinks by `shift` (grows when negative)
        assert float(surface_term(moved, truth.abs(), grid, band)[0]) > at_truth["surface"] + 0.5 * abs(shift)
        assert float(region_term(moved, occupancy, band, "squared")[0]) > at_truth["region"] + 0.01
        assert float(surface_point_term(moved, points, grid)[0]) == pytest.approx(abs(shift), abs=2e-3)
    for name in OBJECTIVES:
        objective = ObjectiveConfig(name=name)
        scale = 100.0 if name == "voxel" else 1.0  # BCE is minimal for confident logits, not for the SDF itself
        base = float(compute_loss(objective, scale * truth, truth, grid, points).loss)
        shifted = float(compute_loss(objective, scale * (truth + 0.08), truth, grid, points).loss)
        assert shifted > base, name


def test_logistic_region_term_is_biased_inwards_by_less_than_a_voxel() -> None:
    """The logistic region term is not minimal at the true SDF: near the surface it prefers φ steeper and the
    surface slightly inside (a convex shape has more outside than inside voxels at a given distance). Pinned:
    the whole dls objective, over shifts of the true sphere's SDF, is smallest within one voxel inside, and the
    region term alone still prefers the truth to a shift of 0.1 (2.8 voxels) either way."""
    grid = Grid(32)
    truth = sphere(grid)
    points = sphere_surface_points(2000)
    shifts = [round(0.005 * i, 3) for i in range(-20, 21)]
    losses = [float(compute_loss(ObjectiveConfig(), truth + shift, truth, grid, points).loss) for shift in shifts]
    best = shifts[losses.index(min(losses))]
    assert 0.0 < best < grid.spacing  # measured: 0.02 (0.57 voxel) inwards
    squared = ObjectiveConfig(region_form="squared")
    squared_losses = [float(compute_loss(squared, truth + shift, truth, grid, points).loss) for shift in shifts]
    assert shifts[squared_losses.index(min(squared_losses))] == 0.0
    occupancy = (truth < 0).double()
    band = 1.5 * grid.spacing
    at_truth = float(region_term(truth, occupancy, band, "logistic")[0])
    for shift in (-0.1, 0.1):
        assert float(region_term(truth + shift, occupancy, band, "logistic")[0]) > at_truth + 0.05


def test_voxel_objective_reads_negated_logits() -> None:
    grid = Grid(16)
    truth = sphere(grid)
    confident = 50 * torch.sign(truth)  # φ = -logit: large negative inside = confidently occupied
    loss = compute_loss(ObjectiveConfig(name="voxel"), confident, truth, grid).loss
    flipped = compute_loss(ObjectiveConfig(name="voxel"), -confident, truth, grid).loss
    assert float(loss) < 1e-6 < float(flipped)


def test_gradcheck_of_every_term_in_float64() -> None:
    grid = Grid(8, bound=0.55)
    generator = torch.Generator().manual_seed(3)
    noise = 0.02 * torch.randn(1, 8, 8, 8, dtype=torch.float64, generator=generator)
    phi = (sphere(grid, 0.3) + noise).requires_grad_()
    truth = sphere(grid, 0.3)
    occupancy = (truth < 0).double()
    points = sphere_surface_points(50, 0.3)
    band = 1.5 * grid.spacing
    checks = {
        "surface": lambda p: surface_term(p, truth.abs(), grid, band),
        "eikonal": lambda p: eikonal_term(p, grid),
        "region": lambda p: region_term(p, occupancy, band),
        "region, logistic": lambda p: region_term(p, occupancy, band, "logistic"),
        "overlap": lambda p: overlap_term(p, occupancy, band),
        "surface points": lambda p: surface_point_term(p, points, grid),
        "dls": lambda p: compute_loss(ObjectiveConfig(), p, truth, grid, points).loss,
        "dls-paper": lambda p: compute_loss(ObjectiveConfig(name="dls-paper"), p, truth, grid).loss,
    }
    for name, function in checks.items():
        assert torch.autograd.gradcheck(function, (phi,), eps=1e-7, atol=1e-5), name


def test_region_forms_beyond_the_band_and_at_the_truth() -> None:
    """The cosine H_ε is flat beyond ε: a voxel on the wrong side by more gets no gradient from the squared form;
    the logistic and hinge forms still pull it towards the right side, and every form is smaller on the right
    side."""
    grid = Grid(16)
    band = 2.0 * grid.spacing
    occupancy = torch.ones(1, 16, 16, 16, dtype=torch.float64)  # every voxel truly inside
    for form, expect_gradient in (("squared", False), ("logistic", True), ("hinge", True)):
        phi = torch.full_like(occupancy, 3.0 * band, requires_grad=True)  # predicted outside by 3 bands
        region_term(phi, occupancy, band, form).sum().backward()
        assert phi.grad is not None
        assert bool((phi.grad > 0).all()) is expect_gradient, form  # > 0: descent lowers φ, towards inside
        assert bool((phi.grad >= 0).all()), form
        wrong = float(region_term(phi.detach(), occupancy, band, form)[0])
        right = float(region_term(-phi.detach(), occupancy, band, form)[0])
        assert right < wrong, form
    # The hinge form is 0 for any φ with the true signs, however steep: it does not move the surface.
    truth = sphere(Grid(16))
    inside = (truth < 0).double()
    assert float(region_term(3.0 * truth, inside, band, "hinge")[0]) == 0.0
    assert float(region_term(truth + 0.05, inside, band, "hinge")[0]) > 0.0
    with pytest.raises(ValueError, match="region form"):
        region_term(occupancy, occupancy, band, "cubic")
    with pytest.raises(ConfigError, match="region_form"):
        ObjectiveConfig(region_form="cubic")


def test_dls_paper_is_blind_to_flipping_inside_and_outside_and_dls_is_not() -> None:
    grid = Grid(32)
    truth = sphere(grid)
    points = sphere_surface_points(500)
    paper = ObjectiveConfig(name="dls-paper")
    assert float(compute_loss(paper, -truth, truth, grid).loss) == pytest.approx(
        float(compute_loss(paper, truth, truth, grid).loss), rel=1e-9, abs=1e-12
    )
    ours = ObjectiveConfig()
    assert float(compute_loss(ours, -truth, truth, grid, points).loss) > 10 * float(
        compute_loss(ours, truth, truth, grid, points).loss
    )


def test_dls_paper_rewards_an_empty_surface_and_dls_does_not() -> None:
    grid = Grid(32)
    truth = sphere(grid)
    points = sphere_surface_points(500)
    empty = torch.full_like(truth, 0.3)  # no zero level set: nothing in the band
    paper = ObjectiveConfig(name="dls-paper")
    paper_surface = compute_loss(paper, empty, truth, grid).terms["surface"]
    assert paper_surface == 0.0
    ours = compute_loss(ObjectiveConfig(), empty, truth, grid, points)
    assert ours.terms["region"] > 0.1 and ours.terms["surface_points"] == pytest.approx(0.3)


def test_losses_do_not_depend_on_batch_size() -> None:
    grid = Grid(16)
    truth = sphere(grid).float()
    phi = truth + 0.03
    points = sphere_surface_points(200).float()
    objectives = [ObjectiveConfig(name=name) for name in ("dls", "voxel", "sdf-l2")]
    for objective in [*objectives, ObjectiveConfig(overlap_weight=1.0)]:
        one = float(compute_loss(objective, phi, truth, grid, points).loss)
        batch = (phi.repeat(4, 1, 1, 1), truth.repeat(4, 1, 1, 1), grid, points.repeat(4, 1, 1))
        four = float(compute_loss(objective, *batch).loss)
        assert four == pytest.approx(one, rel=1e-5), objective


def test_objective_config_is_strict() -> None:
    assert config_from_dict(ObjectiveConfig, {"name": "voxel"}).name == "voxel"
    with pytest.raises(ConfigError, match="unknown objective"):
        ObjectiveConfig(name="chamfer")
    with pytest.raises(ConfigError, match="unknown key"):
        config_from_dict(ObjectiveConfig, {"band": 2})
    with pytest.raises(ConfigError, match="band_voxels"):
        ObjectiveConfig(band_voxels=0)
    with pytest.raises(ConfigError, match="region_weight"):
        ObjectiveConfig(region_weight=-1)
    with pytest.raises(ValueError, match="surface_points"):
        grid = Grid(8)
        compute_loss(ObjectiveConfig(), sphere(grid), sphere(grid), grid)


def thin_plate(grid: Grid, half_thickness: float) -> torch.Tensor:
    """Exact SDF of the slab |x - c| <= half_thickness, c halfway between two sample planes, (1, R, R, R)."""
    x = torch.as_tensor(grid.points(), dtype=torch.float64)[..., 0]
    centre = float(x[grid.resolution // 2, 0, 0] + x[grid.resolution // 2 - 1, 0, 0]) / 2
    return ((x - centre).abs() - half_thickness)[None]


def test_thickening_puts_parts_thinner_than_a_voxel_into_the_supervision() -> None:
    grid = Grid(32)
    plate = thin_plate(grid, 0.2 * grid.spacing)  # 0.4 voxel thick
    assert not bool((plate < 0).any())  # no sample inside it: plain sign supervision never sees the plate
    beside = (plate.abs() < grid.spacing)[0]  # the two sample planes either side of the plate
    assert int(beside.sum()) == 2 * grid.resolution**2

    def pull(objective: ObjectiveConfig) -> float:
        """Mean dLoss/dφ on the planes beside the plate, at φ = the true SDF: > 0 pulls them inside."""
        phi = plate.clone().requires_grad_(True)
        scale = 100.0 if objective.name == "voxel" else 1.0  # confident logits
        compute_loss(objective, scale * phi, plate, grid, sphere_surface_points(10)).loss.backward()
        assert phi.grad is not None
        return float(phi.grad[0][beside].mean())

    for name in ("dls", "voxel"):
        assert pull(ObjectiveConfig(name=name)) < 0, name  # plain: pushed outside, the plate is learnt away
        assert pull(ObjectiveConfig(name=name, thicken_voxels=1.0)) > 0, name  # grown: pulled inside
    # The surface-point term asks for φ = -growth on the true surface.
    truth, points = sphere(grid), sphere_surface_points(2000)
    grown = truth - grid.spacing
    thick = compute_loss(ObjectiveConfig(thicken_voxels=1.0), grown, truth, grid, points).terms["surface_points"]
    plain = compute_loss(ObjectiveConfig(), grown, truth, grid, points).terms["surface_points"]
    assert thick < 2e-3
    assert plain == pytest.approx(grid.spacing, abs=2e-3)
    with pytest.raises(ConfigError, match="thicken_voxels"):
        ObjectiveConfig(thicken_voxels=-0.5)
    with pytest.raises(ConfigError, match="thicken_voxels"):
        ObjectiveConfig(thicken_voxels=10)


def test_overlap_term_weighs_a_thin_object_as_much_as_a_fat_one() -> None:
    """Losing the same share of a thin plate and of a sphere: the per-voxel region term barely notices the plate,
    the overlap term (1 - soft IoU) charges both about the same."""
    grid = Grid(32)
    band = 2.0 * grid.spacing
    shapes = {"plate": thin_plate(grid, 1.8 * grid.spacing), "sphere": sphere(grid)}  # plate: 4 samples thick
    region, overlap = {}, {}
    for name, truth in shapes.items():
        occupancy = (truth < 0).double()
        confident = truth * 50.0  # the right sign everywhere, far beyond the band
        assert float(overlap_term(confident, occupancy, band)[0]) < 0.02, name  # samples on the surface: 0.5
        assert float(overlap_term(-confident, occupancy, band)[0]) > 0.99, name
        # Half of the shape predicted outside: every inside voxel with x < 0 flips.
        x = torch.as_tensor(grid.points(), dtype=torch.float64)[None, ..., 0]
        if name == "plate":  # the plate is normal to x; cut it along y instead
            x = torch.as_tensor(grid.points(), dtype=torch.float64)[None, ..., 1]
        halved = torch.where((occupancy > 0) & (x < 0), -confident, confident)
        region[name] = float(region_term(halved, occupancy, band)[0] - region_term(confident, occupancy, band)[0])
        overlap[name] = float(overlap_term(halved, occupancy, band)[0])
    assert overlap["plate"] == pytest.approx(overlap["sphere"], abs=0.1)
    assert overlap["sphere"] == pytest.approx(0.5, abs=0.1)
    assert region["plate"] < 0.5 * region["sphere"]  # the per-voxel mean: a thin object's loss is small
    # It enters the dls loss only when weighted, and the config checks its weight.
    truth, points = sphere(grid), sphere_surface_points(200)
    assert "overlap" not in compute_loss(ObjectiveConfig(), truth, truth, grid, points).terms
    weighted = compute_loss(ObjectiveConfig(overlap_weight=1.0), truth + 0.05, truth, grid, points).terms
    assert weighted["overlap"] > 0.1
    with pytest.raises(ConfigError, match="overlap_weight"):
        ObjectiveConfig(overlap_weight=-1)
