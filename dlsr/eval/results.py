"""The results file (JSON lines: a header record, then one record per sample): writing, resuming, reading,
merging shards."""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlsr import __version__
from dlsr.errors import ConfigError, DatasetError, OutputError
from dlsr.eval.config import FORMAT, EvalConfig
from dlsr.eval.layouts import category_names
from dlsr.eval.summary import check_outputs, summarise, write_csv

if TYPE_CHECKING:
    from dlsr.pipeline import LoadedModel


_VERSIONED = ("numpy", "scipy", "trimesh", "scikit-image", "torch", "libigl")


def make_header(
    root: str | os.PathLike[str],
    layout: str,
    config: EvalConfig,
    total: int,
    shard: tuple[int, int] | None,
    model: LoadedModel | None,
) -> dict[str, Any]:
    """The header record: what was evaluated, how, with what (resume compares everything but time and versions)."""
    weights = None
    if model is not None:
        weights = {
            "path": str(model.info.path),
            "sha256": model.info.sha256(),
            "arch": model.info.arch,
            "grid": {"resolution": model.info.grid.resolution, "bound": model.info.grid.bound},
        }
    return {
        "type": "header",
        "format": FORMAT,
        "dataset": str(Path(root).resolve()),
        "layout": layout,
        "config": jsonable(asdict(config)),
        "weights": weights,
        "total": total,
        "shard": list(shard) if shard else None,
        "versions": versions(),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def versions() -> dict[str, str]:
    """dlsr, Python and the versions of the libraries that compute the numbers."""
    from dlsr.about import library_versions

    return {"dlsr": __version__, "python": platform.python_version(), **library_versions(_VERSIONED)}


_VOLATILE = ("created_utc", "versions")


def iter_results(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Stream a results file's records (header first), one line at a time: memory does not grow with the file.

    Everything after the last newline is a write cut short by a kill (each record is one write ending in a
    newline): it is skipped. A damaged line before that is corruption.

    Raises:
        DatasetError: unreadable file, a damaged line, a second header, or records without a header.
    """
    file = Path(path)
    try:
        stream = open(file, "rb")
    except OSError as exc:
        raise DatasetError(f"{file}: cannot read results ({exc.strerror or exc})") from None
    with stream:
        seen_header = seen_records = False
        for number, line in enumerate(stream):
            if not line.endswith(b"\n"):
                return  # the torn tail of a killed run
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                raise DatasetError(
                    f"{file}: line {number + 1} is damaged (not a JSON object); restore the file or start over"
                )
            if record.get("type") == "header":
                if seen_header or seen_records:
                    raise DatasetError(
                        f"{file}: a second header at line {number + 1}; results files do not concatenate"
                    )
                seen_header = True
            elif not seen_header:
                raise DatasetError(f"{file}: no header line; not a `dlsr eval` results file")
            else:
                seen_records = True
            yield record


def read_results(path: str | os.PathLike[str]) -> tuple[dict[str, Any] | None, list[dict[str, Any]], int]:
    """Read a whole results file: (header or None, sample records, bytes of its complete lines).

    See `iter_results` for torn and damaged lines; resume truncates the file to the returned length.
    """
    header: dict[str, Any] | None = None
    records = []
    for record in iter_results(path):
        if record.get("type") == "header":
            header = record
        else:
            records.append(record)
    return header, records, _complete_length(Path(path))


def _complete_length(path: Path) -> int:
    """Bytes up to and including the last newline (reads the tail only)."""
    size = path.stat().st_size
    with open(path, "rb") as stream:
        position = size
        while position > 0:
            start = max(0, position - (1 << 16))
            stream.seek(start)
            chunk = stream.read(position - start)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                return start + newline + 1
            position = start
    return 0


def changed_settings(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Names of the header fields that differ (ignoring time and versions)."""
    differ = []
    for key in sorted(set(old) | set(new)):
        if key in _VOLATILE:
            continue
        if key == "config":
            differ += [
                f"config.{k}" for k in sorted(set(old[key]) | set(new[key])) if old[key].get(k) != new[key].get(k)
            ]
        elif key == "weights" and old.get(key) and new.get(key):
            # The same file may move; its content is what counts.
            if (old[key]["sha256"], old[key]["arch"]) != (new[key]["sha256"], new[key]["arch"]):
                differ.append(key)
        elif old.get(key) != new.get(key):
            differ.append(key)
    return differ


def open_results(path: Path, header: dict[str, Any], resume: bool, overwrite: bool) -> tuple[set[str], Any]:
    """Prepare the results file; returns (keys already scored, append stream)."""
    done: set[str] = set()
    if path.exists() and path.stat().st_size > 0 and not overwrite:
        if not resume:
            raise OutputError(f"{path}: results exist; pass --resume to continue them, or --overwrite to start over")
        old = None
        for record in iter_results(path):  # streamed: only the keys are kept
            if record.get("type") == "header":
                old = record
            elif "key" in record:
                done.add(record["key"])
        good = _complete_length(path)
        if old is not None:
            differ = changed_settings(old, header)
            if differ:
                raise ConfigError(
                    f"{path}: made with other settings ({', '.join(differ)} differ); resume with the same options, "
                    "or write to another --results"
                )
        try:
            with open(path, "r+b") as handle:  # drop a torn last line before appending
                handle.truncate(good)
            if old is None:
                _append_line(path, header)
        except OSError as exc:
            raise OutputError(
                f"{path}: cannot continue the results ({exc.strerror or exc}); make the file writable, or write to "
                "another --results"
            ) from None
    else:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(header) + "\n")
        except OSError as exc:
            raise OutputError(f"{path}: cannot write results ({exc.strerror or exc})") from None
    try:
        stream = open(path, "a", encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot append results ({exc.strerror or exc})") from None
    return done, stream


def _append_line(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as stream:
        stream.write(json.dumps(record) + "\n")


# ------------------------------------------------------------------------------------------ scoring


def merge_results(
    inputs: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    csv: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Join the results files of sharded runs into one, as a single run would have written it.

    Records are sorted by sample index; the header is the shards' own with `shard` None and `merged_from` added.
    With `csv`, the summary table is written there too (`write_csv`).

    Returns:
        (merged header, summary).

    Raises:
        DatasetError: files of different evaluations, a missing or repeated shard or sample.
        OutputError: the output exists (without `overwrite`) or cannot be written.
    """
    from dlsr.files import atomic_write

    check_outputs(csv)
    if not inputs:
        raise ConfigError("merging needs at least one results file")
    headers = []
    for name in inputs:
        header = next(iter_results(name), None)
        if header is None:
            raise DatasetError(f"{name}: empty results file; rerun that shard")
        headers.append((name, header))
    first_name, first = headers[0]
    for name, header in headers[1:]:
        differ = changed_settings({**first, "shard": None}, {**header, "shard": None})
        if differ:
            raise DatasetError(f"{name} and {first_name} come from different evaluations ({', '.join(differ)} differ)")
    shards = [tuple(h["shard"]) if h["shard"] else None for _, h in headers]
    count = shards[0][1] if shards[0] else 1
    expected = {(i, count) for i in range(count)} if shards[0] else {None}
    if len(set(shards)) != len(shards) or set(shards) != expected:
        have = ", ".join("whole" if s is None else f"{s[0]}/{s[1]}" for s in shards)
        raise DatasetError(f"shards given: {have}; merge needs each of 0/{count} .. {count - 1}/{count} exactly once")
    # Records are kept as their JSON text, a third of the size of the parsed dicts.
    by_index: dict[int, str] = {}
    for name, _ in headers:
        for record in iter_results(name):
            if record.get("type") == "header":
                continue
            if record["index"] in by_index:
                raise DatasetError(f"sample {record['key']} appears twice across the inputs")
            by_index[record["index"]] = json.dumps(record)
    total = int(first["total"])
    missing = [i for i in range(total) if i not in by_index]
    if missing:
        raise DatasetError(
            f"{len(missing)} of {total} samples are missing (first index {missing[0]}); finish the shards with "
            "--resume, then merge"
        )
    merged_header = {**first, "shard": None, "merged_from": [str(name) for name in inputs]}

    def write(stream: Any) -> None:
        stream.write((json.dumps(merged_header) + "\n").encode())
        for index in range(total):
            stream.write((by_index[index] + "\n").encode())

    atomic_write(output, write, overwrite=overwrite)
    names = category_names(first["dataset"]) if Path(first["dataset"]).is_dir() else {}
    summary = summarise(iter_results(output), names)
    if csv is not None:
        write_csv(summary, csv, merged_header)
    return merged_header, summary


def jsonable(values: Any) -> Any:
    """NaN -> None, numpy scalars -> Python, tuples -> lists, recursively (JSON has no NaN)."""
    if isinstance(values, dict):
        return {key: jsonable(value) for key, value in values.items()}
    if isinstance(values, list | tuple):
        return [jsonable(value) for value in values]
    if isinstance(values, np.generic):
        values = values.item()
    if isinstance(values, float) and not math.isfinite(values):
        return None
    if isinstance(values, Path):
        return str(values)
    return values
