"""Batch evaluation: reconstruct every image of a dataset split (or read another tool's meshes) and score it.

`evaluate` (`run`) runs the whole job and returns an `EvalRun`; `summarise` (`summary`) turns result records into
the per-category table; `merge_results` (`results`) joins the shards of an array job; `write_report` (`report`)
draws the HTML report. The modules: `config` (what is scored and how), `layouts` (which samples a dataset folder
holds), `truth` (their ground truth and its frame), `plan` (samples, shards, prediction files, jobs), `score` (one
sample), `frames` (the frame check), `results` (the JSON-lines file), `summary`, `report`, `run`.

**What one sample's score is.** The predicted mesh (marching cubes of the network's SDF via `dlsr.pipeline`, or a
mesh file with `predictions=`) and the ground truth (`dlsr.eval.truth.load_truth`) are compared in dlsr's
normalised frame (bounding box centred, longest side 1, y up, ShapeNet v1 axes) with `dlsr.metrics`:

* Chamfer-L1 / L2, normal consistency, F-score at 1 % and 2 %: `metrics.mesh_metrics` with `points` (default
  100 000) area-uniform samples of the prediction, against the object's `pointcloud.npz` as stored (ONet) or as
  many samples of the true mesh (or voxel surface). Definitions and scale factors: `dlsr.metrics`.
* IoU, protocol ``onet``: occupancy of 100 000 points uniform in the padded box (side 1.1) against the true
  labels (`points.npz`, or the true mesh's inside, `truth.inside_mesh`, or for ONet data without points.npz its
  ShapeNetCore.v2 mesh's, `truth.v2_mesh_on_cloud`). The model's occupancy is the sign of
  its SDF resampled exactly as for meshing (trilinear between those samples: the mesh's own inside); a mesh
  file's is `truth.inside_mesh` (ray parity when watertight, else |winding number| > 0.5). Protocol
  ``r2n2``: the prediction voxelised like binvox
  (`groundtruth.voxelize`: cells the solid or surface passes through) on the true voxel grid, IoU over voxels.
* Topology: components and genus of the predicted and true mesh (`metrics.topology`); they match when both
  numbers are equal; unknown (None) when the truth is a point cloud.

A prediction that fails (unreadable image, no surface, missing or unreadable mesh file) scores the worst case
(`dlsr.metrics`) and is counted as a failure; a sample whose *ground truth* cannot be read is an error: it gets
no numbers, is left out of the means and makes the run exit non-zero.

**The results file** (JSON lines) starts with a header record (`"type": "header"`: dataset, layout, the full
configuration, weights and their SHA-256, library versions, total sample count, shard) followed by one
`"type": "sample"` record per sample, appended and flushed as each is computed. `resume=True` re-reads it,
drops a torn last line (a run killed mid-write), refuses a file made with other settings, and scores only the
missing samples. Random draws depend only on the seed and the sample's key, so shards, workers and resumed runs
give the same numbers as one uninterrupted run; `merge_results` checks the shards cover every sample once.

**Predictions from another tool** (`predictions=DIR`) are mesh files (.obj, .ply, .off, .stl, .glb) named
``DIR/<category>/<model_id>/<view>.<ext>`` (view as in the results: "00" for synth and 3D-R2N2, "000" for
ONet, the image's stem for Pix3D, "0" for a plain folder), or ``DIR/<category>/<model_id>.<ext>`` for one mesh
per object. They must be in the normalised frame above; `align=` applies one of `dlsr.eval.truth.ALIGNMENTS` to
them first, and unless `frame_check=False` the first samples are tested for a better-fitting axis permutation or
v1/v2 rotation, which stops the run with a message naming the `--align` to use (it never re-aligns silently).
Voxel predictions (.binvox, or .npy occupancy probabilities (D, D, D) indexed [x][y][z]) are taken to lie on the
ground truth's own voxel grid, as 3D-R2N2-style methods output them: protocol r2n2 compares them cell by cell
(occupied where >= `voxel_threshold`); protocol onet reads a point's cell; the surface metrics use the boundary
of the occupied cells; `align=` permutes the array's axes about its centre.
"""

from dlsr.eval.config import EvalConfig, parse_views
from dlsr.eval.plan import plan_samples
from dlsr.eval.report import write_report
from dlsr.eval.results import merge_results, read_results
from dlsr.eval.run import EvalRun, evaluate, with_shard_suffix
from dlsr.eval.summary import summarise, write_csv

__all__ = [
    "EvalConfig",
    "EvalRun",
    "evaluate",
    "merge_results",
    "parse_views",
    "plan_samples",
    "read_results",
    "summarise",
    "with_shard_suffix",
    "write_csv",
    "write_report",
]
