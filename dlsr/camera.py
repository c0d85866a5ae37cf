"""The 3D-R2N2 camera: one owner for the view parameters, extrinsics, intrinsics, projection and camera rays.

3D-R2N2 (Choy et al. 2016) rendered ShapeNet with Blender and wrote one line per view to
`rendering_metadata.txt`: `azimuth elevation in_plane distance_ratio fov`. This module reproduces that camera
exactly, pinned by `tests/test_camera.py` on real data: the ground-truth voxels of two 3D-R2N2 chairs, placed by
`dlsr.binvox.r2n2_frame`, project onto the alpha masks of their 24 renderings covering >= 96 % of the rendered
pixels in every view (silhouette IoU 0.76-0.95, limited by the 32^3 voxels' coarseness), while a mirrored azimuth
or a 5 % distance error fails:

* World frame: the object's canonical frame, y up (ShapeNet's). R2N2's objects are ShapeNet v1 models with their
  bounding box centred and its diagonal 1; dlsr's objects are centred with their longest side 1 (see `dlsr.sdf`),
  which `sample_cameras(diagonal=...)` compensates for.
* Blender imports the y-up model into its z-up world with a +90 degree turn about x, then places the camera at
  (azimuth, elevation, distance) looking at the origin. Written in the y-up world frame, that camera sits at
  `distance * (cos(el) cos(az), sin(el), cos(el) sin(az))`: azimuth turns from +x towards +z about +y, elevation is
  the angle above the horizontal xz plane, and `distance = DISTANCE_SCALE * distance_ratio` (1.75, R2N2's factor).
  Azimuth 0 looks at the object's front (+x in ShapeNet v1), azimuth 90 from +z, where +x appears to the right.
* Camera frame (Blender/OpenGL): x right, y up, the camera looks down -z; the picture's "up" is the world's +y
  projected into the image (no roll), then rolled by `in_plane`.
* Intrinsics: Blender's default 35 mm lens on a 32 mm sensor, a focal length of 35/16 = 2.1875 in normalised device
  coordinates (NDC, -1..1 across the image); pixel `u = (x_ndc + 1) / 2 * W`, `v = (1 - y_ndc) / 2 * H`, so pixel
  (column c, row r) covers `[c, c + 1) x [r, r + 1)` and its centre is `(c + 0.5, r + 0.5)`.

Arrays of pixels are (u, v) = (column, row) in that order; images are indexed [row, column].
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlsr.conventions import R2N2_IMAGE_SIZE as R2N2_IMAGE_SIZE
from dlsr.conventions import R2N2_VIEWS as R2N2_VIEWS
from dlsr.errors import ConfigError, DatasetError
from dlsr.files import atomic_write

DISTANCE_SCALE = 1.75
"""Camera distance from the origin per unit of R2N2's `distance_ratio` (world units of a diagonal-1 object)."""

R2N2_FOV = 25.0
"""The field-of-view value R2N2 writes for every view (degrees)."""

BLENDER_FOCAL_NDC = 35.0 / 16.0
"""Focal length in NDC of Blender's default camera (35 mm lens, 32 mm sensor) = 2.1875, which R2N2 rendered with."""

# The view distribution measured on real rendering_metadata.txt files (see `sample_cameras`).
R2N2_AZIMUTH_RANGE = (0.0, 360.0)
R2N2_ELEVATION_RANGE = (25.0, 30.0)
R2N2_DISTANCE_RATIO_RANGE = (0.65, 0.95)

_WORLD_UP = np.array([0.0, 1.0, 0.0])
_METADATA_FIELDS = ("azimuth", "elevation", "in_plane", "distance_ratio", "fov")


@dataclass(frozen=True, kw_only=True)
class Camera:
    """One R2N2 view: a perspective camera on a sphere around the origin, looking at the origin.

    Keyword-only, because the metadata's column order (azimuth, elevation, in_plane, distance_ratio, fov) and a
    positional signature with defaults cannot agree; `Camera(azimuth=.., elevation=.., distance_ratio=..)`.
    """

    azimuth: float  # degrees about the world up axis (+y), from +x towards +z; any value (periodic)
    elevation: float  # degrees above the horizontal xz plane, in (-90, 90)
    in_plane: float = 0.0  # degrees the camera rolls about its viewing axis (counter-clockwise seen from behind it,
    # so the picture turns clockwise); R2N2 always writes 0, so its sign is dlsr's choice, not checked against Blender
    distance_ratio: float  # camera distance / DISTANCE_SCALE, world units of the object's frame
    fov: float = R2N2_FOV  # R2N2's field-of-view value, degrees; 25 means Blender's 2.1875 NDC focal length

    def __post_init__(self) -> None:
        for name in _METADATA_FIELDS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ConfigError(f"camera {name} must be a finite number, got {value!r}")
            # Normalise numpy scalars and ints to float so equality and formatting behave the same everywhere.
            object.__setattr__(self, name, float(value))
        if not -90.0 < self.elevation < 90.0:
            raise ConfigError(f"camera elevation must be in (-90, 90) degrees, got {self.elevation}")
        if not self.distance_ratio > 0.0:
            raise ConfigError(f"camera distance_ratio must be positive, got {self.distance_ratio}")
        if not 0.0 < self.fov < 90.0:
            raise ConfigError(f"camera fov must be in (0, 90) degrees, got {self.fov}")

    @property
    def distance(self) -> float:
        """Distance from the camera centre to the origin, world units."""
        return DISTANCE_SCALE * self.distance_ratio

    @property
    def focal(self) -> float:
        """Focal length in NDC (2.1875 for R2N2's fov 25).

        R2N2 writes fov 25 for every view, but Blender rendered with its default lens, whose half-angle across the
        image is atan(16/35) = 24.6 degrees: so `fov` reads as that half-angle, rounded. Other values scale the
        focal length as a half-angle would, anchored so that 25 gives exactly Blender's 2.1875.
        """
        return BLENDER_FOCAL_NDC * math.tan(math.radians(R2N2_FOV)) / math.tan(math.radians(self.fov))

    @property
    def position(self) -> np.ndarray:
        """Camera centre float64 (3,) in the world frame."""
        return self.distance * _direction(self.azimuth, self.elevation)

    @property
    def rotation(self) -> np.ndarray:
        """World-to-camera rotation float64 (3, 3); rows are the camera's right, up and backward axes in world."""
        backward = _direction(self.azimuth, self.elevation)  # from the origin towards the camera
        right = np.cross(_WORLD_UP, backward)
        right /= np.linalg.norm(right)
        up = np.cross(backward, right)
        roll = math.radians(self.in_plane)
        rolled_right = math.cos(roll) * right + math.sin(roll) * up
        rolled_up = -math.sin(roll) * right + math.cos(roll) * up
        return np.stack([rolled_right, rolled_up, backward])

    @property
    def translation(self) -> np.ndarray:
        """World-to-camera translation float64 (3,): `p_cam = rotation @ p + translation` = (0, 0, -distance)."""
        return -self.rotation @ self.position

    def extrinsics(self) -> np.ndarray:
        """World-to-camera matrix float64 (4, 4) acting on homogeneous column vectors (Blender/OpenGL camera)."""
        matrix = np.eye(4)
        matrix[:3, :3] = self.rotation
        matrix[:3, 3] = self.translation
        return matrix

    def intrinsics(self, size: int) -> np.ndarray:
        """Camera-to-pixel matrix K float64 (3, 3) for a `size` x `size` image.

        `K @ p_cam = w * (u, v, 1)` with `w = -z_cam` (the depth in front of the camera), so `u, v` follow the
        module's pixel convention directly from OpenGL camera coordinates.
        """
        half = _check_size(size) / 2.0
        focal = self.focal * half
        return np.array([[focal, 0.0, -half], [0.0, -focal, -half], [0.0, 0.0, -1.0]])

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points float (N, 3) -> camera-frame points float64 (N, 3); visible points have z < 0."""
        points = _check_points(points)
        return points @ self.rotation.T + self.translation

    def project(self, points: np.ndarray, size: int) -> np.ndarray:
        """Project world points to pixel coordinates.

        Args:
            points: float (N, 3) world points.
            size: side of the square image, pixels.

        Returns:
            float64 (N, 2) pixel coordinates (u, v) = (column, row), continuous: pixel (c, r) covers
            [c, c + 1) x [r, r + 1). Points on or behind the camera plane (depth <= 0) give NaN.
        """
        camera_points = self.to_camera(points)
        homogeneous = camera_points @ self.intrinsics(size).T
        depth = homogeneous[:, 2:]
        with np.errstate(divide="ignore", invalid="ignore"):
            pixels = homogeneous[:, :2] / depth
        pixels[depth[:, 0] <= 0.0] = np.nan
        return pixels

    def rays(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Camera rays through the centres of all pixels, row by row.

        Args:
            size: side of the square image, pixels.

        Returns:
            origins float64 (size * size, 3), all the camera centre, and unit directions float64
            (size * size, 3); ray `r * size + c` passes through the centre (c + 0.5, r + 0.5) of pixel
            (column c, row r), so `project` maps any point on it back to that centre.
        """
        size = _check_size(size)
        centres = np.arange(size) + 0.5
        column, row = np.meshgrid(centres, centres, indexing="xy")
        x_ndc = 2.0 * column.ravel() / size - 1.0
        y_ndc = 1.0 - 2.0 * row.ravel() / size
        camera_directions = np.stack([x_ndc / self.focal, y_ndc / self.focal, -np.ones_like(x_ndc)], axis=1)
        directions = camera_directions @ self.rotation  # rotation is orthonormal: camera -> world is its transpose
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        origins = np.broadcast_to(self.position, directions.shape).copy()
        return origins, directions

    def with_distance_ratio(self, distance_ratio: float) -> Camera:
        """The same view from another distance."""
        return Camera(
            azimuth=self.azimuth,
            elevation=self.elevation,
            in_plane=self.in_plane,
            distance_ratio=distance_ratio,
            fov=self.fov,
        )


def fitting_distance_ratio(camera: Camera, points: np.ndarray, margin: float = 0.0) -> float:
    """The smallest distance_ratio at which every point lies inside `camera`'s picture.

    Moving the camera along its viewing axis leaves a point's lateral camera coordinates unchanged and adds to its
    depth, so each point gives a closed-form lower bound on the distance: depth >= focal * max(|x|, |y|) / limit.

    Args:
        camera: the view (its distance is ignored).
        points: float (N, 3) world points that must be visible, e.g. an object's vertices.
        margin: keep the points this fraction of the half-width away from the border (0 <= margin < 1).

    Returns:
        The distance_ratio (> 0) that puts the outermost point exactly `margin` from the border.
    """
    if not 0.0 <= margin < 1.0:
        raise ValueError(f"margin must be in [0, 1), got {margin}")
    points = _check_points(points)
    if len(points) == 0:
        raise ValueError("no points to fit")
    rotation = camera.rotation
    lateral = np.abs(points @ rotation[:2].T).max(axis=1)
    towards_camera = points @ rotation[2]
    # A point exactly at the camera's position would need depth > 0 even with zero lateral extent.
    needed = towards_camera + camera.focal * lateral / (1.0 - margin)
    return max(float(needed.max()), 1e-6) / DISTANCE_SCALE


def sample_cameras(
    n: int,
    rng: np.random.Generator,
    *,
    diagonal: float = 1.0,
    fit: np.ndarray | None = None,
    margin: float = 0.02,
    azimuth_range: tuple[float, float] = R2N2_AZIMUTH_RANGE,
    elevation_range: tuple[float, float] = R2N2_ELEVATION_RANGE,
    distance_ratio_range: tuple[float, float] = R2N2_DISTANCE_RATIO_RANGE,
    fov: float = R2N2_FOV,
) -> list[Camera]:
    """Random views distributed like 3D-R2N2's, for an object of a given size.

    Measured on the 48 views of the two real chairs (r2n2/ShapeNetRendering/03001627/*/rendering_metadata.txt),
    cross-checked on the 48 views of ONet's `img_choy2016/cameras.npz` (which are R2N2's renderings):

    * azimuth: 4.7..354.1 degrees, no visible structure -> uniform on [0, 360);
    * elevation: 25.01..29.85 degrees, mean 27.2, std 1.38 (uniform's 1.44) -> uniform on [25, 30];
    * in_plane: always 0;
    * distance_ratio: 0.661..0.936 (ONet's cameras: 0.657..0.925), mean 0.78 -> uniform on [0.65, 0.95];
    * fov: always 25.

    Frame: R2N2's objects have a bounding-box diagonal of 1. For an object of diagonal `diagonal` (dlsr's objects,
    longest side 1, have a diagonal between 1 and sqrt(3)) the distance_ratio is multiplied by `diagonal`, so the
    object fills the picture as R2N2's do, and the cameras returned apply to the object in its own frame (write
    them to metadata as they are). R2N2's own framing can clip bulky objects at the nearest distances; pass the
    object's vertices (or its bounding-box corners) as `fit` to push any such view back until everything is at
    least `margin` of the half-width inside the border.

    Args:
        n: number of views.
        rng: the random generator (the only source of randomness).
        diagonal: the object's bounding-box diagonal in its world frame (> 0).
        fit: optional float (N, 3) world points that must stay inside every picture.
        margin: border kept free around `fit`, as a fraction of the half-width.
        azimuth_range: degrees, uniform.
        elevation_range: degrees, uniform.
        distance_ratio_range: uniform, for a diagonal-1 object.
        fov: R2N2's field-of-view value (degrees).

    Returns:
        `n` cameras.
    """
    if n < 0:
        raise ValueError(f"number of views must be non-negative, got {n}")
    if not diagonal > 0:
        raise ValueError(f"object diagonal must be positive, got {diagonal}")
    for name, (low, high) in (
        ("azimuth_range", azimuth_range),
        ("elevation_range", elevation_range),
        ("distance_ratio_range", distance_ratio_range),
    ):
        if not low <= high:
            raise ValueError(f"{name} must be (low, high) with low <= high, got {(low, high)}")
    azimuths = rng.uniform(*azimuth_range, size=n)
    elevations = rng.uniform(*elevation_range, size=n)
    ratios = rng.uniform(*distance_ratio_range, size=n) * diagonal
    cameras = []
    for azimuth, elevation, ratio in zip(azimuths, elevations, ratios, strict=True):
        camera = Camera(azimuth=azimuth, elevation=elevation, distance_ratio=ratio, fov=fov)
        if fit is not None:
            needed = fitting_distance_ratio(camera, fit, margin)
            if needed > camera.distance_ratio:
                camera = camera.with_distance_ratio(needed)
        cameras.append(camera)
    return cameras


def format_rendering_metadata(cameras: Iterable[Camera]) -> str:
    """R2N2's `rendering_metadata.txt` text: one line `azimuth elevation in_plane distance_ratio fov` per view.

    Numbers are printed with 12 significant digits and no trailing zeros (Python 2's `str(float)`, which R2N2's
    files use: `104.762753267 26.3311953982 0 0.714869786707 25`); every line ends with a newline.
    """
    lines = (" ".join(_format_number(getattr(camera, name)) for name in _METADATA_FIELDS) for camera in cameras)
    return "".join(f"{line}\n" for line in lines)


def format_renderings_list(count: int) -> str:
    """R2N2's `renderings.txt`: the image file names `00.png`, `01.png`, ... one per line."""
    return "".join(f"{index:02d}.png\n" for index in range(count))


def parse_rendering_metadata(text: str, source: str = "<text>") -> list[Camera]:
    """Parse `rendering_metadata.txt` text (see `read_rendering_metadata`); `source` names it in errors."""
    cameras = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != len(_METADATA_FIELDS):
            raise DatasetError(
                f"{source}:{number}: expected {len(_METADATA_FIELDS)} numbers "
                f"({' '.join(_METADATA_FIELDS)}), found {len(fields)}: {line.strip()!r}"
            )
        try:
            values = [float(field) for field in fields]
        except ValueError:
            raise DatasetError(f"{source}:{number}: not a number in {line.strip()!r}") from None
        try:
            cameras.append(Camera(**dict(zip(_METADATA_FIELDS, values, strict=True))))
        except ConfigError as exc:
            raise DatasetError(f"{source}:{number}: {exc}") from None
    if not cameras:
        raise DatasetError(f"{source}: no camera lines; expected one line per view")
    return cameras


def read_rendering_metadata(path: str | os.PathLike[str]) -> list[Camera]:
    """Read R2N2's `rendering_metadata.txt`.

    Args:
        path: the file; one view per line, `azimuth elevation in_plane distance_ratio fov` separated by spaces.

    Returns:
        One camera per line, in file order (line i describes image `i:02d.png`).

    Raises:
        DatasetError: missing or unreadable file, a line without exactly five numbers, an out-of-range value, or
            no lines at all.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise DatasetError(f"{path}: camera metadata not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read camera metadata: {exc}") from None
    return parse_rendering_metadata(text, source=str(path))


def write_rendering_metadata(path: str | os.PathLike[str], cameras: Sequence[Camera]) -> Path:
    """Write `format_rendering_metadata(cameras)` to `path` atomically; returns the path."""
    return atomic_write(path, format_rendering_metadata(cameras).encode("ascii"))


def bounding_box_diagonal(points: np.ndarray) -> float:
    """Length of the diagonal of the axis-aligned bounding box of float (N, 3) points."""
    points = _check_points(points)
    if len(points) == 0:
        raise ValueError("no points")
    return float(np.linalg.norm(points.max(axis=0) - points.min(axis=0)))


def _direction(azimuth: float, elevation: float) -> np.ndarray:
    azimuth_rad, elevation_rad = math.radians(azimuth), math.radians(elevation)
    return np.array(
        [
            math.cos(elevation_rad) * math.cos(azimuth_rad),
            math.sin(elevation_rad),
            math.cos(elevation_rad) * math.sin(azimuth_rad),
        ]
    )


def _format_number(value: float) -> str:
    text = f"{value:.12g}"
    return "0" if text == "-0" else text


def _check_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise ValueError(f"image size must be a positive integer, got {size!r}")
    return int(size)


def _check_points(points: np.ndarray) -> np.ndarray:
    array = np.asarray(points, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError(f"expected points of shape (N, 3), got {array.shape}")
    return array
