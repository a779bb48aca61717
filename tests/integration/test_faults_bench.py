"""Faults in the benchmark: SIGKILL of a worker mid-cell, and of the whole ``autoal bench``.

Whatever is killed, the run folder holds only whole run files, the next run resumes, and
the final summary equals an uninterrupted run's (timings aside). ``AUTOAL_FAULT_ROUNDS``
sets how many times the whole benchmark is killed (``make fuzz`` raises it).
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from autoal.bench.config import load_config
from autoal.bench.runner import run_bench
from autoal.report.summary import write_report

from support import tiny_bench_config

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "benchmarks" / "smoke.toml"
KILL_ROUNDS = int(os.environ.get("AUTOAL_FAULT_ROUNDS", "3"))
#: ``make test`` runs the smoke grid on its first seed (half the cells); ``make fuzz``, all.
ALL_SEEDS = os.environ.get("AUTOAL_HYPOTHESIS_PROFILE") == "fuzz"

pytestmark = pytest.mark.slow


def bench_command(config: Path, out: Path, workers: int = 2) -> list[str]:
    return [sys.executable, "-m", "autoal.cli", "bench", str(config), "--out", str(out),
            "--workers", str(workers), "--threads", "1", "--quiet", "--no-data-check"]


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    paths = [extra.get("PYTHONPATH", ""), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return env


def check_run_files(out: Path, cell_names: set[str]) -> int:
    """Every run file is whole JSON of a cell of the config; returns how many there are."""
    files = list((out / "runs").glob("*.json"))
    for path in files:
        assert path.stem in cell_names, path
        record = json.loads(path.read_text())  # raises on a partial file
        assert record["bench"]["cell"] == path.stem
    for name in ("summary.csv", "summary.md"):
        if (out / name).exists():  # an old summary stays whole: atomic writes
            assert (out / name).read_text().strip()
    return len(files)


TIMING = ("seconds", "time")


def summary_without_timings(out: Path) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO((out / "summary.csv").read_text())))
    return [{k: v for k, v in r.items() if not any(t in k for t in TIMING)} for r in rows]


def curves(out: Path) -> dict[str, list]:
    """Each cell's learning curve and queries: what a run computed, without timings."""
    result = {}
    for path in sorted((out / "runs").glob("*.json")):
        rec = json.loads(path.read_text())
        result[path.stem] = [(r.get("accuracy"), r.get("queried")) for r in rec["rounds"]]
    return result


# ----------------------------------------------------------------------------- whole bench
@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Path:
    """benchmarks/smoke.toml, on its first seed only unless ``ALL_SEEDS``."""
    text = SMOKE.read_text()
    if not ALL_SEEDS:
        assert "seeds = [0, 1]" in text
        text = text.replace("seeds = [0, 1]", "seeds = [0]")
    path = tmp_path_factory.mktemp("config") / "smoke.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def reference(smoke, tmp_path_factory):
    """The smoke benchmark, uninterrupted, in this process (one worker, one thread)."""
    out = tmp_path_factory.mktemp("reference") / "out"
    result = run_bench(load_config(smoke), out, workers=1, threads=1, progress=False,
                       echo=lambda s: None)
    assert not result.failed, result.failed
    write_report(out)
    return out


def kill_once_under_way(config: Path, out: Path, before: int, rng: np.random.Generator) -> None:
    """Start the bench and SIGKILL it at a random moment once the grid is under way: after
    the next cell lands, so that every kill makes progress and hits cells in flight."""
    proc = subprocess.Popen(bench_command(config, out), env=child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while (proc.poll() is None and time.time() < deadline
           and len(list((out / "runs").glob("*.json"))) <= before):
        time.sleep(0.05)
    time.sleep(float(rng.uniform(0.0, 2.0)))
    os.killpg(proc.pid, signal.SIGKILL)  # the parent and its workers, at once
    proc.wait()


def test_sigkill_of_the_whole_bench_at_random_moments_then_resume(smoke, reference, tmp_path):
    cells = {c.name for c in load_config(smoke).cells()}
    rng = np.random.default_rng(19)
    survived: list[list[int]] = []
    while sum(map(len, survived)) < KILL_ROUNDS:  # as many passes over the grid as it takes
        out = tmp_path / f"pass{len(survived)}"
        survived.append([])
        while sum(map(len, survived)) < KILL_ROUNDS:
            before = check_run_files(out, cells)
            if before == len(cells):
                break  # finished before the next kill
            kill_once_under_way(smoke, out, before, rng)
            survived[-1].append(check_run_files(out, cells))
        res = subprocess.run(bench_command(smoke, out), env=child_env(), capture_output=True,
                             text=True, timeout=600)
        assert res.returncode == 0, res.stderr
        assert check_run_files(out, cells) == len(cells)
        assert not list((out / "runs").glob(".*.tmp"))
        assert curves(out) == curves(reference)
        assert summary_without_timings(out) == summary_without_timings(reference)
    print(f"FAULTS bench: SIGKILLed the whole bench {sum(map(len, survived))} times in "
          f"{len(survived)} pass(es) over {len(cells)} cells; run files after each kill: "
          f"{survived}; every pass resumed to the uninterrupted summary")


# ----------------------------------------------------------------------------- one worker
# A strategy that parks the cell of one seed until the test kills its worker: spawned
# workers import it through sitecustomize, since they start from a fresh interpreter.
SLEEPY_PLUGIN = textwrap.dedent('''
    import os
    import time
    from pathlib import Path

    if os.environ.get("AUTOAL_TEST_SLEEPY_DIR"):
        from autoal.strategies import QueryStrategy, register_strategy

        @register_strategy
        class Sleepy(QueryStrategy):
            """Least confidence; the first cell of seed 0 waits to be killed."""

            name = "_test_sleepy"
            requires = ("probs",)

            def score(self, evidence, budget=None):
                marker = Path(os.environ["AUTOAL_TEST_SLEEPY_DIR"]) / "started"
                if self.random_state == 0 and not marker.exists():
                    marker.write_text(str(os.getpid()))
                    time.sleep(120)
                return 1.0 - evidence.probs.max(axis=1)
''')

SLEEPY_CONFIG = tiny_bench_config(
    'sleepy = { strategy = "_test_sleepy" }\nmargin = { strategy = "margin" }',
    seeds="0, 1", rounds=2,
)


@pytest.fixture
def sleepy(tmp_path, monkeypatch):
    """The plugin folder and marker folder; the strategy registered in this process too."""
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "sitecustomize.py").write_text(SLEEPY_PLUGIN)
    markers = tmp_path / "markers"
    markers.mkdir()
    monkeypatch.setenv("AUTOAL_TEST_SLEEPY_DIR", str(markers))
    monkeypatch.syspath_prepend(str(plugin))
    saved = sys.modules.pop("sitecustomize", None)
    from autoal.strategies.registry import _REGISTRY

    __import__("sitecustomize")
    yield plugin, markers
    _REGISTRY.pop("_test_sleepy", None)
    sys.modules.pop("sitecustomize", None)
    if saved is not None:
        sys.modules["sitecustomize"] = saved


def test_sigkill_of_a_worker_mid_cell_reruns_that_cell(tmp_path, sleepy):
    plugin, markers = sleepy
    config = tmp_path / "sleepy.toml"
    config.write_text(SLEEPY_CONFIG)
    cells = {c.name for c in load_config(config).cells()}
    out = tmp_path / "out"
    env = child_env(PYTHONPATH=str(plugin), AUTOAL_TEST_SLEEPY_DIR=str(markers))
    proc = subprocess.Popen(bench_command(config, out), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.time() + 120
        while not (markers / "started").exists() and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)  # the pid is written before the sleep starts
        worker = int((markers / "started").read_text())
        os.kill(worker, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=180)  # a lost cell would hang here
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, stderr
    assert f"ran {len(cells)} cell(s)" in stdout and "0 failed" in stdout
    assert check_run_files(out, cells) == len(cells)

    # The same grid, uninterrupted (the marker is there: nothing waits).
    ref = tmp_path / "ref"
    run_bench(load_config(config), ref, workers=1, threads=1, progress=False,
              echo=lambda s: None)
    write_report(ref)
    assert curves(out) == curves(ref)
    assert summary_without_timings(out) == summary_without_timings(ref)


def test_a_cell_that_kills_its_worker_every_time_fails_and_the_others_finish(tmp_path):
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    (plugin / "sitecustomize.py").write_text(textwrap.dedent('''
        import os
        import signal

        if os.environ.get("AUTOAL_TEST_SUICIDE"):
            from autoal.strategies import QueryStrategy, register_strategy

            @register_strategy
            class Suicide(QueryStrategy):
                """Kills its own process, as the out-of-memory killer would."""

                name = "_test_suicide"
                requires = ("probs",)

                def score(self, evidence, budget=None):
                    os.kill(os.getpid(), signal.SIGKILL)
    '''))
    config = tmp_path / "c.toml"
    config.write_text(SLEEPY_CONFIG.replace("_test_sleepy", "_test_suicide")
                      .replace("seeds = [0, 1]", "seeds = [0]"))
    out = tmp_path / "out"
    env = child_env(PYTHONPATH=str(plugin), AUTOAL_TEST_SUICIDE="1")
    res = subprocess.run(bench_command(config, out), env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 1
    assert "worker process died 2 times" in res.stderr
    assert [p.stem for p in (out / "runs").glob("*.json")] == ["digits__low__margin__0"]
    assert "died 2 times" in (out / "errors" / "digits__low__sleepy__0.txt").read_text()
