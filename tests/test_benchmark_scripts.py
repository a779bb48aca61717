"""The diagnostic scripts under benchmarks/ run end to end on tiny settings."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

from autoal.strategies.registry import PAPER_CANDIDATES

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_objective_validity_reports_every_objective(tmp_path, monkeypatch, capsys):
    out = tmp_path / "ov.json"
    argv = ["objective_validity.py", "--dataset", "digits", "--labeled", "40", "--budget", "10",
            "--epochs", "3", "--fitnet-epochs", "2", "--mc-samples", "5",
            "--retrain-seeds", "2", "--json", str(out)]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as done:
        runpy.run_path(str(BENCHMARKS / "objective_validity.py"), run_name="__main__")
    assert done.value.code == 0
    (row,) = json.loads(out.read_text())["rows"]
    assert set(row["accuracy_after"]) == set(PAPER_CANDIDATES)
    for c, each in row["accuracy_after_each"].items():
        assert len(each) == 2 and row["accuracy_after"][c] == pytest.approx(sum(each) / 2)
    rel = row["truth_reliability"]
    assert -1.0 <= rel <= 1.0 or rel != rel  # NaN when a retraining ties every candidate
    assert set(row["objectives"]) == {"max_loss", "lookahead", "retrain"}
    for result in row["objectives"].values():
        values = result["values"]
        assert result["pick"] == min(values, key=values.get)  # the search minimises
        assert result["pick_accuracy"] == row["accuracy_after"][result["pick"]]
        assert -1.0 <= result["spearman"] <= 1.0 or result["spearman"] != result["spearman"]
    assert "Spearman" in capsys.readouterr().out
