"""The process group of a (possibly single-process) run: rank, world size, device, and the two collectives used."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from dlsr.errors import ConfigError


@dataclass(frozen=True)
class Distributed:
    """This process's place in a (possibly single-process) run."""

    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


@contextmanager
def distributed_context(device: str = "auto") -> Iterator[Distributed]:
    """Join the process group torchrun describes (WORLD_SIZE > 1), else a single process; leave it at exit."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda: no CUDA GPU is available; use --device cpu")
    if world <= 1:
        yield Distributed(device=torch.device("cuda" if cuda else "cpu"))
        return
    import torch.distributed as dist

    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    if cuda:
        torch.cuda.set_device(local)
    dist.init_process_group(backend="nccl" if cuda else "gloo")
    try:
        yield Distributed(rank, world, torch.device(f"cuda:{local}" if cuda else "cpu"))
    finally:
        dist.destroy_process_group()


def all_reduce_sum(values: torch.Tensor, context: Distributed) -> torch.Tensor:
    if context.world > 1:
        import torch.distributed as dist

        values = values.to(context.device)
        dist.all_reduce(values)
    return values.cpu()


def barrier(context: Distributed) -> None:
    if context.world > 1:
        import torch.distributed as dist

        dist.barrier()
