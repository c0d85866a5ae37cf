"""Shared conventions: parsing of category lists, shards and comma-separated options, and the light import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dlsr.cli import app
from dlsr.conventions import CATEGORIES, category_id, either, parse_categories, parse_shard, split_list
from dlsr.errors import ConfigError


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (None, ()),
        ("", ()),
        (" , ,", ()),
        ("chair", ("chair",)),
        (" a , b,,c ", ("a", "b", "c")),
        (["a,b", "c"], ("a", "b", "c")),  # a repeated option, each value a comma list
        (("b", "a", "b"), ("b", "a", "b")),  # order and repeats are the caller's
    ],
)
def test_split_list(values: Any, expected: tuple[str, ...]) -> None:
    assert split_list(values) == expected


def test_either_lists_names_for_a_message() -> None:
    assert [either(names) for names in ((), ("a",), ("a", "b"), ("a", "b", "c"))] == ["", "a", "a or b", "a, b or c"]


def test_category_id_takes_ids_and_names_and_refuses_anything_else() -> None:
    assert category_id("chair") == "03001627" == category_id("03001627")
    with pytest.raises(ConfigError, match=r"unknown category 'Chair'; use one of 02691156 \(airplane\), .*"):
        category_id("Chair")  # names are matched exactly, as dataset folders are
    with pytest.raises(ConfigError, match="04530566 \\(watercraft\\)"):
        category_id("boat")


def test_parse_categories_gives_ids_in_canonical_order_once() -> None:
    assert parse_categories("table, 02691156,chair,airplane") == ("02691156", "03001627", "04379243")
    assert parse_categories(["table", "chair,table"]) == ("03001627", "04379243")
    assert parse_categories(None) == () == parse_categories(" , ")
    assert set(parse_categories(",".join(CATEGORIES.values()))) == set(CATEGORIES)
    with pytest.raises(ConfigError, match="unknown category 'chiar'"):
        parse_categories("chair,chiar")


@pytest.mark.parametrize(("text", "expected"), [("0/1", (0, 1)), ("1/4", (1, 4)), ("3/4", (3, 4))])
def test_parse_shard(text: str, expected: tuple[int, int]) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("4/4", "need 0 <= i < n"), ("-1/2", "need 0 <= i < n"), ("0/0", "need 0 <= i < n"), ("1", "expected i/n"),
     ("a/b", "expected i/n"), ("1/2/3", "expected i/n")],
)  # fmt: skip
def test_parse_shard_refuses(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_shard(text)


def test_conventions_import_nothing_heavy() -> None:
    code = (
        "import sys, dlsr.conventions\n"
        "print(sorted(m for m in ('numpy', 'torch', 'numba', 'trimesh', 'scipy', 'PIL') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "args",
    [["--categories", "03001627, 02691156"], ["--categories", "03001627", "--categories", "02691156"]],
)
def test_train_takes_a_comma_list_or_a_repeated_option(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dlsr.train

    seen: dict[str, Any] = {}

    def fake_train(data: Any, out: Any, config: Any, **kwargs: Any) -> Any:
        seen["categories"] = config.train.categories
        raise ConfigError("stop here")

    monkeypatch.setattr(dlsr.train, "train", fake_train)
    result = CliRunner().invoke(app, ["train", str(tmp_path), "--out", str(tmp_path / "run"), *args, "-q"])
    assert result.exit_code == 1 and "stop here" in result.stderr
    assert seen["categories"] == ("03001627", "02691156")
