"""Faults under ``autoal bench --ray``: a Ray worker SIGKILLed in the middle of a cell, on
the shared local two-worker cluster (marker ``ray``).

The cell of one strategy on seed 0 SIGKILLs its own worker process while scoring (after
the first round's training), as the out-of-memory killer would, a set number of times.
Once: Ray runs the cell again and the bench finishes. More often than the bench retries:
the cell is recorded as failed and left for a resume, which completes the grid. Either way
the run folder holds only whole run files, no temporary file, and the same records as an
uninterrupted run (timings aside).

The strategy reaches the workers pickled by value (workers cannot import the tests):
``autoal.bench.ray_runner._compute_in`` is wrapped for the test so that each task
registers it and tells it where to count its deaths before the cell runs.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import autoal.bench.ray_runner as ray_runner
import autoal.strategies.registry as strategy_registry
from autoal.bench.config import load_config
from autoal.bench.runner import run_bench
from autoal.cli import main
from autoal.strategies import QueryStrategy, register_strategy

from support import tiny_bench_config

pytestmark = pytest.mark.ray

NAME = "_test_dies_on_ray"
DYING_CELL = "digits__low__dies__0"
CONFIG = tiny_bench_config(
    f'dies = {{ strategy = "{NAME}" }}\nmargin = {{ strategy = "margin" }}',
    seeds="0, 1", rounds=2,
)


class DiesOnRay(QueryStrategy):
    """Least confidence; on seed 0 it SIGKILLs its own process while fewer than
    ``$AUTOAL_TEST_DEATHS`` death marks are in ``$AUTOAL_TEST_DEATH_DIR`` (leaving one
    more). Without those variables (the driver, the reference run) it never dies."""

    name = NAME
    requires = ("probs",)

    def score(self, evidence: Any, budget: int | None = None) -> Any:
        folder = os.environ.get("AUTOAL_TEST_DEATH_DIR")
        if folder and self.random_state == 0:
            deaths = len(list(Path(folder).glob("death-*")))
            if deaths < int(os.environ["AUTOAL_TEST_DEATHS"]):
                (Path(folder) / f"death-{deaths}").write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
        return 1.0 - evidence.probs.max(axis=1)


def _dying_compute(death_dir: str, deaths: int, compute: Any) -> Any:
    """A stand-in for ``ray_runner._compute_in`` run on the worker: registers
    :class:`DiesOnRay` there, arms it, then computes the cell as the bench does."""

    def compute_in(directory: str, cell: Any) -> Any:
        if strategy_registry._REGISTRY.get(NAME) is None:  # the module: the worker's own
            register_strategy(DiesOnRay)
        os.environ["AUTOAL_TEST_DEATH_DIR"] = death_dir
        os.environ["AUTOAL_TEST_DEATHS"] = str(deaths)
        return compute(directory, cell)

    return compute_in


@pytest.fixture
def dying(ray_cluster, monkeypatch) -> Iterator[Any]:
    """``arm(death_dir, deaths)``: the next ``--ray`` benches' dying cell kills its worker
    ``deaths`` times in all; the strategy is registered in this process too (unarmed)."""
    from ray import cloudpickle

    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    register_strategy(DiesOnRay)
    original = ray_runner._compute_in

    def arm(death_dir: Path, deaths: int) -> None:
        death_dir.mkdir(parents=True, exist_ok=True)
        monkeypatch.setattr(ray_runner, "_compute_in",
                            _dying_compute(str(death_dir), deaths, original))

    try:
        yield arm
    finally:
        strategy_registry._REGISTRY.pop(NAME, None)
        cloudpickle.unregister_pickle_by_value(module)


def _bench_on_ray(config: Path, out: Path, address: str):
    return CliRunner().invoke(main, ["bench", str(config), "--out", str(out), "--ray",
                                     address, "--quiet", "--no-data-check"])


def _runs(out: Path) -> dict[str, dict]:
    """Each run file's record less what depends on the clock; raises on a partial file."""
    records = {}
    for path in sorted((out / "runs").glob("*.json")):
        record = json.loads(path.read_text())
        for round_record in record["rounds"]:
            round_record.pop("seconds", None)
        record["bench"].pop("wall_seconds")
        records[path.stem] = record
    return records


def _temp_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]


def test_a_worker_killed_mid_cell_is_retried_or_left_for_resume(dying, ray_cluster, tmp_path):
    config = tmp_path / "dies.toml"
    config.write_text(CONFIG)
    cells = {c.name for c in load_config(config).cells()}
    assert DYING_CELL in cells and len(cells) == 4
    address = ray_cluster.get_runtime_context().gcs_address

    reference = tmp_path / "reference"  # uninterrupted, in this process, where nothing dies
    result = run_bench(load_config(config), reference, workers=1, threads=1, progress=False,
                       echo=lambda s: None)
    assert not result.failed, result.failed
    expected = _runs(reference)
    assert sorted(expected) == sorted(cells)

    # Killed once: Ray runs the cell again and the bench finishes the grid.
    once = tmp_path / "once"
    dying(once / "deaths", 1)
    res = _bench_on_ray(config, once / "out", address)
    assert res.exit_code == 0, res.output
    assert len(list((once / "deaths").iterdir())) == 1  # the first attempt did die
    assert "ran 4 cell(s), skipped 0 finished, 0 failed" in res.output
    assert _runs(once / "out") == expected
    assert not (once / "out" / "errors").exists() or not any((once / "out" / "errors").iterdir())
    assert not _temp_files(once / "out")

    # Killed on every attempt: the cell fails, the others are written, nothing partial.
    always = tmp_path / "always"
    dying(always / "deaths", ray_runner.RETRIES + 1)
    res = _bench_on_ray(config, always / "out", address)
    assert res.exit_code == 1, res.output
    assert len(list((always / "deaths").iterdir())) == ray_runner.RETRIES + 1
    assert "ran 3 cell(s), skipped 0 finished, 1 failed" in res.output
    got = _runs(always / "out")
    assert got == {name: record for name, record in expected.items() if name != DYING_CELL}
    error = (always / "out" / "errors" / f"{DYING_CELL}.txt").read_text()
    assert "worker died unexpectedly" in error  # Ray's account, after the last retry
    assert f"{DYING_CELL}: WorkerCrashedError: the cell's task failed in Ray" in res.output
    assert not _temp_files(always / "out")

    # The resume runs only that cell (its worker no longer dies) and completes the grid.
    res = _bench_on_ray(config, always / "out", address)
    assert res.exit_code == 0, res.output
    assert "ran 1 cell(s), skipped 3 finished, 0 failed" in res.output
    assert len(list((always / "deaths").iterdir())) == ray_runner.RETRIES + 1
    assert _runs(always / "out") == expected
    assert not (always / "out" / "errors" / f"{DYING_CELL}.txt").exists()
    assert not _temp_files(always / "out")
    print(f"FAULTS ray bench: SIGKILLed a Ray worker mid-cell {ray_runner.RETRIES + 2} times; "
          "retried once, then left for resume after "
          f"{ray_runner.RETRIES + 1} deaths; every run file equals the uninterrupted run's")
