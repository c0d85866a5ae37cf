"""Make the README's gallery: input images beside `dlsr render` pictures of their reconstructions.

Usage: python docs/make_gallery.py [--weights FILE] [--out docs/gallery] [--photos ../shared/realdata/photos]

Synthetic rows: one procedural object per category, made by `dlsr data synth` with a seed the training data never
used (so these are unseen shapes), view 0 as input; each row shows input | reconstruction | ground truth, both
meshes drawn by `dlsr render` from two sides. Photo rows: only photos whose licence allows showing them (the CC0
coffee cup of scikit-image's data, listed in ../shared/realdata/photos/SOURCE.txt); they have no ground truth.
Every picture comes from the shipped commands, so the gallery shows what users get.
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
PHOTOS = ("coffee.png",)  # CC0 (scikit-image data); the other shared photos may not be shown
CELL = 192


def dlsr(*args: str) -> None:
    """Run a dlsr command with this interpreter, failing loudly."""
    subprocess.run([sys.executable, "-m", "dlsr", *args], check=True)


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
        for name in PHOTOS:
            photo = args.photos / name
            if not photo.is_file():
                continue
            mesh = work / f"{photo.stem}.obj"
            dlsr("reconstruct", str(photo), "-o", str(mesh), "-q", "--save-input", *weights)
            render(mesh, work / f"{photo.stem}-pred.png")
            photo_rows.append((photo.stem, [cell(photo), cell(work / f"{photo.stem}-pred.png")]))

    from dlsr.shapes import CATEGORIES as NAMES

    width = CELL * 3
    pictures = [strip(c, f"{NAMES[k]}: input (unseen object) | dlsr reconstruction | ground truth") for k, c in rows]
    pictures += [strip(c, f"photo {k} (CC0): input | dlsr reconstruction (out of distribution)") for k, c in photo_rows]
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
