"""Compiled kernels work where numba cannot keep a cache, as well as where it can."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
import pytest

from dlsr.compiled import compiled


def test_a_function_numba_cannot_cache_is_compiled_without_the_cache() -> None:
    # A function whose source file does not exist: numba finds no cache locator for it, as for a read-only install
    # with a read-only home, and refuses `cache=True` outright.
    namespace: dict[str, Any] = {}
    exec(compile("def twice(x):\n    return 2 * x\n", "/nonexistent/kernel.py", "exec"), namespace)
    with pytest.raises(RuntimeError, match="no locator available"):
        numba.njit(cache=True)(namespace["twice"])
    twice = compiled(nogil=True)(namespace["twice"])
    assert twice(np.float64(3.5)) == 7.0


def test_a_module_function_is_cached() -> None:
    from dlsr import nearest

    assert nearest._search._cache is not None and type(nearest._search._cache).__name__ == "FunctionCache"
