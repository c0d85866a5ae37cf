"""Make the README's gallery: input images beside `dlsr render` pictures of their reconstructions.

Usage: python docs/make_gallery.py [--weights FILE] [--out docs/gallery] [--photos ../shared/realdata/photos]

Synthetic rows: one procedural object per category, made by `dlsr data synth` with a seed the training data never
used (so these are unseen shapes), view 0 as input; each row shows input | reconstruction | ground truth, both
meshes drawn by `dlsr render` from two sides. Photo rows: only photos whose licence allows showing them (the CC0
coffee cup of scikit-image's data and TripoSR's MIT-licensed plush toy, listed in ../shared/realdata/photos/
SOURCE.txt); they have no ground truth. Real renderings rows: dlsr's reconstructions of the nine ShapeNet renderings
of Occupancy Networks' demo (../shared/realdata/renders/onet_demo); their inputs fall under ShapeNet's terms and are
not shown. An input the model finds no surface in gets an empty cell that says so. Every picture comes from the
shipped commands, so the gallery shows what users get, good and bad.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
SEED = 7  # the training data used seed 0
CATEGORIES = ("02691156", "03001627", "04379243", "02958343", "04256520", "03636649")  # plane chair table car sofa lamp
PHOTOS = {"coffee.png": "CC0, scikit-image", "captured_p.png": "MIT, TripoSR"}  # the others may not be shown
DEMO_RENDERS = tuple(f"{number:02d}.jpg" for number in range(9))
CELL = 192


def dlsr(*args: str) -> None:
    """Run a dlsr command with this interpreter, failing loudly."""
    subprocess.run([sys.executable, "-m", "dlsr", *args], check=True)


def reconstruct(image: Path, mesh: Path, *extra: str) -> bool:
    """`dlsr reconstruct` of one image; False when it found no surface (it says why on stderr)."""
    found = subprocess.run([sys.executable, "-m", "dlsr", "reconstruct", str(image), "-o", str(mesh), "-q", *extra])
    return found.returncode == 0 and mesh.is_file()


def empty_cell(text: str, size: int = CELL) -> Image.Image:
    """A grey-framed cell that says why there is no picture."""
    canvas = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((2, 2, size - 3, size - 3), outline=(200, 200, 200))
    draw.text((12, size // 2 - 6), text, fill=(120, 120, 120))
    return canvas


def render(mesh: Path, picture: Path) -> None:
    """One view of a mesh by `dlsr render`."""
    dlsr("render", str(mesh), "-o", str(picture), "--views", "1", "--size", "256")


def cell(path: Path, size: int = CELL) -> Image.Image:
    """A picture fitted into a white square cell."""
    image = Image.open(path).convert("RGBA")
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (size, size), "white")
    canvas.paste(image, ((size - image.width) // 2, (size - image.height) // 2), image)
    return canvas


def strip(cells: list[Image.Image], label: str) -> Image.Image:
    """Cells side by side, with a label above."""
    row = Image.new("RGB", (CELL * len(cells), CELL + 18), "white")
    ImageDraw.Draw(row).text((4, 2), label, fill=(60, 60, 60))
    for index, picture in enumerate(cells):
        row.paste(picture, (index * CELL, 18))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "gallery")
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "realdata" / "photos")
    args = parser.parse_args()
    weights = ["--weights", args.weights] if args.weights else []
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        data = work / "data"
        dlsr(
            "data", "synth", str(data), "--categories", ",".join(CATEGORIES), "--per-category", "1",
            "--views", "1", "--seed", str(SEED), "-q",
        )  # fmt: skip
        rows = []
        for category in CATEGORIES:
            folder = next(p for p in sorted((data / category).iterdir()) if p.is_dir())
            image = folder / "rendering" / "00.png"
            mesh = work / f"{category}.obj"
            dlsr("reconstruct", str(image), "-o", str(mesh), "-q", *weights)
            render(mesh, work / f"{category}-pred.png")
            render(folder / "model.obj", work / f"{category}-true.png")
            pictures = (image, work / f"{category}-pred.png", work / f"{category}-true.png")
            rows.append((category, [cell(p) for p in pictures]))
        photo_rows = []
        for name, licence in PHOTOS.items():
            photo = args.photos / name
            if not photo.is_file():
                continue
            mesh = work / f"{photo.stem}.obj"
            if reconstruct(photo, mesh, *weights):
                render(mesh, work / f"{photo.stem}-pred.png")
                made = cell(work / f"{photo.stem}-pred.png")
            else:
                made = empty_cell("no surface found")
            photo_rows.append((f"{photo.stem} ({licence})", [cell(photo), made]))
        demo_cells = []
        for name in DEMO_RENDERS:
            image = args.photos.parent / "renders" / "onet_demo" / name
            if not image.is_file():
                continue
            mesh = work / f"demo-{image.stem}.obj"
            if reconstruct(image, mesh, *weights):
                render(mesh, work / f"demo-{image.stem}.png")
                demo_cells.append(cell(work / f"demo-{image.stem}.png"))
            else:
                demo_cells.append(empty_cell(f"{name}: no surface"))

    from dlsr.synth.shapes import CATEGORIES as NAMES

    width = CELL * 3
    pictures = [strip(c, f"{NAMES[k]}: input (unseen object) | dlsr reconstruction | ground truth") for k, c in rows]
    pictures += [strip(c, f"photo {k}: input | dlsr reconstruction") for k, c in photo_rows]
    for start in range(0, len(demo_cells), 3):
        label = f"ShapeNet renderings of ONet's demo {start:02d}-{start + 2:02d} (inputs not shown): reconstructions"
        pictures.append(strip(demo_cells[start : start + 3], label))
    sheet = Image.new("RGB", (width, sum(p.height for p in pictures)), "white")
    top = 0
    for picture in pictures:
        sheet.paste(picture, (0, top))
        top += picture.height
    target = args.out / "gallery.png"
    sheet.save(target, optimize=True)
    print(target)


if __name__ == "__main__":
    main()
