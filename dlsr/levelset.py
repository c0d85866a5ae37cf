"""The level set as a layer: smoothed Heaviside and Dirac delta, finite differences, and the training losses.

A network predicts φ on a regular grid (`dlsr.sdf.Grid`: φ[i, j, k] at (x, y, z), world units, negative inside).
The surface is {φ = 0}. Integrals over that surface are written with a smoothed Dirac delta, so that they are
differentiable in φ and gradients reach the network (Michalkiewicz et al., ICCV 2019; `PAPER.md`):

    area(φ)    = ∫ δ_ε(φ) |∇φ| dV              volume(φ) = ∫ H_ε(-φ) dV
    surface    = ∫ δ_ε(φ) |∇φ| D dV            (D: distance of each point to the true surface)

Every grid integral is a Riemann sum times the voxel volume h³, so it approximates the continuous integral and
does not change with N; every mean is over voxels or points; every batch reduction is a mean (except in
`dls-paper`, which keeps the released code's sums on purpose). So a loss weight means the same thing at any grid
size and batch size.

Objectives (`OBJECTIVES`), all on the same network output φ:

* ``dls`` (default) — the released objective with its weaknesses (PAPER.md) repaired: the band ε is measured in
  voxels (1.5 rather than 0.1, so the band holds voxels), the |∇φ| factor of the continuous surface integral is
  kept, a region term on H(-φ) against the true occupancy decides which side is inside (the released loss is
  blind to φ → -φ and to an empty surface; the term's logistic form keeps pulling parts missed by more than the
  band, see `region_term`), and a term pulls φ to 0 at points sampled on the true surface (the
  released loss only penalises predicted surface far from the truth, never true surface left uncovered).
* ``dls-paper`` — the released objective exactly: φ and D in voxel units, ε = 0.1 voxel, no |∇φ|, per sample the
  surface term summed over voxels, the eikonal term averaged over voxels, both summed over the batch, α = 0.1.
* ``voxel`` — the occupancy baseline: the output is read as negated occupancy logits (φ = -logit, so φ < 0 still
  means inside and the mesh at level 0 is the p = 0.5 surface), trained with binary cross-entropy.
* ``sdf-l2`` — the regression baseline: mean squared error to the true SDF.

`ObjectiveConfig.thicken_voxels` (dls and voxel; default 0) trains on the true shape grown by that many voxels
(`thickened`), so parts thinner than a voxel get grid samples inside them and are learnt instead of dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from dlsr.errors import ConfigError
from dlsr.sdf import Grid

OBJECTIVES = ("dls", "dls-paper", "voxel", "sdf-l2")
DEFAULT_OBJECTIVE = "dls"
PAPER_BAND_VOXELS = 0.1  # ε of the released code, in voxel units
PAPER_EIKONAL_WEIGHT = 0.1  # α of the released code
MAX_THICKEN_VOXELS = 3.0  # beyond this a grown shape fills the gaps between parts (chair slats, table legs)
_NORM_FLOOR = 1e-12  # keeps d|∇φ|/dφ finite where ∇φ = 0 (flat regions)


# Smoothed step and delta


def heaviside(phi: torch.Tensor, band: float) -> torch.Tensor:
    """Smoothed Heaviside H_ε(φ) = ½(1 + φ/ε + sin(πφ/ε)/π) on |φ| ≤ ε, 0 below, 1 above.

    Args:
        phi: any shape, the same units as `band`.
        band: ε > 0, the half width of the smoothing band.
    """
    inside = (phi.abs() <= band).to(phi.dtype)
    scaled = phi / band
    smooth = 0.5 * (1.0 + scaled + torch.sin(math.pi * scaled) / math.pi)
    return inside * smooth + (phi > band).to(phi.dtype)


def dirac(phi: torch.Tensor, band: float) -> torch.Tensor:
    """Smoothed Dirac delta δ_ε(φ) = (1 + cos(πφ/ε)) / (2ε) on |φ| ≤ ε, else 0: the derivative of `heaviside`.

    Args:
        phi: any shape, the same units as `band`.
        band: ε > 0. Its integral over φ is 1, so δ_ε has units 1 / (units of φ).
    """
    inside = (phi.abs() <= band).to(phi.dtype)
    return inside * (1.0 + torch.cos(math.pi * phi / band)) / (2.0 * band)


# Finite differences


def gradient(phi: torch.Tensor, spacing: float) -> torch.Tensor:
    """∇φ by finite differences: central inside, first-order one-sided at the borders (like `numpy.gradient`).

    Args:
        phi: (B, R, R, R) indexed [i, j, k] <-> (x, y, z).
        spacing: h, the distance between neighbouring samples (world units).

    Returns:
        (B, 3, R, R, R): ∂φ/∂x, ∂φ/∂y, ∂φ/∂z.
    """
    parts = []
    for dim in (1, 2, 3):
        size = phi.shape[dim]
        centre = (phi.narrow(dim, 2, size - 2) - phi.narrow(dim, 0, size - 2)) / (2.0 * spacing)
        first = (phi.narrow(dim, 1, 1) - phi.narrow(dim, 0, 1)) / spacing
        last = (phi.narrow(dim, size - 1, 1) - phi.narrow(dim, size - 2, 1)) / spacing
        parts.append(torch.cat((first, centre, last), dim=dim))
    return torch.stack(parts, dim=1)


def gradient_norm(phi: torch.Tensor, spacing: float) -> torch.Tensor:
    """|∇φ| (B, R, R, R) from `gradient`; differentiable everywhere (a tiny floor under the square root)."""
    return torch.sqrt((gradient(phi, spacing) ** 2).sum(dim=1) + _NORM_FLOOR)


# Integrals (tests and diagnostics)


def surface_area(phi: torch.Tensor, grid: Grid, band: float) -> torch.Tensor:
    """Area of {φ = 0} as ∫ δ_ε(φ)|∇φ| dV, (B,) in world units² (`band` ε in world units)."""
    h = grid.spacing
    return (dirac(phi, band) * gradient_norm(phi, h)).sum(dim=(1, 2, 3)) * h**3


def enclosed_volume(phi: torch.Tensor, grid: Grid, band: float) -> torch.Tensor:
    """Volume of {φ < 0} as ∫ H_ε(-φ) dV, (B,) in world units³."""
    return heaviside(-phi, band).sum(dim=(1, 2, 3)) * grid.spacing**3


# Loss terms: each returns one value per sample, (B,), so objectives choose the batch reduction.


def surface_term(
    phi: torch.Tensor,
    distance: torch.Tensor,
    grid: Grid,
    band: float,
    *,
    keep_gradient_norm: bool = True,
    norm: torch.Tensor | None = None,
) -> torch.Tensor:
    """∫ δ_ε(φ) |∇φ| D dV: how far the predicted surface lies from the true one, integrated over its area.

    Args:
        phi: (B, R, R, R) predicted SDF, world units.
        distance: (B, R, R, R) unsigned distance D of each sample to the true surface, world units.
        grid: the samples' grid.
        band: ε, world units.
        keep_gradient_norm: keep the |∇φ| factor of the continuous integral (False drops it, as the released
            code does; then the value also depends on how steep φ is).
        norm: |∇φ| (B, R, R, R) if the caller has it already (`gradient_norm`), so it is computed once per step.

    Returns:
        (B,): world units³ (area times distance), independent of the grid size.
    """
    weight = dirac(phi, band)
    if keep_gradient_norm:
        weight = weight * (gradient_norm(phi, grid.spacing) if norm is None else norm)
    return (weight * distance).sum(dim=(1, 2, 3)) * grid.spacing**3


def eikonal_term(phi: torch.Tensor, grid: Grid, *, norm: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over voxels of (|∇φ| - 1)², (B,): 0 for a true distance function (`norm`: as in `surface_term`)."""
    if norm is None:
        norm = gradient_norm(phi, grid.spacing)
    return ((norm - 1.0) ** 2).mean(dim=(1, 2, 3))


REGION_FORMS = ("squared", "logistic", "hinge")
DEFAULT_REGION_FORM = "logistic"  # dls's region term, since 2026-11-25 (docs/RESULTS.md); "squared" before


def region_term(
    phi: torch.Tensor, occupancy: torch.Tensor, band: float, form: str = DEFAULT_REGION_FORM
) -> torch.Tensor:
    """Mean over voxels of a penalty on H(-φ) against the true occupancy, (B,): which side of the surface is inside.

    Forms:
        "squared": (H_ε(-φ) - occupancy)² with the cosine H_ε of `heaviside`. H_ε is flat beyond ±ε, so a voxel
            on the wrong side by more than ε gets no gradient from this term.
        "logistic": the cross-entropy of occupancy against H(-φ) = sigmoid(-φ/ε), the logistic smoothed Heaviside.
            It has no flat part (Chan and Vese chose a Heaviside without compact support for the same reason:
            the energy then acts on every level set, not only near the current zero level), so a part the
            prediction misses by several voxels is still pulled back; this is the voxel baseline's loss on the
            logits -φ/ε.
        "hinge": max(0, φ/ε) inside the true shape and max(0, -φ/ε) outside: zero wherever φ has the right sign,
            a constant pull where it has not. Unlike "logistic" it does not push φ away from 0 on the right side,
            so it adds no bias to where the surface lies (the logistic form prefers it slightly inside).

    Args:
        phi: (B, R, R, R) world units.
        occupancy: (B, R, R, R) 1 inside the true shape, 0 outside.
        band: ε, world units.
        form: one of `REGION_FORMS`.
    """
    if form == "squared":
        return ((heaviside(-phi, band) - occupancy) ** 2).mean(dim=(1, 2, 3))
    if form == "logistic":
        return F.binary_cross_entropy_with_logits(-phi / band, occupancy, reduction="none").mean(dim=(1, 2, 3))
    if form == "hinge":
        wrong_side = torch.where(occupancy > 0.5, phi, -phi)  # > 0 where φ has the wrong sign
        return F.relu(wrong_side / band).mean(dim=(1, 2, 3))
    raise ValueError(f"unknown region form {form!r}; choose one of {', '.join(REGION_FORMS)}")


def overlap_term(phi: torch.Tensor, occupancy: torch.Tensor, band: float) -> torch.Tensor:
    """1 - the soft IoU of H(-φ) = sigmoid(-φ/ε) with the true occupancy, (B,): 0 when the soft inside is exact.

    Why: the region term is a mean per voxel, so its gradient is dominated by the empty space around a thin object
    (in our 64³ training data a bench fills 1.5 % of the grid, a cabinet 18 %): predicting "outside" nearly
    everywhere is cheap, and thin objects are learnt as scattered fragments. This term is a ratio per object, as
    the IoU metric is: missing half of a bench costs as much as missing half of a cabinet, whatever their volumes.

    Args:
        phi: (B, R, R, R) world units.
        occupancy: (B, R, R, R) 1 inside the true shape, 0 outside.
        band: ε, world units.
    """
    inside = torch.sigmoid(-phi / band)
    intersection = (inside * occupancy).sum(dim=(1, 2, 3))
    union = (inside + occupancy).sum(dim=(1, 2, 3)) - intersection
    return 1.0 - intersection / union.clamp_min(1.0)  # clamped: no NaN for an object with no voxel inside


def sample_grid(phi: torch.Tensor, points: torch.Tensor, grid: Grid) -> torch.Tensor:
    """Trilinear lookup of φ at world points; points outside the grid take the border value.

    Args:
        phi: (B, R, R, R) on `grid`.
        points: (B, P, 3) world coordinates (x, y, z).

    Returns:
        (B, P).
    """
    # grid_sample's last axis is (W, H, D) = (k, j, i) = (z, y, x); with align_corners=True, -1 and +1 are
    # the centres of the first and last samples, which lie at -bound and +bound.
    normalised = points.flip(-1) / grid.bound
    values = F.grid_sample(
        phi.unsqueeze(1),
        normalised.view(points.shape[0], 1, 1, -1, 3).to(phi.dtype),
        mode="bilinear",
        padding_mode="border",
        align_corners=True,
    )
    return values.view(points.shape[0], -1)


def surface_point_term(phi: torch.Tensor, points: torch.Tensor, grid: Grid) -> torch.Tensor:
    """Mean |φ| at points sampled on the true surface, (B,), world units: 0 when φ's zero set passes through all."""
    return sample_grid(phi, points, grid).abs().mean(dim=1)


def thickened(target_sdf: torch.Tensor, distance: float) -> torch.Tensor:
    """The true SDF of the shape grown by `distance` (world units): every level set moves outwards by it.

    Why: a part thinner than a voxel (a chair slat, a lamp stem, a table leg at 32³) often has no grid sample
    inside it, so the sign supervision says "outside" everywhere around it and the network learns to drop it.
    Grown by about a voxel, every such part holds samples inside and is learnt as a solid part; the mesh is then
    extracted near level 0 (the level calibration decides) and comes out about that much thicker.

    Args:
        target_sdf: (B, R, R, R) world units, negative inside.
        distance: >= 0, world units.
    """
    return target_sdf - distance


# Objectives


@dataclass(frozen=True)
class ObjectiveConfig:
    """Which loss trains the network, and its weights. Fields a given objective does not use are ignored."""

    name: str = DEFAULT_OBJECTIVE  # one of OBJECTIVES
    band_voxels: float = 1.5  # dls: ε of the surface term, in voxels (converted to world units with the grid)
    region_band_voxels: float = 2.0  # dls: ε of the region term's Heaviside, in voxels
    region_form: str = DEFAULT_REGION_FORM  # dls: the region term's penalty, one of REGION_FORMS (see region_term)
    surface_weight: float = 1.0  # dls: surface term, world units³
    region_weight: float = 10.0  # dls: region term (a mean per voxel, see region_form)
    overlap_weight: float = 0.0  # dls: overlap term (1 - soft IoU per object, see overlap_term), on region's ε
    surface_point_weight: float = 1.0  # dls: surface-point term, world units
    eikonal_weight: float = 0.1  # dls: eikonal term (dls-paper always uses α = 0.1)
    keep_gradient_norm: bool = True  # dls: keep |∇φ| in the surface integral
    thicken_voxels: float = 0.0  # dls and voxel: train on the true shape grown by this many voxels (`thickened`)

    def __post_init__(self) -> None:
        if self.name not in OBJECTIVES:
            raise ConfigError(f"objective.name: unknown objective {self.name!r}; choose one of {', '.join(OBJECTIVES)}")
        if self.region_form not in REGION_FORMS:
            raise ConfigError(
                f"objective.region_form: unknown form {self.region_form!r}; choose one of {', '.join(REGION_FORMS)}"
            )
        if isinstance(self.thicken_voxels, bool) or not isinstance(self.thicken_voxels, int | float):
            raise ConfigError(f"objective.thicken_voxels: expected a number of voxels, found {self.thicken_voxels!r}")
        if not 0 <= self.thicken_voxels <= MAX_THICKEN_VOXELS:
            raise ConfigError(
                f"objective.thicken_voxels: expected 0 to {MAX_THICKEN_VOXELS} voxels, found {self.thicken_voxels!r}"
            )
        for key in ("band_voxels", "region_band_voxels"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
                raise ConfigError(f"objective.{key}: expected a finite positive number, found {value!r}")
        for key in ("surface_weight", "region_weight", "overlap_weight", "surface_point_weight", "eikonal_weight"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < math.inf:
                raise ConfigError(f"objective.{key}: expected a finite number >= 0, found {value!r}")

    @property
    def needs_surface_points(self) -> bool:
        """Whether the loss reads points sampled on the true surface."""
        return self.name == "dls" and self.surface_point_weight > 0

    def with_name(self, name: str) -> ObjectiveConfig:
        """The same weights under another objective name (validated)."""
        return replace(self, name=name)


@dataclass
class LossResult:
    """A training loss and its parts (detached floats, for logging)."""

    loss: torch.Tensor  # scalar, differentiable
    terms: dict[str, float]


def compute_loss(
    objective: ObjectiveConfig,
    phi: torch.Tensor,
    target_sdf: torch.Tensor,
    grid: Grid,
    surface_points: torch.Tensor | None = None,
) -> LossResult:
    """The training loss of `objective` for a batch.

    Args:
        objective: which loss and its weights.
        phi: (B, R, R, R) network output, world units (for `voxel`: negated occupancy logits).
        target_sdf: (B, R, R, R) the true SDF on the same grid, world units, negative inside.
        grid: the grid both live on.
        surface_points: (B, P, 3) world points on the true surface; needed when `objective.needs_surface_points`.

    Returns:
        The scalar loss and its named parts.
    """
    if phi.shape != target_sdf.shape:
        raise ValueError(f"prediction {tuple(phi.shape)} and target {tuple(target_sdf.shape)} differ in shape")
    name = objective.name
    if name == "sdf-l2":
        loss = F.mse_loss(phi, target_sdf)
        return LossResult(loss, {"mse": float(loss.detach())})
    if name == "dls-paper":
        return _paper_loss(phi, target_sdf, grid)
    h = grid.spacing
    growth = objective.thicken_voxels * h
    target_sdf = thickened(target_sdf, growth) if growth > 0 else target_sdf
    occupancy = (target_sdf < 0).to(phi.dtype)
    if name == "voxel":
        loss = F.binary_cross_entropy_with_logits(-phi, occupancy)
        return LossResult(loss, {"bce": float(loss.detach())})
    distance = target_sdf.abs()
    norm = gradient_norm(phi, h)  # shared by the surface and eikonal terms
    parts: dict[str, torch.Tensor] = {
        "surface": surface_term(
            phi, distance, grid, objective.band_voxels * h, keep_gradient_norm=objective.keep_gradient_norm, norm=norm
        ).mean(),
        "eikonal": eikonal_term(phi, grid, norm=norm).mean(),
    }
    weights = {"surface": objective.surface_weight, "eikonal": objective.eikonal_weight}
    if objective.region_weight > 0:
        parts["region"] = region_term(phi, occupancy, objective.region_band_voxels * h, objective.region_form).mean()
        weights["region"] = objective.region_weight
    if objective.overlap_weight > 0:
        parts["overlap"] = overlap_term(phi, occupancy, objective.region_band_voxels * h).mean()
        weights["overlap"] = objective.overlap_weight
    if objective.needs_surface_points:
        if surface_points is None:
            raise ValueError("the dls objective with surface_point_weight > 0 needs surface_points")
        parts["surface_points"] = surface_point_term(phi + growth, surface_points, grid).mean()
        weights["surface_points"] = objective.surface_point_weight
    loss = sum((weights[key] * value for key, value in parts.items()), phi.new_zeros(()))
    return LossResult(loss, {key: float(value.detach()) for key, value in parts.items()})


def _paper_loss(phi: torch.Tensor, target_sdf: torch.Tensor, grid: Grid) -> LossResult:
    """The released objective: Σ_b [Σ_voxels δ_0.1(φ_b) D_b] + 0.1 Σ_b mean_voxels (|∇φ_b| - 1)², voxel units."""
    h = grid.spacing
    phi_voxels = phi / h
    distance_voxels = target_sdf.abs() / h
    surface = (dirac(phi_voxels, PAPER_BAND_VOXELS) * distance_voxels).sum(dim=(1, 2, 3)).sum()
    eikonal = ((gradient_norm(phi_voxels, 1.0) - 1.0) ** 2).mean(dim=(1, 2, 3)).sum()
    loss = surface + PAPER_EIKONAL_WEIGHT * eikonal
    return LossResult(loss, {"surface": float(surface.detach()), "eikonal": float(eikonal.detach())})
