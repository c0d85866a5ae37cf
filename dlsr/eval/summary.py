"""Summaries of result records: per-category means, class and instance means, and the table as CSV."""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dlsr.eval.config import STATUSES, TABLE_METRICS


def summarise(records: Iterable[dict[str, Any]], names: dict[str, str] | None = None) -> dict[str, Any]:
    """Per-category means, class mean (mean of category means) and instance mean (mean over samples).

    Samples with status "error" (unreadable ground truth) are counted but left out of every mean; failed and
    empty predictions are in the means with their worst-case values. A metric without a value (None or NaN:
    IoU without IoU points, topology without a true mesh) is left out of that metric's mean only. Running sums,
    so memory does not grow with the number of records (means are summed in record order).

    Returns:
        JSON-able {"metrics": [...], "categories": {id: {"name", "count", "failures", "empty", "errors", <metric>:
        mean or None}}, "class_mean": {...}, "instance_mean": {...}, "count", "failures", "empty", "errors",
        "iou_sources": {the IoU truth ("points.npz", "mesh", "shapenet-v2 mesh", "voxels" or "none"): samples}}.
    """
    names = names or {}
    sums: dict[str, dict[str, list[float]]] = {}  # category -> metric -> [sum, count]
    counts: dict[str, dict[str, int]] = {}
    iou_sources: dict[str, int] = {}
    for record in records:
        if record.get("type") != "sample":
            continue
        category = record["category"]
        tally = counts.setdefault(category, dict.fromkeys(STATUSES, 0))
        tally[record["status"]] = tally.get(record["status"], 0) + 1
        if record["status"] == "error":
            continue
        source = record.get("iou_source") or "none"
        iou_sources[source] = iou_sources.get(source, 0) + 1
        column = sums.setdefault(category, {metric: [0.0, 0] for metric in TABLE_METRICS})
        for metric in TABLE_METRICS:
            value = record.get(metric)
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                column[metric][0] += float(value)
                column[metric][1] += 1
    rows: dict[str, Any] = {}
    for category in sorted(counts):
        tally = counts[category]
        column = sums.get(category, {metric: [0.0, 0] for metric in TABLE_METRICS})
        row: dict[str, Any] = {
            "name": names.get(category, category),
            "count": sum(tally.values()),
            "failures": tally["failed"] + tally["empty"],
            "empty": tally["empty"],
            "errors": tally["error"],
        }
        row.update({metric: _ratio(*column[metric]) for metric in TABLE_METRICS})
        rows[category] = row
    instance = {}
    for metric in TABLE_METRICS:
        total = sum(column[metric][0] for column in sums.values())
        count = sum(column[metric][1] for column in sums.values())
        instance[metric] = _ratio(total, count)
    class_mean = {
        metric: _mean([row[metric] for row in rows.values() if row[metric] is not None]) for metric in TABLE_METRICS
    }
    return {
        "metrics": list(TABLE_METRICS),
        "categories": rows,
        "class_mean": class_mean,
        "instance_mean": instance,
        "count": sum(row["count"] for row in rows.values()),
        "failures": sum(row["failures"] for row in rows.values()),
        "empty": sum(row["empty"] for row in rows.values()),
        "errors": sum(row["errors"] for row in rows.values()),
        "iou_sources": dict(sorted(iou_sources.items())),
    }


def failed_count(summary: dict[str, Any]) -> int:
    """The samples that make a run fail: failed predictions (unreadable input, missing or unreadable prediction file)
    and unreadable ground truth. Empty predictions are results (worst-case scores), not failures of the run."""
    return int(summary["errors"] + summary["failures"] - summary["empty"])


def check_outputs(*paths: str | os.PathLike[str] | None) -> None:
    """Refuse an unwritable table or report before the work that fills it, not after it (they are written last).

    Raises:
        OutputError: a path that cannot be written.
    """
    from dlsr.files import check_writable

    for path in paths:
        if path is not None:
            check_writable(Path(path), overwrite=True, probe=True)


def _ratio(total: float, count: float) -> float | None:
    return total / count if count else None


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def write_csv(summary: dict[str, Any], path: str | os.PathLike[str], header: dict[str, Any] | None = None) -> Path:
    """The summary table as CSV: one row per category, then the class mean and instance mean rows.

    With `header` (the results' header record) a first line `# {json}` records the dataset, configuration,
    weights and versions (read it back with e.g. pandas' `read_csv(..., comment="#")`).
    """
    from dlsr.files import atomic_write

    buffer = io.StringIO()
    if header is not None:
        buffer.write("# " + json.dumps({k: v for k, v in header.items() if k != "type"}) + "\n")
    writer = csv.writer(buffer, lineterminator="\n")
    metrics = summary["metrics"]
    writer.writerow(["category", "name", *metrics, "count", "failures", "empty", "errors"])
    for category, row in summary["categories"].items():
        counts = (row["count"], row["failures"], row["empty"], row["errors"])
        writer.writerow([category, row["name"], *(_cell(row[m]) for m in metrics), *counts])
    for label in ("class_mean", "instance_mean"):
        counts = (summary["count"], summary["failures"], summary["empty"], summary["errors"])
        writer.writerow([label, "", *(_cell(summary[label][m]) for m in metrics), *counts])
    return atomic_write(path, buffer.getvalue().encode())


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"
