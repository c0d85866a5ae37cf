"""The `dlsr` command end to end, on real learned weights (the tiny model of conftest.py) and real files."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image
from typer.testing import CliRunner

from conftest import TinyModel, box_half_sizes, realdata_path, rectangle_image
from dlsr.cli import app

runner = CliRunner()


def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> object:
    return runner.invoke(app, list(args), input=stdin, env=env)


def write_rectangle(path: Path, width: float, height: float, seed: int = 0) -> Path:
    rectangle_image(width, height, np.random.default_rng(seed)).save(path)
    return path


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    write_rectangle(folder / "wide.png", 1.0, 0.5, seed=1)
    write_rectangle(folder / "tall.jpg", 0.45, 1.0, seed=2)
    write_rectangle(folder / "square.webp", 1.0, 0.9, seed=3)
    return folder


def assert_one_clean_error(stderr: str, *needles: str) -> None:
    lines = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert "Traceback" not in stderr


# ------------------------------------------------------------------------------------------ help and version


def test_help_imports_no_heavy_library() -> None:
    """`dlsr --help` must answer at once: torch, trimesh and scikit-image load only inside commands."""
    code = (
        "import runpy, sys\n"
        "sys.argv = ['dlsr', '--help']\n"
        "try:\n    runpy.run_module('dlsr', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'trimesh', 'skimage', 'scipy', 'PIL', 'cv2') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "reconstruct" in result.stdout
    assert "HEAVY []" in result.stdout


@pytest.mark.parametrize(("suffix", "loads_trimesh"), [(".obj", False), (".ply", False), (".stl", True)])
def test_reconstruct_loads_trimesh_and_scipy_only_when_needed(
    suffix: str, loads_trimesh: bool, tiny_model: TinyModel, images: Path, tmp_path: Path
) -> None:
    """Cold start: trimesh (with scipy.spatial and networkx) and scipy.ndimage cost about 0.8 s of a one-image run,
    so a plain-background image written as OBJ, OFF or PLY must not import them; STL and GLB go through trimesh."""
    out = tmp_path / f"mesh{suffix}"
    code = (
        "import sys\n"
        "from dlsr.cli import app  # not main, which ends the process before the modules can be listed\n"
        f"sys.argv = ['dlsr', 'reconstruct', {str(images / 'wide.png')!r}, '-o', {str(out)!r}, '-q',\n"
        f"            '--weights', {str(tiny_model.weights)!r}]\n"
        "try:\n    app()\nexcept SystemExit as exc:\n    assert not exc.code\n"
        "print('LOADED', sorted({m.split('.')[0] for m in sys.modules} & {'trimesh', 'scipy', 'networkx'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert out.is_file()
    if loads_trimesh:
        assert "'trimesh'" in result.stdout
    else:
        assert "LOADED []" in result.stdout, result.stdout


@pytest.mark.parametrize("command", [[], ["reconstruct"], ["info"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout


def test_version_and_python_m() -> None:
    from dlsr import __version__

    assert run("--version").stdout.strip() == f"dlsr {__version__}"
    result = subprocess.run([sys.executable, "-m", "dlsr", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"dlsr {__version__}"


# ------------------------------------------------------------------------------------------ reconstruct


def test_one_image_to_one_mesh_in_the_right_shape(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    out = tmp_path / "wide.obj"
    result = run("reconstruct", str(images / "wide.png"), "-o", str(out), "--weights", str(tiny_model.weights))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    mesh = trimesh.load(out, force="mesh")
    assert mesh.is_watertight
    expected = 2 * np.array(box_half_sizes(1.0, 0.5))
    # The learned model reads the aspect ratio from the picture: wide, not tall, and roughly the right size.
    assert mesh.extents[0] > 1.4 * mesh.extents[1]
    np.testing.assert_allclose(mesh.extents[:2], expected[:2], atol=0.2)


def test_many_inputs_one_mesh_each(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    files = [str(images / name) for name in ("wide.png", "tall.jpg", "square.webp")]
    result = run("reconstruct", *files, "-o", str(out), "--weights", str(tiny_model.weights), "--batch-size", "2")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["square.obj", "tall.obj", "wide.obj"]
    assert result.stdout.split() == [str(out / f"{Path(f).stem}.obj") for f in files]
    tall = trimesh.load(out / "tall.obj", force="mesh")
    assert tall.extents[1] > 1.4 * tall.extents[0]


def test_quoted_glob_and_format(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        "reconstruct",
        str(images / "*.png"),
        str(images / "*.jpg"),
        "-o",
        f"{out}/",
        "--format",
        "ply",
        "--weights",
        str(tiny_model.weights),
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["tall.ply", "wide.ply"]
    assert trimesh.load(out / "wide.ply").is_watertight


@pytest.mark.parametrize("fmt", ["obj", "ply", "off", "stl", "glb"])
def test_every_format_by_extension(fmt: str, tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    out = tmp_path / f"mesh.{fmt}"
    result = run("reconstruct", str(images / "wide.png"), "-o", str(out), "--weights", str(tiny_model.weights))
    assert result.exit_code == 0, result.output
    assert trimesh.load(out, force="mesh").is_watertight


def test_stdin_to_stdout_through_real_pipes(tiny_model: TinyModel, images: Path) -> None:
    """`cat x.png | dlsr reconstruct - -o - --format ply > x.ply`: stdout carries only the mesh."""
    result = subprocess.run(
        [sys.executable, "-m", "dlsr", "reconstruct", "-", "-o", "-", "--format", "ply"],
        input=(images / "tall.jpg").read_bytes(),
        capture_output=True,
        env={**os.environ, "DLSR_WEIGHTS": str(tiny_model.weights)},
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.startswith(b"ply\n")
    mesh = trimesh.load(io.BytesIO(result.stdout), file_type="ply")
    assert mesh.is_watertight and mesh.extents[1] > mesh.extents[0]
    assert b"reconstructed 1 of 1" in result.stderr


def test_exit_codes_and_messages_survive_the_fast_exit(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    """`dlsr reconstruct` ends its process without the interpreter's teardown (`dlsr.cli.main`): exit codes, stdout
    and the error line must come through all the same."""

    def dlsr(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "dlsr", "reconstruct", *args, "--weights", str(tiny_model.weights)]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    done = dlsr(str(images / "wide.png"), "-o", str(tmp_path / "m.obj"))
    assert (done.returncode, done.stdout.strip()) == (0, str(tmp_path / "m.obj")), done.stderr
    missing = dlsr(str(tmp_path / "missing.png"), "-o", str(tmp_path / "n.obj"))
    assert missing.returncode == 1 and "missing.png" in missing.stderr and "Traceback" not in missing.stderr
    usage = dlsr(str(images / "wide.png"), "-o", str(tmp_path / "u.obj"), "--up", "x")
    assert usage.returncode == 2 and "--up" in usage.stderr


@pytest.mark.parametrize(
    ("code", "status", "stderr"), [(None, 0, ""), (3, 3, ""), ("error: no disk", 1, "error: no disk")]
)
def test_the_fast_exit_keeps_sys_exit_meanings(code: object, status: int, stderr: str) -> None:
    """`_exit_now(code)` ends the process as `sys.exit(code)` would: None is 0, an int is itself, anything else is
    printed to stderr with status 1; buffered stdout still comes out."""
    script = f"import sys; from dlsr.cli import _exit_now; sys.stdout.write('out'); _exit_now({code!r})"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr.strip()) == (status, "out", stderr)


def test_json_lines_and_side_outputs(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    result = run(
        "reconstruct",
        str(images / "wide.png"),
        str(images / "tall.jpg"),
        "-o",
        str(tmp_path),
        "--json",
        "--save-sdf",
        "--save-input",
        "--weights",
        str(tiny_model.weights),
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["input"] for r in records] == [str(images / "wide.png"), str(images / "tall.jpg")]
    for record in records:
        assert set(record) == {"input", "output", "foreground", "vertices", "faces", "watertight", "seconds"}
        assert record["watertight"] is True and record["faces"] > 0 and record["seconds"] > 0
        assert trimesh.load(record["output"]).faces.shape == (record["faces"], 3)
    with np.load(tmp_path / "wide.sdf.npz") as archive:
        assert archive["sdf"].shape == (16, 16, 16)
        assert str(archive["sign"]) == "negative-inside"
        np.testing.assert_allclose(archive["bounds"], [[-0.55] * 3, [0.55] * 3])
        assert archive["sdf"].min() < 0 < archive["sdf"].max()
    with Image.open(tmp_path / "wide.input.png") as seen:
        assert seen.size == (32, 32) and seen.mode == "RGB"


def test_a_bad_input_in_a_batch_is_skipped_and_counted(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    broken = images / "broken.png"
    broken.write_bytes((images / "wide.png").read_bytes()[:60])
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        "reconstruct",
        str(images / "wide.png"),
        str(broken),
        str(images / "tall.jpg"),
        "-o",
        str(out),
        "--weights",
        str(tiny_model.weights),
    )
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == ["tall.obj", "wide.obj"]
    assert_one_clean_error(result.stderr, str(broken))
    assert "reconstructed 2 of 3" in result.stderr


def _bomb_png(path: Path, side: int = 30_000) -> Path:
    """A tiny PNG whose header claims side x side pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    pixels = zlib.compress(row * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: d / "missing.png", "no such file"),
        (lambda d: (d / "folder.png").mkdir() or d / "folder.png", "folder"),
        (lambda d: ((d / "empty.png").write_bytes(b"") and d / "empty.png") or d / "empty.png", "empty"),
        (lambda d: (d / "notes.png").write_text("not an image\n") and d / "notes.png", "not an image"),
        (lambda d: _bomb_png(d / "bomb.png"), "pixels"),
        (lambda d: Image.new("RGB", (64, 64), (200, 30, 30)).save(d / "flat.png") or d / "flat.png", "flat colour"),
    ],
    ids=["missing", "directory", "empty", "not-an-image", "decompression-bomb", "flat-colour"],
)
def test_bad_inputs_give_one_line_and_exit_1(make, needle: str, tiny_model: TinyModel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = make(tmp_path)
    result = run("reconstruct", str(bad), "-o", str(tmp_path / "out.obj"), "--weights", str(tiny_model.weights))
    assert result.exit_code == 1, result.output
    assert_one_clean_error(result.stderr, str(bad), needle)
    assert not (tmp_path / "out.obj").exists()


# Over Pillow's own error limit (it refuses the file itself), and between ours and it (it only warns).
@pytest.mark.parametrize(("side", "found"), [(30_000, "900 megapixels"), (10_000, "10000x10000 pixels")])
def test_a_decompression_bomb_names_one_limit(side: int, found: str, tiny_model: TinyModel, tmp_path: Path) -> None:
    """Issue 14 item 18: Pillow's refusal quoted its own limit (178956970 pixels) beside ours (67 megapixels)."""
    bomb = _bomb_png(tmp_path / "bomb.png", side)
    result = run("reconstruct", str(bomb), "-o", str(tmp_path / "out.obj"), "--weights", str(tiny_model.weights))
    assert result.exit_code == 1, result.output
    assert_one_clean_error(result.stderr, str(bomb), f"too large ({found}) for the limit of 8192x8192 pixels")
    assert "178956970" not in result.stderr and "89478485" not in result.stderr


def test_existing_output_is_kept_without_overwrite(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    out = tmp_path / "wide.obj"
    out.write_text("keep me")
    args = ["reconstruct", str(images / "wide.png"), "-o", str(out), "--weights", str(tiny_model.weights)]
    result = run(*args)
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, str(out), "--overwrite")
    assert out.read_text() == "keep me"
    assert run(*args, "--overwrite").exit_code == 0
    assert trimesh.load(out, force="mesh").is_watertight


def test_missing_or_unwritable_output_folder(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    result = run(
        "reconstruct",
        str(images / "wide.png"),
        "-o",
        str(tmp_path / "nowhere" / "m.obj"),
        "--weights",
        str(tiny_model.weights),
    )
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, "does not exist", "mkdir -p")
    if Path("/sys").is_dir() and os.geteuid() == 0:
        result = run("reconstruct", str(images / "wide.png"), "-o", "/sys/m.obj", "--weights", str(tiny_model.weights))
        assert result.exit_code == 1
        assert_one_clean_error(result.stderr, "/sys/m.obj")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-o", "mesh.xyz"], "unknown mesh format"),
        (["--format", "fbx"], "unknown mesh format"),
        (["-o", "-", "EXTRA"], "exactly one input"),
        (["-o", "-", "--save-sdf"], "--save-sdf"),
        (["-o", "-", "--json"], "--json"),
        (["-o", "mesh.obj", "--format", "ply"], "contradicts"),
        (["-o", "mesh.obj", "EXTRA"], "give a folder"),
        (["--resolution", "1"], "resolution"),
        (["--level", "nan"], "--level nan"),
        (["--level", "-inf"], "--level -inf"),
        (["--device", "tpu"], "--device 'tpu'"),
    ],
)
def test_usage_errors_exit_2(
    args: list[str], needle: str, images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = str(images / "wide.png")
    args = [str(images / "tall.jpg") if a == "EXTRA" else a for a in args]
    monkeypatch.chdir(tmp_path)
    result = run("reconstruct", first, *args)
    assert result.exit_code == 2, result.output
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_level_and_device_are_checked_before_the_model_loads(
    images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With no weights anywhere, a check made after loading would report the missing weights (exit 1) instead.
    monkeypatch.setattr("dlsr.checkpoint.default_search_dirs", lambda: [tmp_path / "weights"])
    for option, value in (("--level", "nan"), ("--device", "tpu")):
        result = run("reconstruct", str(images / "wide.png"), "-o", str(tmp_path / "m.obj"), option, value)
        assert result.exit_code == 2, result.output
        assert_one_clean_error(result.stderr, option)
    assert not (tmp_path / "m.obj").exists()


def test_no_surface_is_an_error_not_an_empty_file(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.obj"
    result = run(
        "reconstruct", str(images / "wide.png"), "-o", str(out), "--level", "5", "--weights", str(tiny_model.weights)
    )
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, "no surface", "wide.png")
    assert not out.exists()


# ------------------------------------------------------------------------------------------ weights errors


def test_no_weights_says_so(images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dlsr.checkpoint.default_search_dirs", lambda: [tmp_path / "weights"])
    result = run("reconstruct", str(images / "wide.png"), "-o", str(tmp_path / "m.obj"))
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, "no trained weights found", "--weights", "DLSR_WEIGHTS")


def test_corrupt_and_mismatched_weights(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(tiny_model.weights.read_bytes()[:1000])
    result = run("reconstruct", str(images / "wide.png"), "-o", str(tmp_path / "m.obj"), "--weights", str(corrupt))
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, str(corrupt))
    result = run(
        "reconstruct",
        str(images / "wide.png"),
        "-o",
        str(tmp_path / "m.obj"),
        "--weights",
        str(tmp_path / "absent.safetensors"),
    )
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, "absent.safetensors", "does not exist")


def test_debug_switch_shows_the_traceback(images: Path, tmp_path: Path) -> None:
    env = {**os.environ, "DLSR_DEBUG": "1"}
    missing = str(tmp_path / "absent.safetensors")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dlsr",
            "reconstruct",
            str(images / "wide.png"),
            "-o",
            str(tmp_path / "m.obj"),
            "--weights",
            missing,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "WeightsError" in result.stderr


def test_cuda_request_without_a_gpu(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present")
    result = run(
        "reconstruct",
        str(images / "wide.png"),
        "-o",
        str(tmp_path / "m.obj"),
        "--device",
        "cuda",
        "--weights",
        str(tiny_model.weights),
    )
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, "--device cuda", "--device cpu")


# ------------------------------------------------------------------------------------------ info


def test_info_describes_the_weights(tiny_model: TinyModel) -> None:
    import hashlib

    result = run("info", "--weights", str(tiny_model.weights), "--json")
    assert result.exit_code == 0, result.output
    card = json.loads(result.stdout)
    assert card["weights"]["arch"] == "dlsr-lite"
    assert card["weights"]["sha256"] == hashlib.sha256(tiny_model.weights.read_bytes()).hexdigest()
    assert card["weights"]["grid"] == {"resolution": 16, "bound": 0.55, "sign": "negative-inside"}
    assert card["device"]["auto"] in ("cpu",) or card["device"]["auto"].startswith("cuda")
    assert card["libraries"]["torch"] != "not installed"
    text = run("info", "--weights", str(tiny_model.weights))
    assert text.exit_code == 0 and "sha256" in text.stdout and "dlsr-lite" in text.stdout


def test_info_without_weights_still_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("dlsr.checkpoint.default_search_dirs", lambda: [tmp_path])
    result = run("info")
    assert result.exit_code == 0
    assert "no trained weights found" in result.stdout
    bad = tmp_path / "bad.safetensors"
    bad.write_text("nope")
    result = run("info", "--weights", str(bad))
    assert result.exit_code == 1
    assert str(bad) in result.stderr


# ------------------------------------------------------------------------------------------ real photos


def test_real_photos_reconstruct_without_errors(tiny_model: TinyModel, tmp_path: Path) -> None:
    """Real photos are far from the toy task, but every one must run through the whole pipeline cleanly."""
    photos = realdata_path("photos")
    files = sorted(str(p) for p in photos.iterdir() if p.suffix.lower() in (".png", ".jpg"))
    result = run("reconstruct", *files, "-o", str(tmp_path), "--json", "--weights", str(tiny_model.weights))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(files)
    for record in records:
        # The toy model may see no box in a photo ("no surface"); anything else would be a bug.
        assert "error" not in record or "no surface" in record["error"], record


def test_a_pattern_that_matches_nothing_is_reported(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    nothing = str(images / "*.gif")
    result = run("reconstruct", str(images / "wide.png"), nothing, "-o", str(out), "--weights", str(tiny_model.weights))
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, nothing, "no files match")
    assert [p.name for p in out.iterdir()] == ["wide.obj"]
    result = run("reconstruct", nothing, "-o", str(out), "--weights", str(tiny_model.weights))
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, "no files match")


def test_the_library_entry_points(tiny_model: TinyModel, images: Path) -> None:
    import dlsr
    from dlsr.errors import ConfigError
    from dlsr.pipeline import resolve_device

    model = dlsr.load_model(tiny_model.weights, device="cpu")
    result = dlsr.reconstruct(dlsr.load_image(images / "tall.jpg", model.info.preprocess), model, resolution=48)
    assert result.mesh_resolution == 48 and result.mesh.is_watertight
    assert result.sdf.shape == (16, 16, 16) and result.grid == model.info.grid
    assert result.mesh.extents[1] > 1.4 * result.mesh.extents[0]
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_device("tpu")


def test_reconstruct_takes_the_weights_calibrated_level_unless_told(
    tiny_model: TinyModel, images: Path, tmp_path: Path
) -> None:
    """Weights exported with a level mesh at it by default (`dlsr.level`); --level still overrides it."""
    from safetensors import safe_open
    from safetensors.torch import save

    with safe_open(str(tiny_model.weights), "pt") as handle:
        metadata = dict(handle.metadata())
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    calibrated = tmp_path / "calibrated.safetensors"
    calibrated.write_bytes(save(tensors, metadata={**metadata, "dlsr.level": "0.02"}))
    faces = {}
    for name, extra in (("plain", ["--weights", str(tiny_model.weights)]),
                        ("default", ["--weights", str(calibrated)]),
                        ("told", ["--weights", str(calibrated), "--level", "0"])):  # fmt: skip
        out = tmp_path / name
        out.mkdir()
        result = run("reconstruct", str(images / "wide.png"), "-o", str(out), "--save-sdf", "--json", *extra)
        assert result.exit_code == 0, result.output
        faces[name] = json.loads(result.stdout)["faces"]
        with np.load(out / "wide.sdf.npz") as archive:
            assert float(archive["level"]) == (0.02 if name == "default" else 0.0), name
    assert faces["told"] == faces["plain"] != faces["default"]
    info = run("info", "--json", "--weights", str(calibrated))
    assert info.exit_code == 0 and json.loads(info.stdout)["weights"]["level"] == pytest.approx(0.02)


# ------------------------------------------------------------------------------------------ backgrounds and masks


def cluttered_photo(path: Path) -> Path:
    """A dark-blue rectangle on scikit-image's grass photo (CC0), tinted green: no plain border."""
    from skimage import data as samples

    grass = samples.grass()[:300, :400].astype(np.float64) / 255.0
    pixels = np.clip(np.rint(np.dstack([grass * 180 + 20, grass * 320 + 50, grass * 140 + 10])), 0, 255).astype(
        np.uint8
    )
    pixels[100:200, 120:300] = (30, 40, 150)
    Image.fromarray(pixels).save(path)
    return path


def test_a_cluttered_photo_is_cut_out_by_grabcut(tiny_model: TinyModel, tmp_path: Path) -> None:
    pytest.importorskip("cv2")
    photo = cluttered_photo(tmp_path / "grass.png")
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        "reconstruct", str(photo), "-o", str(out), "--weights", str(tiny_model.weights),
        "--json", "--save-mask", "--save-input",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["foreground"] == "grabcut"
    mask = np.asarray(Image.open(out / "grass.mask.png")) >= 128
    assert mask.shape == (300, 400)
    truth = np.zeros_like(mask)
    truth[100:200, 120:300] = True
    assert (mask & truth).sum() / (mask | truth).sum() > 0.9
    seen = np.asarray(Image.open(out / "grass.input.png"))
    assert (seen[:2] >= 250).all()  # the grass is gone: the network saw the object on white


def test_a_mask_folder_serves_a_batch(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    masks = tmp_path / "masks"
    masks.mkdir()
    for name in ("wide", "tall"):
        with Image.open(next(images.glob(f"{name}.*"))) as photo:
            size = photo.size
        Image.new("L", size, 255).save(masks / f"{name}.png")  # all object: the whole image is framed
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        "reconstruct", str(images / "wide.png"), str(images / "tall.jpg"), "-o", str(out),
        "--mask", str(masks), "--weights", str(tiny_model.weights), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["foreground"] for line in result.stdout.splitlines()] == ["mask", "mask"]


def _wrong_size_mask(folder: Path) -> Path:
    Image.new("L", (10, 10), 255).save(folder / "mask.png")
    return folder / "mask.png"


def _empty_mask(folder: Path) -> Path:
    Image.open(folder / "photos" / "wide.png").convert("L").point(lambda _: 0).save(folder / "mask.png")
    return folder / "mask.png"


def _text_mask(folder: Path) -> Path:
    (folder / "mask.png").write_text("not an image\n")
    return folder / "mask.png"


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (_wrong_size_mask, "the mask is 10x10 pixels but"),
        (_empty_mask, "the mask marks no object"),
        (_text_mask, "not an image file"),
        (lambda folder: folder / "nowhere.png", "no such file"),
    ],
    ids=["wrong-size", "empty", "not-an-image", "missing"],
)
def test_bad_masks_give_one_line_naming_the_mask_and_write_nothing(  # type: ignore[no-untyped-def]
    make, needle: str, tiny_model: TinyModel, images: Path, tmp_path: Path
) -> None:
    mask = make(tmp_path)
    out = tmp_path / "wide.obj"
    result = run(
        "reconstruct", str(images / "wide.png"), "-o", str(out), "--mask", str(mask),
        "--weights", str(tiny_model.weights), "--save-mask", "--save-input",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert_one_clean_error(result.stderr, str(mask), needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["photos", mask.name] if mask.exists() else ["photos"])


def test_a_mask_folder_without_the_inputs_mask(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    (tmp_path / "masks").mkdir()
    result = run(
        "reconstruct", str(images / "wide.png"), "-o", str(tmp_path / "wide.obj"),
        "--mask", str(tmp_path / "masks"), "--weights", str(tiny_model.weights),
    )  # fmt: skip
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, str(images / "wide.png"), str(tmp_path / "masks" / "wide.png"))
    assert not (tmp_path / "wide.obj").exists()


def test_rembg_without_rembg_is_one_line_before_any_work(
    tiny_model: TinyModel, images: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "rembg" else real(name, *a))
    out = tmp_path / "wide.obj"
    result = run(
        "reconstruct", str(images / "wide.png"), "-o", str(out), "--background", "rembg",
        "--weights", str(tiny_model.weights),
    )  # fmt: skip
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, "--background rembg", "pip install rembg")
    assert not out.exists()


def test_no_object_found_is_one_line_naming_the_photo(tiny_model: TinyModel, tmp_path: Path) -> None:
    pytest.importorskip("cv2")
    noise = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (150, 200, 3), dtype=np.uint8)).save(noise)
    out = tmp_path / "noise.obj"
    result = run("reconstruct", str(noise), "-o", str(out), "--weights", str(tiny_model.weights), "--save-mask")
    assert result.exit_code == 1
    assert_one_clean_error(result.stderr, str(noise), "found no object", "give a mask")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["noise.png"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--background", "magic"], "--background 'magic': choose auto, none, plain, grabcut, learned or rembg"),
        (["--background", "grabcut", "--mask", "m.png"], "drop --background grabcut"),
    ],
)
def test_background_usage_errors_exit_2(args: list[str], needle: str, images: Path) -> None:
    result = run("reconstruct", str(images / "wide.png"), *args)
    assert result.exit_code == 2
    assert needle in result.stderr


def test_one_mask_file_for_many_inputs_is_a_usage_error(images: Path, tmp_path: Path) -> None:
    Image.new("L", (8, 8), 255).save(tmp_path / "m.png")
    result = run("reconstruct", str(images / "wide.png"), str(images / "tall.jpg"), "-o", str(tmp_path),
                 "--mask", str(tmp_path / "m.png"))  # fmt: skip
    assert result.exit_code == 2
    assert "give a folder of masks" in result.stderr


def test_scale_and_up_place_the_mesh(tiny_model: TinyModel, images: Path, tmp_path: Path) -> None:
    plain, placed = tmp_path / "plain.ply", tmp_path / "placed.ply"
    for out, extra in ((plain, []), (placed, ["--scale", "2", "--up", "z", "--keep-parts", "1", "--smooth", "3"])):
        result = run(
            "reconstruct", str(images / "wide.png"), "-o", str(out), "--weights", str(tiny_model.weights), *extra
        )
        assert result.exit_code == 0, result.output
    before, after = trimesh.load(plain, force="mesh"), trimesh.load(placed, force="mesh")
    np.testing.assert_allclose(after.extents, 2 * before.extents[[0, 2, 1]], rtol=0.1)


@pytest.mark.parametrize(
    ("args", "needle"), [(["--up", "x"], "--up 'x': choose y or z"), (["--scale", "0"], "--scale 0")]
)
def test_placement_usage_errors_exit_2(args: list[str], needle: str, images: Path) -> None:
    result = run("reconstruct", str(images / "wide.png"), *args)
    assert result.exit_code == 2
    assert needle in result.stderr
