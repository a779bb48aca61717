"""Benchmark grids: the config, the grid of cells, the cell runners, resume, the lock.

:func:`load_config` reads a TOML config (:mod:`.config`) into a :class:`BenchConfig` of
:class:`Cell` objects (:mod:`.grid`); :func:`check_data` checks it against the data
(:mod:`.datacheck`); :func:`pending_cells` finds what is left to run (:mod:`.resume`);
:func:`run_bench` runs it in worker processes (:mod:`.runner`) or as Ray tasks
(:mod:`.ray_runner`). Each cell is one :func:`autoal.loop.run_active_learning`
(:mod:`.cell`); the report is :func:`autoal.report.write_report`.
"""

from autoal.bench.config import ConfigError, load_config, parse_config
from autoal.bench.datacheck import check_data
from autoal.bench.grid import CELL_KEYS, BenchConfig, Cell, DatasetSpec, Variant
from autoal.bench.resume import (
    StaleResultsError,
    build_strategy,
    cell_path,
    estimate_seconds,
    pending_cells,
    reuse_cells,
    strategy_parameters,
)
from autoal.bench.runner import BenchLockedError, BenchResult, default_workers, run_bench, run_cell

__all__ = [
    "BenchConfig",
    "BenchLockedError",
    "BenchResult",
    "CELL_KEYS",
    "Cell",
    "ConfigError",
    "DatasetSpec",
    "StaleResultsError",
    "Variant",
    "build_strategy",
    "cell_path",
    "check_data",
    "default_workers",
    "estimate_seconds",
    "load_config",
    "parse_config",
    "pending_cells",
    "reuse_cells",
    "run_bench",
    "run_cell",
    "strategy_parameters",
]
