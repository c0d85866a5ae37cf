"""Rendering meshes to RGBA pictures by ray casting (embreex): training images like 3D-R2N2's, and contact sheets.

One `Renderer` per mesh builds the ray-casting acceleration structure (BVH) once; each `render(camera)` then casts
one ray per pixel (or per sub-pixel with `supersample`) through `Camera.rays`, so pictures and `Camera.project`
share one convention (see `dlsr.camera`). Shading is Lambertian plus ambient, with optional Blinn-Phong specular,
under a few directional lights given in the camera frame (they move with the camera, so every view is lit from
the front). Surfaces are two-sided: a normal facing away from the camera is flipped, because ShapeNet-style meshes
are polygon soups whose faces point either way.

Pictures are uint8 RGBA with straight (not premultiplied) alpha: 255 on the object, 0 elsewhere, fractional on
edges when supersampled; RGB is 0 where alpha is 0 unless a background colour is given (R2N2's PNGs are the same).
Colours are used as sRGB values directly; there is no gamma handling.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from dlsr.camera import Camera, bounding_box_diagonal, fitting_distance_ratio
from dlsr.conventions import R2N2_IMAGE_SIZE
from dlsr.errors import MissingDependencyError

if TYPE_CHECKING:
    import trimesh


ColorLike = np.ndarray | Sequence[float]
Texture = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Albedo multiplier per hit: (points float (N, 3) in the mesh's frame, faces int (N,)) -> float (N,)."""

NEUTRAL_GREY = (0.72, 0.72, 0.72)
"""Albedo of the contact sheet's material."""

WHITE = (1.0, 1.0, 1.0)


@dataclass(frozen=True, eq=False)
class Appearance:
    """Material colours and lights of one picture (see `random_appearance` for training data)."""

    colors: np.ndarray  # float (P, 3) in [0, 1]: one albedo per part (row 0 for unlabelled meshes)
    light_directions: np.ndarray  # float (L, 3) unit vectors in the camera frame, from the surface towards the light
    light_intensities: np.ndarray  # float (L,) >= 0, multiplies the Lambert term of each light
    ambient: float = 0.3  # light reaching every visible surface, as a fraction of its albedo
    specular: float = 0.0  # weight of the Blinn-Phong highlight (white), 0 for matte
    shininess: float = 32.0  # Blinn-Phong exponent: larger gives a smaller highlight

    def __post_init__(self) -> None:
        colors = np.asarray(self.colors, dtype=np.float64)
        if colors.ndim == 1:
            colors = colors[None]
        if colors.ndim != 2 or colors.shape[1] != 3 or len(colors) == 0:
            raise ValueError(f"colors must be (P, 3) with P >= 1, got shape {colors.shape}")
        directions = np.asarray(self.light_directions, dtype=np.float64).reshape(-1, 3)
        norms = np.linalg.norm(directions, axis=1, keepdims=True)
        if (norms == 0).any():
            raise ValueError("light directions must be non-zero vectors")
        intensities = np.asarray(self.light_intensities, dtype=np.float64).reshape(-1)
        if intensities.shape != (len(directions),):
            raise ValueError(f"{len(directions)} light directions but {intensities.size} intensities")
        object.__setattr__(self, "colors", np.clip(colors, 0.0, 1.0))
        object.__setattr__(self, "light_directions", directions / norms)
        object.__setattr__(self, "light_intensities", intensities)

    def face_colors(self, face_parts: np.ndarray) -> np.ndarray:
        """Per-face albedo float (F, 3) from per-face part labels int (F,) in [0, P)."""
        parts = np.asarray(face_parts)
        if parts.ndim != 1 or not np.issubdtype(parts.dtype, np.integer):
            raise ValueError(f"face_parts must be a 1-D integer array, got {parts.dtype} {parts.shape}")
        if parts.size and (parts.min() < 0 or parts.max() >= len(self.colors)):
            raise ValueError(f"part labels must be in [0, {len(self.colors)}), got [{parts.min()}, {parts.max()}]")
        return self.colors[parts]


def default_appearance(color: ColorLike = NEUTRAL_GREY) -> Appearance:
    """A neutral studio light: a key light above-left of the camera, a weaker fill from the right, soft ambient."""
    return Appearance(
        colors=np.asarray(color, dtype=np.float64).reshape(1, 3),
        light_directions=np.array([[-0.5, 0.7, 0.6], [0.7, 0.1, 0.7]]),
        light_intensities=np.array([0.75, 0.3]),
        ambient=0.25,
    )


def random_appearance(rng: np.random.Generator, n_parts: int = 1) -> Appearance:
    """Random colours and lights for a training picture, deterministic given `rng`.

    Part colours are drawn in HSV (any hue, saturation 0-0.8, value 0.25-0.95) so that greys, dark and pastel
    parts all occur, as in ShapeNet's materials. One to three lights come from the camera's side of the object
    (their direction has a positive z in the camera frame) and mostly from above; the ambient term is 0.15-0.45
    and a weak highlight is present half of the time.

    Args:
        rng: the random generator (the only source of randomness).
        n_parts: number of part colours (>= 1); map per-face part labels with `Appearance.face_colors`.

    Returns:
        The appearance.
    """
    if n_parts < 1:
        raise ValueError(f"n_parts must be at least 1, got {n_parts}")
    hue = rng.uniform(0.0, 1.0, n_parts)
    saturation = rng.uniform(0.0, 0.8, n_parts)
    value = rng.uniform(0.25, 0.95, n_parts)
    colors = hsv_to_rgb(hue, saturation, value)
    n_lights = int(rng.integers(1, 4))
    azimuth = rng.uniform(-math.pi * 0.45, math.pi * 0.45, n_lights)  # left-right around the viewing axis
    elevation = rng.uniform(-0.2, 1.2, n_lights)  # radians above the camera's horizon, mostly from above
    directions = np.stack(
        [np.cos(elevation) * np.sin(azimuth), np.sin(elevation), np.cos(elevation) * np.cos(azimuth)], axis=1
    )
    # Split a total intensity among the lights, so that more lights do not mean an over-exposed picture.
    intensities = rng.uniform(0.3, 1.0, n_lights)
    intensities *= rng.uniform(0.6, 1.0) / intensities.sum()
    ambient = float(rng.uniform(0.15, 0.45))
    shiny = rng.random() < 0.5
    specular = float(rng.uniform(0.05, 0.35)) if shiny else 0.0
    shininess = float(rng.uniform(8.0, 64.0))
    return Appearance(
        colors=colors,
        light_directions=directions,
        light_intensities=intensities,
        ambient=ambient,
        specular=specular,
        shininess=shininess,
    )


@dataclass(frozen=True)
class Hits:
    """What camera rays hit: first intersection per ray."""

    face: np.ndarray  # int64 (N,): index of the face hit, -1 for a miss
    distance: np.ndarray  # float64 (N,): distance along the unit ray, inf for a miss
    barycentric: np.ndarray = field(repr=False)  # float64 (N, 3): weights of the face's three vertices at the hit


class Renderer:
    """Ray caster for one mesh: builds the BVH once, renders any number of views.

    Args:
        mesh: a `trimesh.Trimesh` (or anything with `vertices` (V, 3) and `faces` (F, 3)); open meshes and polygon
            soups are fine. An empty mesh renders as an empty (transparent) picture.
        smooth: interpolate area-weighted vertex normals across faces (for smooth surfaces such as marching-cubes
            output); False shades each face flat, which suits CAD-like parts and polygon soups.

    Raises:
        MissingDependencyError: embreex is not installed.
    """

    def __init__(self, mesh: trimesh.Trimesh | Any, *, smooth: bool = False) -> None:
        rtcore_scene, triangle_mesh = _embree()
        vertices = np.asarray(mesh.vertices, dtype=np.float64).reshape(-1, 3)
        faces = np.asarray(mesh.faces, dtype=np.int64).reshape(-1, 3)
        if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
            raise ValueError(f"faces index vertices outside [0, {len(vertices)})")
        self.vertices = vertices
        self.faces = faces
        self.smooth = smooth
        self.face_normals = _face_normals(vertices, faces)
        self.vertex_normals = _vertex_normals(vertices, faces) if smooth else None
        # embree works in float32: move the mesh to the origin and to unit size so precision does not depend on
        # where the mesh sits or how large it is.
        if len(faces):
            low, high = vertices.min(axis=0), vertices.max(axis=0)
            self._shift = (low + high) / 2.0
            self._scale = 1.0 / max(float(np.max(high - low)), 1e-12)
        else:
            self._shift, self._scale = np.zeros(3), 1.0
        self._scene = rtcore_scene.EmbreeScene()
        if len(faces):
            local = ((vertices - self._shift) * self._scale).astype(np.float32)
            triangle_mesh(scene=self._scene, vertices=local, indices=faces.astype(np.int32))
            # embree builds the BVH lazily on the first query; pay for it here, once per mesh.
            self._scene.run(np.zeros((1, 3), np.float32), np.array([[0.0, 0.0, 1.0]], np.float32))

    @property
    def n_faces(self) -> int:
        """Number of faces of the mesh."""
        return len(self.faces)

    def intersect(self, origins: np.ndarray, directions: np.ndarray) -> Hits:
        """First hits of rays.

        Args:
            origins: float (N, 3) world points.
            directions: float (N, 3) unit vectors.

        Returns:
            The face, distance and barycentric weights of each ray's first hit.
        """
        origins = np.asarray(origins, dtype=np.float64)
        directions = np.asarray(directions, dtype=np.float64)
        count = len(origins)
        if not len(self.faces) or count == 0:
            return Hits(np.full(count, -1, np.int64), np.full(count, np.inf), np.zeros((count, 3)))
        local = ((origins - self._shift) * self._scale).astype(np.float32)
        result = self._scene.run(local, directions.astype(np.float32), output=1)
        face = result["primID"].astype(np.int64)
        hit = face >= 0
        distance = np.where(hit, result["tfar"].astype(np.float64) / self._scale, np.inf)
        u, v = result["u"].astype(np.float64), result["v"].astype(np.float64)
        barycentric = np.stack([1.0 - u - v, u, v], axis=1)
        barycentric[~hit] = 0.0
        return Hits(face, distance, barycentric)

    def render(
        self,
        camera: Camera,
        size: int = R2N2_IMAGE_SIZE,
        *,
        colors: ColorLike | None = None,
        appearance: Appearance | None = None,
        background: ColorLike | None = None,
        supersample: int = 1,
        texture: Texture | None = None,
    ) -> np.ndarray:
        """Render one view.

        Args:
            camera: the view.
            size: side of the square picture, pixels.
            colors: albedo per face (F, 3|4) or per vertex (V, 3|4), uint8 0-255 or float 0-1 (alpha ignored;
                per-face wins when F == V); None uses `appearance.colors[0]` everywhere.
            appearance: lights and material (and part colours); None uses `default_appearance()`.
            background: RGB (uint8 0-255 or float 0-1) to composite the object over; alpha still marks the object.
                None leaves RGB 0 where nothing is hit.
            supersample: cast supersample^2 rays per pixel and average them, anti-aliasing edges (alpha becomes
                the covered fraction); the cost grows with supersample^2.
            texture: multiplies the albedo at each hit: called with the hit points float (N, 3) in the mesh's
                frame and the faces hit int (N,), returns float (N,) (see `dlsr.synth.materials`); None for plain.

        Returns:
            uint8 (size, size, 4) RGBA picture.
        """
        if isinstance(supersample, bool) or not isinstance(supersample, int) or supersample < 1:
            raise ValueError(f"supersample must be a positive integer, got {supersample!r}")
        appearance = appearance or default_appearance()
        fine = size * supersample
        origins, directions = camera.rays(fine)
        hits = self.intersect(origins, directions)
        rgb = self._shade(hits, origins, directions, camera, colors, appearance, texture)
        coverage = (hits.face >= 0).astype(np.float64)
        # Average supersample x supersample blocks; RGB is averaged over the rays that hit (straight alpha).
        rgb = rgb.reshape(size, supersample, size, supersample, 3).sum(axis=(1, 3))
        coverage = coverage.reshape(size, supersample, size, supersample).sum(axis=(1, 3))
        with np.errstate(invalid="ignore", divide="ignore"):
            rgb = np.where(coverage[..., None] > 0, rgb / coverage[..., None], 0.0)
        alpha = coverage / supersample**2
        if background is not None:
            rgb = alpha[..., None] * rgb + (1.0 - alpha[..., None]) * _as_unit_color(background)
        picture = np.empty((size, size, 4), dtype=np.uint8)
        picture[..., :3] = np.round(np.clip(rgb, 0.0, 1.0) * 255.0)
        picture[..., 3] = np.round(alpha * 255.0)
        return picture

    def _shade(
        self,
        hits: Hits,
        origins: np.ndarray,
        directions: np.ndarray,
        camera: Camera,
        colors: ColorLike | None,
        appearance: Appearance,
        texture: Texture | None,
    ) -> np.ndarray:
        """Linear RGB float (N, 3) of every ray, 0 for misses."""
        rgb = np.zeros((len(hits.face), 3))
        hit = hits.face >= 0
        if not hit.any():
            return rgb
        face = hits.face[hit]
        weights = hits.barycentric[hit]
        if self.vertex_normals is not None:
            normals = np.einsum("nk,nkd->nd", weights, self.vertex_normals[self.faces[face]])
            # Interpolated normals can vanish where neighbours disagree; fall back to the face's own normal.
            length = np.linalg.norm(normals, axis=1, keepdims=True)
            normals = np.where(length > 1e-8, normals / np.maximum(length, 1e-12), self.face_normals[face])
        else:
            normals = self.face_normals[face]
        # Work in the camera frame, where the lights are given.
        rotation = camera.rotation
        normals = normals @ rotation.T
        view = -(directions[hit] @ rotation.T)  # from the surface towards the camera
        facing = np.einsum("nd,nd->n", normals, view)
        normals = np.where(facing[:, None] < 0, -normals, normals)  # two-sided: face the camera

        albedo = self._albedo(colors, appearance, face, weights)
        if texture is not None:
            points = origins[hit] + hits.distance[hit, None] * directions[hit]
            albedo = albedo * np.asarray(texture(points, face), dtype=np.float64)[:, None]
        lambert = np.clip(normals @ appearance.light_directions.T, 0.0, None)  # (n, L)
        diffuse = appearance.ambient + lambert @ appearance.light_intensities
        shaded = albedo * diffuse[:, None]
        if appearance.specular > 0:
            halfway = appearance.light_directions[None, :, :] + view[:, None, :]
            halfway /= np.maximum(np.linalg.norm(halfway, axis=2, keepdims=True), 1e-12)
            cosine = np.clip(np.einsum("nd,nld->nl", normals, halfway), 0.0, None)
            highlight = (cosine**appearance.shininess * (lambert > 0)) @ appearance.light_intensities
            shaded = shaded + appearance.specular * highlight[:, None]
        rgb[hit] = shaded
        return rgb

    def _albedo(
        self, colors: ColorLike | None, appearance: Appearance, face: np.ndarray, weights: np.ndarray
    ) -> np.ndarray:
        if colors is None:
            return np.broadcast_to(appearance.colors[0], (len(face), 3))
        table = _as_unit_color(colors).reshape(-1, _color_width(colors))[:, :3]
        if len(table) == len(self.faces):
            return table[face]
        if len(table) == len(self.vertices):
            return np.einsum("nk,nkd->nd", weights, table[self.faces[face]])
        raise ValueError(
            f"colors must have one row per face ({len(self.faces)}) or per vertex ({len(self.vertices)}), "
            f"got {len(table)}"
        )


def render(
    mesh: trimesh.Trimesh | Any,
    camera: Camera,
    size: int = R2N2_IMAGE_SIZE,
    *,
    colors: ColorLike | None = None,
    appearance: Appearance | None = None,
    background: ColorLike | None = None,
    supersample: int = 1,
    smooth: bool = False,
) -> np.ndarray:
    """Render one view of a mesh: `Renderer(mesh, smooth=smooth).render(camera, ...)`.

    Building the renderer costs a BVH per call; to render several views of one mesh, make one `Renderer` and call
    its `render` per view. Arguments and result are those of `Renderer.render`: uint8 (size, size, 4) RGBA.
    """
    return Renderer(mesh, smooth=smooth).render(
        camera, size, colors=colors, appearance=appearance, background=background, supersample=supersample
    )


def normalise_for_display(vertices: np.ndarray) -> np.ndarray:
    """Vertices float (V, 3) moved so their bounding box is centred at the origin with its longest side 1."""
    vertices = np.asarray(vertices, dtype=np.float64)
    if len(vertices) == 0:
        return vertices.reshape(0, 3)
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    extent = float(np.max(high - low))
    return (vertices - (low + high) / 2.0) / (extent if extent > 0 else 1.0)


def contact_sheet(
    mesh: trimesh.Trimesh | Any,
    views: int = 8,
    size: int = 256,
    *,
    columns: int | None = None,
    elevation: float = 25.0,
    smooth: bool = False,
    supersample: int = 2,
    color: ColorLike = NEUTRAL_GREY,
) -> np.ndarray:
    """A grid of views around a mesh on white, for people to look at (neutral grey material, same renderer).

    The mesh is normalised for display (bounding box centred, longest side 1); the views are evenly spaced in
    azimuth starting at 45 degrees, at `elevation`, each as close as R2N2's nearest camera but never cutting
    the object off.

    Args:
        mesh: the mesh, in any frame (y up shows it upright).
        views: number of views (>= 1).
        size: side of each view, pixels.
        columns: views per row; None gives min(views, 4).
        elevation: degrees above the horizon.
        smooth: smooth shading (see `Renderer`).
        supersample: anti-aliasing factor (see `Renderer.render`).
        color: albedo of the material.

    Returns:
        uint8 (rows * size, columns * size, 3) RGB picture.
    """
    if views < 1:
        raise ValueError(f"views must be at least 1, got {views}")
    columns = min(views, 4) if columns is None else columns
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    rows = -(-views // columns)
    vertices = normalise_for_display(mesh.vertices)
    faces = np.asarray(mesh.faces, dtype=np.int64).reshape(-1, 3)
    renderer = Renderer(_Mesh(vertices, faces), smooth=smooth)
    appearance = default_appearance(color)
    sheet = np.full((rows * size, columns * size, 3), 255, dtype=np.uint8)
    diagonal = bounding_box_diagonal(vertices) if len(vertices) else 1.0
    for index in range(views):
        camera = Camera(azimuth=45.0 + 360.0 * index / views, elevation=elevation, distance_ratio=0.65 * diagonal)
        if len(vertices):
            needed = fitting_distance_ratio(camera, vertices, margin=0.05)
            camera = camera.with_distance_ratio(max(camera.distance_ratio, needed))
        picture = renderer.render(camera, size, appearance=appearance, background=WHITE, supersample=supersample)
        row, column = divmod(index, columns)
        sheet[row * size : (row + 1) * size, column * size : (column + 1) * size] = picture[..., :3]
    return sheet


@dataclass(frozen=True)
class _Mesh:
    vertices: np.ndarray
    faces: np.ndarray


def _embree() -> tuple[Any, Any]:
    """embreex's scene and triangle-mesh constructors, or a clear error when it is missing."""
    try:
        from embreex import rtcore_scene
        from embreex.mesh_construction import TriangleMesh
    except ImportError as exc:
        # Without embreex, trimesh's ray casting falls back to pure Python: ~2 s per picture instead of ~10 ms.
        raise MissingDependencyError(
            "rendering needs the embreex ray caster, which is not installed; "
            "install the data extra: pip install 'dlsr[data]' (or pip install embreex)"
        ) from exc
    return rtcore_scene, TriangleMesh


def _face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    if not len(faces):
        return np.zeros((0, 3))
    triangles = vertices[faces]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    # Degenerate faces get a zero normal: they are lit by the ambient term only.
    return np.divide(normals, length, out=np.zeros_like(normals), where=length > 0)


def _vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    triangles = vertices[faces]
    weighted = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])  # length = 2 * area
    normals = np.zeros_like(vertices)
    for corner in range(3):
        np.add.at(normals, faces[:, corner], weighted)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return np.divide(normals, length, out=np.zeros_like(normals), where=length > 0)


def _color_width(colors: ColorLike) -> int:
    array = np.asarray(colors)
    width = array.shape[-1] if array.ndim else 0
    if width not in (3, 4):
        raise ValueError(f"colours must have 3 (RGB) or 4 (RGBA) channels, got shape {array.shape}")
    return int(width)


def _as_unit_color(colors: ColorLike) -> np.ndarray:
    """Colours as float in [0, 1]: integer arrays are read as 0-255, floats as 0-1."""
    array = np.asarray(colors)
    _color_width(array)
    if np.issubdtype(array.dtype, np.integer):
        return array.astype(np.float64) / 255.0
    return np.clip(array.astype(np.float64), 0.0, 1.0)


def hsv_to_rgb(hue: np.ndarray, saturation: np.ndarray, value: np.ndarray) -> np.ndarray:
    """RGB float (N, 3) from hue, saturation and value float (N,), all in [0, 1]."""
    sector = np.floor(hue * 6.0).astype(np.int64) % 6
    fraction = hue * 6.0 - np.floor(hue * 6.0)
    p = value * (1.0 - saturation)
    q = value * (1.0 - saturation * fraction)
    t = value * (1.0 - saturation * (1.0 - fraction))
    table = np.stack(
        [
            np.stack([value, t, p], axis=1),
            np.stack([q, value, p], axis=1),
            np.stack([p, value, t], axis=1),
            np.stack([p, q, value], axis=1),
            np.stack([t, p, value], axis=1),
            np.stack([value, p, q], axis=1),
        ]
    )
    return table[sector, np.arange(len(hue))]
