"""`dlsr info`: the weights' model card, the device that would be used, and versions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dlsr.cli._util import (
    app,
    emit_json,
    fail,
    handle_errors,
)


@app.command()
@handle_errors
def info(
    weights: Annotated[
        Path | None, typer.Option(help="Weights file to describe (default: $DLSR_WEIGHTS, then the shipped one).")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the card as one JSON object.")] = False,
) -> None:
    """Show the model card of the weights, the device that would be used, and versions."""
    from dlsr.about import system_card

    card = system_card(weights)
    if json_output:
        emit_json(card)
    else:
        from rich.console import Console

        from dlsr.about import card_lines

        out = Console(highlight=False, soft_wrap=True)
        for line in card_lines(card):
            out.print(line, markup=False)
    if weights is not None and card["weights"].get("error"):
        raise fail(card["weights"]["error"])
