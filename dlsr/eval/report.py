"""The HTML report: the summary table and each category's best, median and worst samples drawn."""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlsr.config import config_from_dict
from dlsr.errors import DatasetError, DlsrError
from dlsr.eval.config import EvalConfig
from dlsr.eval.layouts import Sample, category_names
from dlsr.eval.plan import input_pixels, load_predictor, plan_jobs, plan_samples
from dlsr.eval.results import iter_results
from dlsr.eval.score import cached_truth, predicted
from dlsr.eval.summary import summarise
from dlsr.eval.truth import Truth

if TYPE_CHECKING:
    from dlsr.pipeline import LoadedModel


@dataclass
class _Picked:
    record: dict[str, Any]
    rank: str  # best, median, worst
    pictures: list[str] = field(default_factory=list)  # base64 PNGs: input, truth, prediction


def pick_examples(records: Iterable[dict[str, Any]]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Per category, the best, median and worst scored sample by IoU (by Chamfer-L1 where there is no IoU).

    Keeps a few fields per record, not the records, so it streams over any results file.
    """
    kept = ("index", "key", "category", "status", "iou", "chamfer_l1")
    by_category: dict[str, list[tuple[float, int, dict[str, Any]]]] = {}
    for record in records:
        if record.get("type") != "sample" or record["status"] == "error":
            continue
        goodness = float(record["iou"]) if record.get("iou") is not None else -float(record.get("chamfer_l1") or 9.0)
        small = {key: record.get(key) for key in kept}
        by_category.setdefault(record["category"], []).append((-goodness, record["index"], small))
    picked: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for category, group in sorted(by_category.items()):
        ordered = [item[2] for item in sorted(group, key=lambda item: (item[0], item[1]))]
        chosen = [("best", ordered[0]), ("median", ordered[len(ordered) // 2]), ("worst", ordered[-1])]
        seen: set[int] = set()
        picked[category] = []
        for rank, record in chosen:
            if record["index"] not in seen:
                seen.add(record["index"])
                picked[category].append((rank, record))
    return picked


def write_report(
    results: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    weights: str | os.PathLike[str] | None = None,
    device: str = "auto",
    picture_size: int = 160,
    overwrite: bool = True,
) -> Path:
    """One self-contained HTML page: the summary table and, per category, best/median/worst samples drawn as
    input image | ground truth | prediction (rendered with `dlsr.render`; images inlined as base64 PNG).

    Predictions are recomputed for the few samples shown (the model, or the prediction files, of the header).

    Raises:
        DatasetError: unreadable results. MissingDependencyError: the renderer (data extra) is missing.
    """
    from dlsr.files import atomic_write

    header = next(iter_results(results), None)
    if header is None:
        raise DatasetError(f"{results}: no results to report")
    config = config_from_dict(EvalConfig, header["config"], what=f"{results} header config")
    names = category_names(header["dataset"]) if Path(header["dataset"]).is_dir() else {}
    summary = summarise(iter_results(results), names)
    _, samples = plan_samples(header["dataset"], config)
    by_key = {sample.key: sample for sample in samples}
    model, predictions = load_predictor(config, weights or (header["weights"] or {}).get("path"), device)
    sections = []
    for category, chosen in pick_examples(iter_results(results)).items():
        rows = []
        for rank, record in chosen:
            sample = by_key.get(record["key"])
            pictures = _pictures(sample, config, model, predictions, picture_size) if sample else ["", "", ""]
            rows.append(_Picked(record, rank, pictures))
        sections.append((category, summary["categories"][category]["name"], rows))
    page = _html_page(header, summary, sections)
    return atomic_write(output, page.encode("utf-8"), overwrite=overwrite)


def _pictures(
    sample: Sample, config: EvalConfig, model: LoadedModel | None, predictions: dict[str, Path], size: int
) -> list[str]:
    from dlsr.image import png_bytes
    from dlsr.render import contact_sheet

    def encode(pixels: np.ndarray) -> str:
        return base64.b64encode(png_bytes(pixels)).decode("ascii")

    from PIL import Image

    blank = np.full((size, size, 3), 235, dtype=np.uint8)
    try:
        if model is not None:
            source = input_pixels(sample, model)  # what the network saw
        else:
            from dlsr.image import read_image

            source = np.asarray(read_image(sample.image).convert("RGB"))
        source = np.asarray(Image.fromarray(source).resize((size, size), Image.Resampling.LANCZOS))
    except DlsrError:
        source = blank
    truth: Truth | None = None
    truth_picture = prediction_picture = blank
    try:
        truth = cached_truth(sample.truth, config.points, config.iou_points, config.seed)
        if truth.mesh is not None:
            truth_picture = contact_sheet(truth.mesh, views=1, size=size)
        else:
            truth_picture = point_picture(truth.surface_points, truth.surface_normals, size)
    except DlsrError:
        pass
    (job,) = list(plan_jobs([sample], config, model, predictions, 1))
    try:
        mesh = predicted(job, truth).mesh if job.error is None and truth is not None else None
        if mesh is not None and len(mesh.faces):
            prediction_picture = contact_sheet(mesh, views=1, size=size)
    except DlsrError:
        pass
    return [encode(source), encode(truth_picture), encode(prediction_picture)]


def point_picture(points: np.ndarray, normals: np.ndarray, size: int) -> np.ndarray:
    """A point cloud (N, 3) with normals (N, 3) splatted from `contact_sheet`'s first view, uint8 (size, size, 3).

    For ground truth that is only a point cloud (ONet's `pointcloud.npz`): nearest point per pixel wins, grey
    shaded by |cos| between normal and view direction, so it reads like the rendered meshes beside it.
    """
    from dlsr.camera import Camera, bounding_box_diagonal, fitting_distance_ratio
    from dlsr.render import normalise_for_display

    picture = np.full((size, size, 3), 255, dtype=np.uint8)
    cloud = normalise_for_display(np.asarray(points, dtype=np.float64))
    if len(cloud) == 0:
        return picture
    camera = Camera(azimuth=45.0, elevation=25.0, distance_ratio=0.65 * bounding_box_diagonal(cloud))
    camera = camera.with_distance_ratio(max(camera.distance_ratio, fitting_distance_ratio(camera, cloud, margin=0.05)))
    pixel = np.floor(camera.project(cloud, size)).astype(np.int64)
    towards = camera.position - cloud
    depth = np.linalg.norm(towards, axis=1)
    unit = np.asarray(normals, dtype=np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    shade = 0.3 + 0.6 * np.abs(np.sum(unit * towards, axis=1) / np.maximum(depth, 1e-12))
    seen = np.all((pixel >= 0) & (pixel < size), axis=1)
    order = np.argsort(-depth[seen])  # far first: nearer points overwrite them
    u, v = pixel[seen][order, 0], pixel[seen][order, 1]
    picture[v, u] = (255 * shade[seen][order, None] * np.array([0.72, 0.72, 0.72])).astype(np.uint8)
    return picture


def _html_page(header: dict[str, Any], summary: dict[str, Any], sections: list[tuple[str, str, list[_Picked]]]) -> str:
    metrics = summary["metrics"]
    esc = html.escape

    def cells(row: dict[str, Any]) -> str:
        return "".join(f"<td>{'' if row[m] is None else f'{row[m]:.4f}'}</td>" for m in metrics)

    # The table scrolls on its own when it is wider than the window, instead of running off the page.
    table = ["<div class=wide><table><tr><th>category</th>" + "".join(f"<th>{esc(m)}</th>" for m in metrics)]
    table[0] += "<th>count</th><th>failures</th></tr>"
    for category, row in summary["categories"].items():
        table.append(
            f"<tr><td>{esc(row['name'])} ({esc(category)})</td>{cells(row)}"
            f"<td>{row['count']}</td><td>{row['failures']}</td></tr>"
        )
    for label in ("class_mean", "instance_mean"):
        table.append(f"<tr class=mean><td>{label.replace('_', ' ')}</td>{cells(summary[label])}<td></td><td></td></tr>")
    table.append("</table></div>")
    body = []
    for category, name, rows in sections:
        body.append(f"<h2>{esc(name)} ({esc(category)})</h2><div class=grid>")
        for picked in rows:
            record = picked.record
            score = "" if record.get("iou") is None else f"IoU {record['iou']:.3f}, "
            caption = f"{picked.rank}: {esc(record['key'])}, {score}Chamfer-L1 {record['chamfer_l1']:.4f}"
            images = "".join(
                f'<figure><img alt="{label}" src="data:image/png;base64,{data}"><figcaption>{label}</figcaption>'
                "</figure>"
                if data
                else f"<figure><figcaption>{label}: n/a</figcaption></figure>"
                for label, data in zip(("input", "ground truth", "prediction"), picked.pictures, strict=True)
            )
            body.append(f"<div class=sample><p>{caption} ({esc(record['status'])})</p>{images}</div>")
        body.append("</div>")
    config = esc(json.dumps(header["config"]))
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>dlsr eval report</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:3px 8px;text-align:right}tr.mean{font-weight:bold}figure{display:inline-block;margin:4px}"
        "figcaption{font-size:small;text-align:center}.sample{margin-bottom:1em}.wide{overflow-x:auto}</style>"
        "</head><body>"
        f"<h1>dlsr eval: {esc(header['dataset'])}</h1>"
        f"<p>layout {esc(header['layout'])}, {summary['count']} samples, {summary['failures']} failures, "
        f"{summary['errors']} errors; dlsr {esc(header['versions']['dlsr'])}</p>"
        f"<p><small>configuration: {config}</small></p>" + "".join(table) + "".join(body) + "</body></html>\n"
    )
