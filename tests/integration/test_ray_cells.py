"""Cells as Ray tasks on a local two-worker cluster: results reach the driver, a killed
worker's cell is retried, and a failing cell is reported, not raised (marker ``ray``)."""

import json
import os
import sys
from pathlib import Path

import pytest

from autoal.io import write_json_atomic
from autoal.scale.cells import run_cells_on_ray

pytestmark = pytest.mark.ray


def _cell(cell: dict) -> dict:
    if cell.get("die_once"):  # the first attempt kills its own worker process mid-cell
        marker = Path(cell["die_once"])
        if not marker.exists():
            marker.write_text("died\n")
            os._exit(1)
    if cell.get("fail"):
        raise RuntimeError(f"cell {cell['name']} fails by design")
    return {"name": cell["name"], "square": cell["x"] ** 2, "node": os.uname().nodename}


def test_cells_run_on_the_cluster_and_the_driver_writes_them(ray_cluster, tmp_path):
    from ray import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    cells = [{"name": f"c{i}", "x": i} for i in range(4)]
    cells.append({"name": "dies", "x": 7, "die_once": str(tmp_path / "died")})
    cells.append({"name": "fails", "x": 0, "fail": True})

    def write(outcome):
        if outcome.ok:
            write_json_atomic(tmp_path / f"{outcome.cell['name']}.json", outcome.value)

    outcomes = run_cells_on_ray(cells, _cell, write, max_retries=1)

    by_name = {o.cell["name"]: o for o in outcomes}
    assert sorted(by_name) == sorted(c["name"] for c in cells)
    for cell in cells[:5]:
        stored = json.loads((tmp_path / f"{cell['name']}.json").read_text())
        assert stored["square"] == cell["x"] ** 2
    assert (tmp_path / "died").exists()  # the first attempt did die; the retry wrote the file
    assert by_name["fails"].error == "RuntimeError: cell fails fails by design"
    assert "Traceback" in by_name["fails"].details
    assert not (tmp_path / "fails.json").exists()
    assert not list(tmp_path.glob("*.tmp*"))
