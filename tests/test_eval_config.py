"""dlsr.eval.config: option parsers and settings checks."""

from __future__ import annotations

import pytest

from dlsr.conventions import parse_shard
from dlsr.errors import ConfigError
from dlsr.eval import EvalConfig, parse_views


def test_option_parsers() -> None:
    assert parse_views("all") is None and parse_views("0,6,12") == (0, 6, 12)
    assert parse_shard("1/4") == (1, 4)
    for bad in ("x", "-1"):
        with pytest.raises(ConfigError):
            parse_views(bad)
    for bad in ("4/4", "a/b", "1"):
        with pytest.raises(ConfigError):
            parse_shard(bad)
    with pytest.raises(ConfigError, match="alignment"):
        EvalConfig(align="rotate")
