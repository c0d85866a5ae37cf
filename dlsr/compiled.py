"""numba's `njit` with its on-disk cache where numba finds somewhere to write it (`dlsr.nearest`, `dlsr.sampling`).

Compiling the nearest-neighbour search and the sampler takes about 6 s; numba caches the result beside the
source (or in the user's cache folder, or `NUMBA_CACHE_DIR`), and later processes load it in 0.4 s. Where none of
those is writable (a read-only install and home), numba refuses to decorate a cached function at import time;
`compiled` then compiles without the cache instead, so dlsr still works, paying the 6 s in each process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numba

Function = TypeVar("Function", bound=Callable[..., Any])


def compiled(**options: Any) -> Callable[[Function], Function]:
    """`numba.njit(cache=True, **options)`, or without the cache when numba has nowhere to keep one."""

    def decorate(function: Function) -> Function:
        try:
            return numba.njit(cache=True, **options)(function)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(**options)(function)

    return decorate
