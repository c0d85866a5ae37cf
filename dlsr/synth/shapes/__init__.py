"""Procedural training objects: randomised part assemblies standing in for the 13 ShapeNet categories.

ShapeNet cannot be shipped or downloaded here, so dlsr trains on objects it makes itself. This package owns:

* `Part`: one primitive (box, rounded box, ellipsoid, torus, solid of revolution, extruded polygon, tube along a
  polyline, or the intersection / difference of such parts) placed by a rigid motion. Each part knows its signed
  distance (exact for every primitive except the ellipsoid, whose sign is exact and distance a close
  approximation; intersections and differences are bounds) and its triangle mesh (manifold3d).
* `Shape`: the union of some parts minus the union of some holes, in the normalised frame. `Shape.sdf` is the
  matching analytic field (union = min, subtraction = max(a, -b)); `Shape.mesh` is one watertight mesh made with
  manifold3d booleans; `Shape.mesh_with_labels` also says which part each face came from.
* `generate(category, seed)`: one deterministic random object of a category; `CATEGORIES` lists them.

Canonical frame (ShapeNet v1 as 3D-R2N2 uses it; checked on the real samples in `shared/realdata`):

* +y is up; objects stand on the bottom face of their box (a sailboat's keel reaches down to it).
* +x is the front. A chair's backrest is on its -x side, so a sitter looks towards +x: measured on both 3D-R2N2
  chair voxel grids and on trimesh's ShapeNet chair mesh (the tall part of the chair is at low x). The ShapeNet v2
  bench, turned into the v1 frame (x1 = -z2), also has its backrest at -x and its length along z; the v2 table's
  long side also maps to z. So benches, sofas, tables and cabinets are wide along z and face +x.
* Categories without a real sample here follow the same convention: the object's front faces +x. Vehicles and
  long objects point their front along +x (airplane nose, car bonnet, rifle muzzle, ship bow), displays,
  loudspeakers, cabinets and phones show their screen / drivers / doors towards +x (phones stand upright, as
  ShapeNet's cellphones do), and a lamp's arm reaches towards +x.
* Normalisation: the bounding box of the mesh is centred at the origin and scaled so its longest side is 1
  (the dlsr convention of `dlsr.sdf`); parts, holes, field and mesh all live in that frame.

`Shape.mesh_with_labels` labels a face with the index of its part in `Shape.parts`, or with
`len(parts) + j` when the face lies on the surface cut by hole `j`.

Where things are: `parts` (the `Part` type), `fields` and `tessellation` (each primitive's signed distance and
mesh), `shape` (the `Shape` type and its booleans), `repair` (clean-up after the booleans), `builders`, `rotations`,
`draft` and `furniture` (what the generators build with), `generators/` (one module per category), `registry`
(`generate`); the category table is `dlsr.conventions.CATEGORIES`. Underscored names are the package's own,
shared between its modules; the public API is what this module exports.
"""

from dlsr.conventions import CATEGORIES, category_id
from dlsr.synth.shapes.parts import Part, PartKind
from dlsr.synth.shapes.registry import generate
from dlsr.synth.shapes.shape import Shape

__all__ = ["CATEGORIES", "Part", "PartKind", "Shape", "category_id", "generate"]
