"""Making datasets: `dlsr data synth` (procedural objects) and `dlsr data prepare` (users' meshes), one layout.

    dataset.py    SynthConfig, the folder's settings, plan, splits and index (`dlsr data index`)
    objects.py    one object's files (mesh, SDF, samples, voxels, renderings), written atomically; the worker pool
    writer.py     `dlsr data synth`: procedural objects from `dlsr.synth.shapes`
    prepare.py    `dlsr data prepare`: users' meshes from `dlsr.mesh_input`
    materials.py  random materials and lighting of the renderings
    shapes/       the procedural objects of 13 categories, one generator module each

The renderer (`dlsr.render`), cameras (`dlsr.camera`) and ground truth (`dlsr.groundtruth`) stay flat modules:
evaluation and metrics use them too.
"""

from dlsr.synth.dataset import (
    APPEARANCES,
    REPORT_FILE,
    SYNTH_VERSION,
    DatasetReport,
    ObjectResult,
    ObjectTask,
    SynthConfig,
    object_id,
    plan_synth,
    read_settings,
    split_ids,
    write_index,
)
from dlsr.synth.objects import write_object_files, write_renderings
from dlsr.synth.prepare import prepare_dataset, prepare_object
from dlsr.synth.writer import make_dataset, synth_object

__all__ = [
    "APPEARANCES",
    "REPORT_FILE",
    "SYNTH_VERSION",
    "DatasetReport",
    "ObjectResult",
    "ObjectTask",
    "SynthConfig",
    "make_dataset",
    "object_id",
    "plan_synth",
    "prepare_dataset",
    "prepare_object",
    "read_settings",
    "split_ids",
    "synth_object",
    "write_index",
    "write_object_files",
    "write_renderings",
]
