"""Repair of the needles and flat caps manifold3d's booleans leave where primitives touch."""

from __future__ import annotations

import numpy as np

_COLLAPSE_LENGTH = 1e-6
"""Edges at most this long (generator units, objects about one unit across) are collapsed after the booleans:
far below any feature or the tessellation's chord error, far above floating-point noise."""


_CAP_AREA = 1e-10
"""Faces with less area than this (generator units squared) after the booleans count as degenerate."""


def _clean(vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove the zero-area faces manifold3d leaves where primitives touch, keeping the surface and topology.

    Where surfaces touch exactly or nearly (a rail through a post's top, a shelf meeting a leg's corner, capsules
    meeting at a joint) manifold3d resolves the coincidence symbolically and leaves needles: vertices a hair apart
    joined by an edge, or "caps" whose third vertex lies on their longest edge. Both are repaired by local
    operations that keep the mesh closed and manifold and its Euler number unchanged; if the result is not a
    closed manifold anyway, the input is returned untouched (valid, just with needles).
    """
    cleaned = _split_flat_caps(*_collapse_short_edges(vertices, faces, labels))
    if cleaned[1] is faces:  # nothing to repair
        return vertices, faces, labels
    return cleaned if _is_closed_manifold(cleaned[1], len(cleaned[0])) else (vertices, faces, labels)


def _is_closed_manifold(faces: np.ndarray, vertex_count: int) -> bool:
    """Whether every directed edge occurs exactly once and its reverse occurs too (closed, oriented, manifold)."""
    directed = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2).astype(np.int64)
    keys = np.sort(directed[:, 0] * vertex_count + directed[:, 1])
    reverse = np.sort(directed[:, 1] * vertex_count + directed[:, 0])
    return bool(np.all(keys[1:] != keys[:-1]) and np.array_equal(keys, reverse))


def _face_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    a, b, c = (vertices[faces[:, k]] for k in range(3))
    return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=-1)


def _collapse_short_edges(
    vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Collapse edges no longer than _COLLAPSE_LENGTH (each collapse drops one vertex, three edges, two faces).

    Coincident vertices that share no edge (two sheets touching at a point) are left alone: merging those would
    change the topology.
    """
    edges = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    short = np.linalg.norm(vertices[edges[:, 0]] - vertices[edges[:, 1]], axis=1) <= _COLLAPSE_LENGTH
    if not short.any():
        return vertices, faces, labels
    parent = np.arange(len(vertices))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for a, b in edges[short]:
        ra, rb = root(int(a)), root(int(b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    remap = np.arange(len(vertices))
    for i in np.unique(edges[short]):
        remap[i] = root(int(i))
    new_faces = remap[faces]
    keep = (
        (new_faces[:, 0] != new_faces[:, 1])
        & (new_faces[:, 1] != new_faces[:, 2])
        & (new_faces[:, 2] != new_faces[:, 0])
    )
    used, compact = np.unique(new_faces[keep], return_inverse=True)
    return vertices[used], compact.reshape(-1, 3), labels[keep]


def _split_flat_caps(
    vertices: np.ndarray, faces: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove caps: zero-area faces (a, b, c) with c on their longest edge ab.

    The cap and its neighbour (b, a, d) across ab become (c, a, d) and (b, c, d): the neighbour split at c, in
    its own plane, so the surface does not move. A cap glued to its mirror image (d = c) is a flat pocket: both
    faces go.
    """
    caps = np.flatnonzero(_face_areas(vertices, faces) < _CAP_AREA)
    if len(caps) == 0:
        return vertices, faces, labels
    faces, labels = faces.copy(), labels.copy()
    alive = np.ones(len(faces), dtype=bool)
    # Only faces around the caps' vertices can take part (new faces reuse those vertices too).
    nearby = np.flatnonzero(np.isin(faces, faces[caps]).any(axis=1))
    owner = {(int(faces[i, k]), int(faces[i, (k + 1) % 3])): int(i) for i in nearby for k in range(3)}

    def edges_of(i: int) -> list[tuple[int, int]]:
        return [(int(faces[i, k]), int(faces[i, (k + 1) % 3])) for k in range(3)]

    for i in map(int, caps):
        if not alive[i] or _face_areas(vertices, faces[i : i + 1])[0] >= _CAP_AREA:
            continue  # already rebuilt as a neighbour of an earlier cap
        f = faces[i]
        k = int(np.argmax(np.linalg.norm(vertices[np.roll(f, -1)] - vertices[f], axis=1)))
        a, b, c = int(f[k]), int(f[(k + 1) % 3]), int(f[(k + 2) % 3])
        j = owner.get((b, a))
        if j is None or not alive[j]:
            continue
        d = next(int(v) for v in faces[j] if v not in (a, b))
        if d != c and ((c, d) in owner or (d, c) in owner):
            continue  # c and d are already joined: splitting would duplicate that edge
        for edge in edges_of(i) + edges_of(j):
            owner.pop(edge, None)
        if d == c:
            alive[i] = alive[j] = False
            continue
        faces[i], faces[j] = (c, a, d), (b, c, d)
        labels[i] = labels[j]
        owner.update({edge: int(i) for edge in edges_of(i)})
        owner.update({edge: int(j) for edge in edges_of(j)})
    return vertices, faces[alive], labels[alive]
