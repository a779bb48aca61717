"""``make demo``'s job: the comparison table, run files and plots, and the digits fallback."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import autoal.demo as demo
from autoal.cli import main
from autoal.data import DatasetError


def _without_fashion_mnist(monkeypatch):
    real = demo.load_dataset

    def load(name, *args, **kwargs):
        if name == "fashion-mnist":
            raise DatasetError("dataset-fashion-mnist is not installed")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(demo, "load_dataset", load)


@pytest.mark.slow
def test_demo_falls_back_to_digits_and_writes_table_runs_and_plots(tmp_path, monkeypatch):
    _without_fashion_mnist(monkeypatch)
    # The demo sets torch threads to the core count; keep the suite's one thread (on a busy
    # machine OpenMP threads waiting for a core make small nets many times slower).
    monkeypatch.setattr(demo, "configure_threads", lambda *args, **kwargs: None)
    args = ["demo", "--out", str(tmp_path), "--quiet", "--strategies", "random,margin,autoal",
            "--workers", "2"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Fashion-MNIST is not available" in result.output
    table = [line.split() for line in result.output.splitlines() if line[:1].isalpha()]
    rows = {cells[0]: cells for cells in table if cells[0] in ("random", "margin", "autoal")}
    assert set(rows) == {"random", "margin", "autoal"}
    for name in rows:
        run = json.loads((tmp_path / "runs" / f"{name}.json").read_text())
        assert run["strategy"] == name and len(run["rounds"]) == 9  # round 0 + 8
        assert float(rows[name][1]) == round(run["aubc"], 4)
    autoal_run = json.loads((tmp_path / "runs" / "autoal.json").read_text())
    weights = autoal_run["rounds"][1]["weights"]
    assert np.isclose(sum(weights.values()), 1.0)
    for png in ("curves.png", "autoal-weights.png"):
        with Image.open(tmp_path / png) as img:
            assert img.size[0] > 100 and img.size[1] > 100
    # Worker processes change nothing but the timings: margin in this process agrees.
    alone = demo.run_demo(tmp_path / "alone", progress=False, strategies=("margin",), workers=1)
    parallel = json.loads((tmp_path / "runs" / "margin.json").read_text())
    assert [r["accuracy"] for r in alone["margin"]["rounds"]] == [
        r["accuracy"] for r in parallel["rounds"]
    ]
    assert [r.get("queried") for r in alone["margin"]["rounds"]] == [
        r.get("queried") for r in parallel["rounds"]
    ]


def test_demo_refuses_zero_workers(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--workers", "0"])
    assert result.exit_code == 2 and "--workers must be at least 1" in result.output


def test_demo_refuses_an_unknown_strategy_before_any_work(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--strategies", "margn"])
    assert result.exit_code == 2
    assert "unknown strategy 'margn'" in result.output and "margin" in result.output
    assert not (tmp_path / "runs").exists()


def test_format_table_orders_by_aubc():
    def rec(aubc, acc):
        return {"aubc": aubc, "rounds": [{"accuracy": 0.1, "seconds": {}},
                                         {"accuracy": acc, "seconds": {"train": 2.0, "test": 1.0}}]}

    lines = demo.format_table({"low": rec(0.5, 0.6), "high": rec(0.7, 0.8)}).splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["high", "low"]
    assert lines[1].split()[1:] == ["0.7000", "0.8000", "3.00"]
