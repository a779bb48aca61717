"""``autoal bench --ray``: the same run files as the process runner, resume, and Ray's bad
input (an unreachable address, Ray missing) as exit 2 before anything is written.

The test marked ``ray`` uses the shared two-worker local cluster (``ray_cluster``); the
others need no cluster and run in the normal suite.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from autoal.cli import main

from support import tiny_bench_config

TINY = tiny_bench_config(
    'random = { strategy = "random", mc_overlap = true }\nmargin = { strategy = "margin" }',
    seeds="0, 1", rounds=2,
)


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def _bench(*args: str):
    return CliRunner().invoke(main, ["bench", *args, "--quiet", "--no-data-check"])


def _without_timings(record: dict) -> dict:
    """The record less what depends on the clock: per-round ``seconds``, the wall time."""
    record = json.loads(json.dumps(record))
    for round_record in record["rounds"]:
        round_record.pop("seconds", None)
    record["bench"].pop("wall_seconds")
    return record


def _runs(out: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((out / "runs").glob("*.json"))}


def _free_port() -> int:
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.ray
def test_ray_bench_writes_the_files_of_the_process_runner(ray_cluster, tmp_path, monkeypatch):
    # a second data set given relative to the working directory, whose cells fail on loading
    monkeypatch.chdir(tmp_path)
    Path("bad.csv").write_text("a,b\n1,2\n")
    config = _config(tmp_path)
    config.write_text(TINY + '[datasets.bad]\npath = "bad.csv"\nregimes = ["low"]\n')
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    res = _bench(str(config), "--out", str(local), "--workers", "1", "--threads", "1")
    assert res.exit_code == 1, res.output
    address = ray_cluster.get_runtime_context().gcs_address
    res = _bench(str(config), "--out", str(on_ray), "--ray", address)
    assert res.exit_code == 1, res.output
    assert "8 of 8 cells to run (0 finished) as Ray tasks of 1 CPU(s)" in res.output
    assert "ran 4 cell(s), skipped 0 finished, 4 failed" in res.output

    expected, got = _runs(local), _runs(on_ray)
    assert len(expected) == 4 and sorted(got) == sorted(expected)
    for name, record in expected.items():
        assert _without_timings(got[name]) == _without_timings(record), name
    assert "mc_overlap" in got["digits__low__random__0.json"]["rounds"][0]
    errors = sorted(p.name for p in (local / "errors").iterdir())
    assert len(errors) == 4 and sorted(p.name for p in (on_ray / "errors").iterdir()) == errors
    for name in errors:  # the same head (cell, strategy, settings) and the same exception
        want, text = (local / "errors" / name).read_text(), (on_ray / "errors" / name).read_text()
        assert text.split("\n\n")[0] == want.split("\n\n")[0]
        assert text.rstrip().splitlines()[-1] == want.rstrip().splitlines()[-1]
        assert "no label column 'label'" in text  # bad.csv was found from the driver's folder
    assert (on_ray / "config.toml").read_bytes() == config.read_bytes()
    assert (on_ray / "summary.csv").exists()
    assert not list((on_ray / "runs").glob(".*.tmp"))

    before = {p: p.stat().st_mtime_ns for p in (on_ray / "runs").glob("*.json")}
    res = _bench(str(config), "--out", str(on_ray), "--ray")  # resume: the connected cluster
    assert res.exit_code == 1, res.output
    assert "ran 0 cell(s), skipped 4 finished, 4 failed" in res.output
    assert {p: p.stat().st_mtime_ns for p in (on_ray / "runs").glob("*.json")} == before

    # cells the cluster cannot place (its nodes have 1 CPU and no GPU): exit 2, nothing written
    res = _bench(str(config), "--out", str(tmp_path / "big"), "--ray", "--threads", "2")
    assert res.exit_code == 2 and "asks for 2 CPU(s)" in res.output and "has 1" in res.output
    config.write_text(TINY.replace('device = "cpu"', 'device = "cuda"'))
    res = _bench(str(config), "--out", str(tmp_path / "gpu"), "--ray")
    assert res.exit_code == 2 and "no node of" in res.output and "GPU" in res.output
    assert not (tmp_path / "big").exists() and not (tmp_path / "gpu").exists()


def test_an_unreachable_ray_address_is_exit_2_and_writes_nothing(tmp_path):
    pytest.importorskip("ray", reason="ray is not installed (pip install 'autoal[ray]')")
    config, out = _config(tmp_path), tmp_path / "out"
    address = f"127.0.0.1:{_free_port()}"
    res = _bench(str(config), "--out", str(out), "--ray", address)
    assert res.exit_code == 2, res.output
    assert f"cannot reach a Ray cluster at {address}" in res.output
    assert not out.exists()

    res = _bench(str(config), "--out", str(out), "--ray", "no-port-here")
    assert res.exit_code == 2 and "'no-port-here' is not of the form host:port" in res.output
    res = _bench(str(config), "--out", str(out), "--ray", address, "--workers", "2")
    assert res.exit_code == 2 and "with --ray the cluster's CPUs decide" in res.output
    assert not out.exists()


def test_ray_missing_is_exit_2_naming_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    config, out = _config(tmp_path), tmp_path / "out"
    res = _bench(str(config), "--out", str(out), "--ray")
    assert res.exit_code == 2, res.output
    assert "pip install 'autoal[ray]'" in res.output
    assert not out.exists()
