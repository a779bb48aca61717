"""`autoal run` on a CSV with class names as labels: mapped to ids, the mapping recorded."""

from __future__ import annotations

import csv
import json

from click.testing import CliRunner

from autoal.cli import main

from support import load_digits

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def test_run_maps_class_names_and_records_them(tmp_path) -> None:
    d = load_digits()
    data = tmp_path / "named.csv"
    with data.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*(f"p{j}" for j in range(64)), "label"])
        w.writerows([*map(int, x), NAMES[t]] for x, t in zip(d.data[:400], d.target[:400],
                                                             strict=True))
    out = tmp_path / "run.json"
    result = CliRunner().invoke(main, [
        "run", "--dataset", str(data), "--strategy", "margin", "--init", "20", "--budget",
        "10", "--rounds", "1", "--epochs", "3", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert record["classes"] == sorted(NAMES)  # class id k is classes[k]
    # integer labels keep their numeric order
    ints = tmp_path / "ints.csv"
    with ints.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*(f"p{j}" for j in range(64)), "label"])
        w.writerows([*map(int, x), int(t) * 10] for x, t in zip(d.data[:400], d.target[:400],
                                                               strict=True))
    result = CliRunner().invoke(main, [
        "run", "--dataset", str(ints), "--strategy", "margin", "--init", "20", "--budget",
        "10", "--rounds", "1", "--epochs", "3", "--quiet", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["classes"] == [str(10 * k) for k in range(10)]
