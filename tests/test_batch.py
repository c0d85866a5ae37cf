"""dlsr.batch: image files to mesh files, one result or error per image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import TinyModel, rectangle_image
from dlsr.batch import MeshJob, MeshSettings, mask_for, reconstruct_files, side_path
from dlsr.errors import InputImageError


@pytest.fixture(scope="module")
def model(tiny_model: TinyModel) -> Any:
    from dlsr.pipeline import load_model

    return load_model(tiny_model.weights, "cpu")


def test_meshes_are_written_or_returned_and_a_bad_image_is_its_own_error(model: Any, tmp_path: Path) -> None:
    picture = tmp_path / "box.png"
    rectangle_image(1.0, 0.6, np.random.default_rng(0)).save(picture)
    jobs = [
        MeshJob(str(picture), "box.png", tmp_path / "box.obj", "obj"),
        MeshJob(str(tmp_path / "missing.png"), "missing.png", tmp_path / "missing.obj", "obj"),
        MeshJob(picture.read_bytes(), "<stdin>", None, "ply"),
    ]
    settings = MeshSettings(resolution=32, level=model.info.level, save_sdf=True, save_input=False, overwrite=False)
    results = list(reconstruct_files(jobs, model, settings, batch_size=2))
    assert [result.job for result in results] == jobs
    written, missing, returned = results
    assert written.error is None and written.record is not None and written.data is None
    assert written.record["output"] == str(tmp_path / "box.obj") and (tmp_path / "box.obj").is_file()
    assert side_path(tmp_path / "box.obj", "sdf").is_file() and not (tmp_path / "missing.obj").exists()
    assert isinstance(missing.error, InputImageError) and missing.record is None
    assert returned.error is None and returned.data is not None and returned.data.startswith(b"ply")
    assert returned.record is not None and returned.record["output"] is None


def test_a_mask_folder_finds_the_mask_named_after_the_input(tmp_path: Path) -> None:
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "chair.PNG").write_bytes(b"")
    settings = MeshSettings(32, 0.0, False, False, False, mask_folder=tmp_path / "masks")
    assert mask_for(MeshJob("photos/chair.jpg", "chair.jpg", None, "obj"), settings) == tmp_path / "masks" / "chair.PNG"
    with pytest.raises(InputImageError, match="no mask for it"):
        mask_for(MeshJob(b"...", "<stdin>", None, "obj"), settings)
