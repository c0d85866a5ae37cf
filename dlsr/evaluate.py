"""Old import path of `dlsr.eval` (batch evaluation); kept for now, goes away in a later release."""

from dlsr.conventions import parse_shard
from dlsr.eval.config import FORMAT, STATUSES, TABLE_METRICS, VOXEL_EXTENSIONS, EvalConfig, parse_views
from dlsr.eval.frames import check_frames, frame_hint
from dlsr.eval.plan import find_predictions, in_shard, input_pixels, plan_samples, prediction_for, protocol_for
from dlsr.eval.report import pick_examples, point_picture, write_report
from dlsr.eval.results import iter_results, make_header, merge_results, read_results, versions
from dlsr.eval.run import EvalRun, evaluate, with_shard_suffix
from dlsr.eval.score import align_array, score_job
from dlsr.eval.summary import summarise, write_csv

__all__ = [
    "FORMAT",
    "STATUSES",
    "TABLE_METRICS",
    "VOXEL_EXTENSIONS",
    "EvalConfig",
    "EvalRun",
    "align_array",
    "check_frames",
    "evaluate",
    "find_predictions",
    "frame_hint",
    "in_shard",
    "input_pixels",
    "iter_results",
    "make_header",
    "merge_results",
    "parse_shard",
    "parse_views",
    "pick_examples",
    "plan_samples",
    "point_picture",
    "prediction_for",
    "protocol_for",
    "read_results",
    "score_job",
    "summarise",
    "versions",
    "with_shard_suffix",
    "write_csv",
    "write_report",
]
