"""``autoal bench CONFIG --out DIR`` and ``autoal report DIR``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from autoal.errors import InputError, WriteError

if TYPE_CHECKING:
    from autoal.bench.grid import Cell

__all__ = ["bench", "report"]


def _require_devices(cells: list[Cell], config: Path) -> None:
    """Refuse up front a config that asks for CUDA on a machine without it."""
    from autoal.models.device import resolve_device

    for device in sorted({c.settings["device"] for c in cells}):
        if device.startswith("cuda"):
            try:
                resolve_device(device)
            except ValueError as err:
                raise InputError(f"{config}: {err}") from None


def _join_ray(address: str, cells: list[Cell], threads: int | None) -> None:
    """Join (or start) the Ray cluster before anything is written; its errors are exit 2."""
    from autoal.bench.ray_runner import ClusterTooSmallError, connect_cluster
    from autoal.scale.ray_engine import RayUnavailableError, RayUnreachableError

    try:
        connect_cluster(address, cells, threads or 1)
    except (RayUnavailableError, RayUnreachableError, ClusterTooSmallError) as err:
        raise InputError(f"--ray: {err}") from None


@click.command()
@click.argument("config", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: runs/, errors/, summary.md, summary.csv, PNGs.")
@click.option("--workers", type=int, default=None,
              help="Worker processes (default: the cores available).")
@click.option("--threads", type=int, default=None,
              help="Torch threads per worker (default: cores // workers).")
@click.option("--dry-run", is_flag=True,
              help="Check the config, list the cells (finished ones in OUT marked) and stop.")
@click.option("--no-data-check", is_flag=True,
              help="Skip loading each data set up front to check the sizes.")
@click.option("--reuse", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Another bench's --out folder: copy its finished runs of this config's "
                   "cells (same fingerprint and strategy parameters) instead of running them.")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None,
              metavar="[ADDRESS]",
              help="Run every cell as a Ray task on the cluster whose head is at ADDRESS "
                   "(host:port); --ray alone starts a local cluster. Put it after CONFIG. "
                   "Needs pip install 'autoal[ray]'.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def bench(config: Path, out: Path, workers: int | None, threads: int | None, dry_run: bool,
          no_data_check: bool, reuse: Path | None, ray_address: str | None,
          quiet: bool) -> None:
    """Run a grid of data sets x regimes x strategy variants x seeds, then summarise it.

    Every cell writes OUT/runs/<dataset>__<regime>__<variant>__<seed>.json atomically;
    re-running the same command resumes (finished cells are skipped). See
    benchmarks/README.md for the config schema. With --ray, each cell is a Ray task asking
    for --threads CPUs (default 1) and a GPU when its device is cuda; this process writes
    the run files.
    """
    from autoal.bench import (
        BenchLockedError,
        ConfigError,
        StaleResultsError,
        check_data,
        default_workers,
        estimate_seconds,
        load_config,
        pending_cells,
        reuse_cells,
        run_bench,
    )
    from autoal.report import write_report

    if workers is not None and workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    if threads is not None and threads < 1:
        raise InputError(f"--threads must be at least 1, got {threads}")
    if ray_address is not None and workers is not None:
        raise InputError("--workers counts worker processes; with --ray the cluster's CPUs "
                         "decide how many cells run at once (--threads sets each cell's CPUs)")
    try:
        cfg = load_config(config)
    except ConfigError as err:
        raise InputError(str(err)) from None
    if out.exists() and not out.is_dir():
        raise InputError(f"--out exists and is not a folder: {out}")
    for name in cfg.dropped:
        click.echo(f"note: variant {name!r} left out: its strategy is not registered "
                   "(optional = true)", err=True)
    if reuse is not None and not (reuse / "runs").is_dir():
        raise InputError(f"--reuse {reuse} has no runs/ folder (is it an `autoal bench` --out?)")
    if reuse is not None and reuse.resolve() == out.resolve():
        raise InputError("--reuse names the --out folder itself")
    cells = cfg.cells()
    if dry_run:
        if reuse is not None:
            click.echo("note: --dry-run copies nothing; --reuse applies when the bench runs",
                       err=True)
        try:
            todo, finished = pending_cells(cfg, out)
        except StaleResultsError as err:
            raise InputError(str(err)) from None
        done = {c.name for c in finished}
        for cell in cells:
            click.echo(f"{cell.name}{'  (finished)' if cell.name in done else ''}")
        click.echo(f"{len(cells)} cells: {len(done)} finished, {len(cells) - len(done)} to run",
                   err=True)
        if todo and finished:
            n_workers = min(workers or default_workers(), len(todo))
            seconds, unknown = estimate_seconds(todo, finished, out)
            if unknown == len(todo):
                click.echo("no estimate yet: no finished cell of the same data set and regime "
                           "records its wall time", err=True)
            else:
                note = f"; {unknown} cell(s) without an estimate are not counted" if unknown \
                    else ""
                click.echo(
                    f"about {seconds / n_workers / 3600:.1f} h left with {n_workers} "
                    "worker(s), from the wall times of finished cells of the same variant "
                    f"(else data set and regime){note}", err=True,
                )
        return
    if ray_address is None:
        _require_devices(cells, config)  # with Ray, the cluster's nodes must have the GPUs
    if not no_data_check:
        problems = check_data(cfg)
        if problems:
            raise InputError(
                f"{config}: {len(problems)} problem(s) with the data:\n"
                + "\n".join(f"  - {p}" for p in problems)
            )
    try:
        pending_cells(cfg, out)
    except StaleResultsError as err:
        raise InputError(str(err)) from None
    if ray_address is not None:
        _join_ray(ray_address, cells, threads)
    if reuse is not None:
        copied, refused = reuse_cells(cfg, out, reuse)
        click.echo(f"reused {len(copied)} finished run(s) from {reuse}", err=True)
        if refused:
            click.echo(f"not reused ({len(refused)}, made with other settings): "
                       + ", ".join(refused[:5]) + (" ..." if len(refused) > 5 else ""),
                       err=True)
    try:
        result = run_bench(cfg, out, workers=workers, threads=threads, progress=not quiet,
                           echo=click.echo, config_text=config.read_bytes(), ray=ray_address)
    except BenchLockedError as err:
        raise InputError(str(err)) from None
    except OSError as err:  # a full disk, a read-only file system: finished cells are kept
        kept = "finished cells are kept; free space and run it again"
        raise WriteError.from_os_error(err, kept) from None
    except KeyboardInterrupt:
        click.echo("\ninterrupted: finished cells are kept; run the same command to resume",
                   err=True)
        sys.exit(130)
    click.echo(f"ran {len(result.ran)} cell(s), skipped {len(result.skipped)} finished, "
               f"{len(result.failed)} failed, in {result.seconds:.1f} s")
    try:
        report_out = write_report(out)
        click.echo(f"wrote {out / 'summary.md'}, {out / 'summary.csv'} and "
                   f"{len(report_out['files']) - 2} plot(s)")
    except FileNotFoundError:
        click.echo("no finished cells: no summary written", err=True)
    except OSError as err:
        raise WriteError.from_os_error(err, "the previous summary is kept") from None
    if result.failed:
        click.echo(f"{len(result.failed)} cell(s) failed (details in {out / 'errors'}):",
                   err=True)
        for name, line in result.failed.items():
            click.echo(f"  {name}: {line}", err=True)
        sys.exit(1)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def report(directory: Path) -> None:
    """Rebuild DIRECTORY's summary.md, summary.csv and plots from its run files alone."""
    from autoal.report import write_report

    if not (directory / "runs").is_dir():
        raise InputError(f"{directory} has no runs/ folder (is it an `autoal bench` --out?)")
    try:
        result = write_report(directory)
    except FileNotFoundError as err:
        raise InputError(str(err)) from None
    except OSError as err:
        raise WriteError.from_os_error(err, "the previous summary is kept") from None
    click.echo(f"wrote {directory / 'summary.md'}, {directory / 'summary.csv'} and "
               f"{len(result['files']) - 2} plot(s) from "
               f"{sum(len(v) for g in result['groups'] for v in g.runs.values())} run(s)")
