"""`dlsr render`: a contact sheet of a mesh."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dlsr.cli._util import (
    app,
    fail,
    handle_errors,
    usage_error,
)
from dlsr.conventions import (
    MESH_FORMATS,
)


@app.command()
@handle_errors
def render(
    mesh: Annotated[Path, typer.Argument(help=f"Mesh file ({', '.join(MESH_FORMATS)}).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Picture to write (.png).")],
    views: Annotated[int, typer.Option(min=1, max=64, help="Views around the object.")] = 8,
    size: Annotated[int, typer.Option(min=16, max=2048, help="Side of each view, pixels.")] = 256,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing picture.")] = False,
) -> None:
    """Draw a contact sheet of a mesh from several views, for looking at results."""
    from dlsr.files import atomic_write
    from dlsr.image import png_bytes
    from dlsr.mesh_input import load_mesh
    from dlsr.render import contact_sheet

    if output.suffix.lower() != ".png":
        raise usage_error(f"{output}: the picture is written as PNG; give a .png file name")
    sheet = contact_sheet(load_mesh(mesh), views=views, size=size)
    if (sheet == 255).all():  # an all-white picture is no picture of the mesh
        raise fail(f"{mesh}: no view shows any of the mesh (too thin or too small to see); nothing written")
    atomic_write(output, png_bytes(sheet), overwrite=overwrite)
    sys.stdout.write(f"{output}\n")
