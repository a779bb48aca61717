"""Benchmark cells as Ray tasks (``autoal bench --ray [ADDRESS]``), written by the driver.

Each pending cell runs :func:`~autoal.bench.cell.compute_cell` as a Ray task that asks for
the cell's resources (``threads`` CPUs, and one GPU when the cell's device is ``cuda``); the
task returns the run record and this process, the driver, writes it exactly as the process
runner does (:func:`~autoal.bench.cell.write_cell`, atomically), so the run files, resume
and the folder's lock are the same whichever runner made them. A worker that dies mid-cell
leaves no partial file; Ray runs its cell again (:data:`RETRIES` times), then the cell is
recorded as failed and left for a resume. A task runs in the driver's working directory
where the node has it, so data paths relative to it (as a config may give them) mean what
they mean to the process runner; a cell's record and fingerprint keep the paths as given.
Ray itself is imported only here, through :mod:`autoal.scale`, and only with ``--ray``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autoal.bench.cell import compute_cell, error_text, write_cell
from autoal.bench.grid import Cell
from autoal.bench.resume import error_path
from autoal.io import write_text_atomic

if TYPE_CHECKING:
    from autoal.scale.cells import CellOutcome

__all__ = ["LOCAL", "RETRIES", "ClusterTooSmallError", "cell_resources", "connect_cluster",
           "run_on_ray"]

#: The ``--ray`` value that starts a local cluster (``--ray`` given without an address).
LOCAL = "local"

#: How often Ray runs a cell again after its worker died.
RETRIES = 2


class ClusterTooSmallError(ValueError):
    """No node of the Ray cluster has the CPUs or GPU that a cell asks for."""


def cell_resources(cell: Cell, threads: int) -> dict[str, float]:
    """The Ray resources of one cell: ``threads`` CPUs, and one GPU for a ``cuda`` device."""
    gpus = 1.0 if str(cell.settings["device"]).startswith("cuda") else 0.0
    return {"num_cpus": float(threads), "num_gpus": gpus}


def _compute_in(directory: str, cell: Cell) -> Any:
    """:func:`compute_cell` in ``directory`` (the driver's working directory) when this node
    has it, then back to where the worker was."""
    here = os.getcwd()
    moved = os.path.isdir(directory)
    if moved:
        os.chdir(directory)
    try:
        return compute_cell(cell)
    finally:
        if moved:
            os.chdir(here)


def connect_cluster(address: str, cells: Sequence[Cell] = (), threads: int = 1) -> Any:
    """Join the cluster at ``address`` (``host:port``), or start a local one for
    :data:`LOCAL`, and check that some node can run each of ``cells``; returns ``ray``.

    Raises
    ------
    autoal.scale.ray_engine.RayUnavailableError
        Ray is not installed (the message says ``pip install 'autoal[ray]'``).
    autoal.scale.ray_engine.RayUnreachableError
        Nothing answers at ``address``; the message names it.
    ClusterTooSmallError
        No node has ``threads`` CPUs, or a ``cuda`` cell finds no GPU in the cluster (its
        task would wait forever).
    """
    from autoal.scale.ray_engine import connect

    ray = connect(None if address == LOCAL else address)
    needs = [cell_resources(cell, threads) for cell in cells]
    if not needs:
        return ray
    nodes = [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")]
    where = f"the Ray cluster at {address}" if address != LOCAL else "the local Ray cluster"
    most_cpus = max((n.get("CPU", 0.0) for n in nodes), default=0.0)
    if most_cpus < threads:
        raise ClusterTooSmallError(
            f"each cell asks for {threads} CPU(s) (--threads) but the largest node of {where} "
            f"has {most_cpus:g}"
        )
    if any(need["num_gpus"] for need in needs):
        if not any(n.get("GPU", 0.0) >= 1 and n.get("CPU", 0.0) >= threads for n in nodes):
            raise ClusterTooSmallError(
                f"the config asks for device 'cuda' but no node of {where} has a GPU and "
                f"{threads} CPU(s); start the workers with `ray start ... --num-gpus=1`"
            )
    return ray


def run_on_ray(
    cells: Sequence[Cell],
    out: Path,
    threads: int,
    record: Callable[[tuple[str, str, str | None]], None],
) -> None:
    """Run ``cells`` as Ray tasks on the connected cluster (:func:`connect_cluster` first);
    write each result or error file into ``out`` and tell ``record`` as it arrives.

    ``record`` gets ``("ok", name, None)`` or ``("failed", name, one-line error)``, as from
    the process runner. Ctrl-C cancels the cells in flight and propagates.
    """
    from autoal.scale.cells import run_cells_on_ray

    def on_done(outcome: CellOutcome[Cell]) -> None:
        cell = outcome.cell
        if outcome.ok:
            write_cell(out, cell, outcome.value)
            record(("ok", cell.name, None))
        else:
            write_text_atomic(error_path(out, cell), error_text(cell, outcome.details))
            record(("failed", cell.name, outcome.error))

    run_cells_on_ray(
        list(cells),
        functools.partial(_compute_in, os.getcwd()),
        on_done,
        resources=lambda cell: cell_resources(cell, threads),
        max_retries=RETRIES,
        threads=threads,
    )
