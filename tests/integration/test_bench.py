"""The benchmark grid: config validation, smoke end to end, resume, report, failures."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from autoal.bench import (
    ConfigError,
    StaleResultsError,
    build_strategy,
    cell_path,
    estimate_seconds,
    load_config,
    parse_config,
    pending_cells,
    reuse_cells,
    run_bench,
    strategy_parameters,
)
from autoal.cli import main
from autoal.strategies import QueryStrategy
from autoal.strategies.registry import _REGISTRY

from support import REPO_ROOT, tiny_bench_config

SMOKE = REPO_ROOT / "benchmarks" / "smoke.toml"

pytestmark = pytest.mark.slow

TINY = tiny_bench_config("{variants}")


def write(tmp_path: Path, text: str, name: str = "c.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- validation
def test_every_config_problem_is_reported_together(tmp_path):
    bad = """
colour = "blue"
[protocol]
epochs = "many"
seeds = [0, 0]
[regimes.low]
init = 0
budget = 10
rounds = 2
learning = 3
[datasets.digits]
regimes = ["low", "high"]
[datasets.cifar-99]
regimes = ["low"]
[variants]
margin = { strategy = "margin" }
magic = { strategy = "no-such-strategy" }
odd = { strategy = "kmeans", n_clusterz = 4 }
"""
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, bad))
    text = "\n".join(info.value.errors)
    for expected in (
        "unknown key colour",
        "protocol.epochs must be an integer",
        "protocol.seeds has duplicates",
        "regimes.low.init must be at least 1",
        "unknown key regimes.low.learning",
        "names 'high', which no [regimes.high] table defines",
        "unknown data set 'cifar-99'",
        "unknown strategy 'no-such-strategy' in variants.magic",
        "variants.odd: strategy 'kmeans' rejects options",
    ):
        assert expected in text, expected
    assert len(info.value.errors) == 9


def test_cli_reports_config_errors_with_exit_2_before_any_work(tmp_path):
    config = write(tmp_path, TINY.format(variants='x = { strategy = "nope" }'))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["bench", str(config), "--out", str(out)])
    assert res.exit_code == 2
    assert "unknown strategy 'nope'" in res.output
    assert not out.exists()
    res = CliRunner().invoke(main, ["bench", str(tmp_path / "missing.toml"), "--out", str(out)])
    assert res.exit_code == 2 and "file not found" in res.output
    res = CliRunner().invoke(main, ["bench", str(write(tmp_path, "[protocol\n", "b.toml")),
                                    "--out", str(out)])
    assert res.exit_code == 2 and "not valid TOML" in res.output


def test_protocol_too_big_for_the_data_is_exit_2(tmp_path):
    text = TINY.format(variants='r = { strategy = "random" }').replace("rounds = 1",
                                                                         "rounds = 1000")
    res = CliRunner().invoke(main, ["bench", str(write(tmp_path, text)), "--out",
                                    str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "exceeds the pool" in res.output


def test_cuda_config_without_cuda_is_exit_2_before_any_work(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    text = TINY.format(variants='r = { strategy = "random" }').replace(
        'device = "cpu"', 'device = "cuda"')
    out = tmp_path / "o"
    res = CliRunner().invoke(main, ["bench", str(write(tmp_path, text)), "--out", str(out)])
    assert res.exit_code == 2
    assert "device 'cuda' was requested but CUDA is not available" in res.output
    assert not out.exists()


def test_settings_resolve_by_level_and_restrictions_apply():
    cfg = parse_config({
        "protocol": {"epochs": 5, "seeds": [3, 4]},
        "regimes": {"low": {"init": 100, "budget": 100, "rounds": 10},
                    "mid": {"init": 1000, "budget": 500, "rounds": 10}},
        "datasets": {
            "digits": {"epochs": 30, "regimes": {"low": {"init": 20, "budget": 20}}},
            "mnist-5k": {"regimes": ["low", "mid"]},
        },
        "variants": {"margin": {"strategy": "margin"},
                     "ablate": {"strategy": "random", "datasets": ["mnist-5k"],
                                "regimes": ["mid"]}},
    })
    low = cfg.settings["digits"]["low"]
    assert (low["init"], low["budget"], low["rounds"], low["epochs"]) == (20, 20, 10, 30)
    assert cfg.settings["mnist-5k"]["mid"]["epochs"] == 5
    names = [c.name for c in cfg.cells()]
    assert len(names) == 2 * (3 + 1)
    assert names[0] == "digits__low__margin__3"
    assert "mnist-5k__mid__ablate__4" in names and "mnist-5k__low__ablate__3" not in names
    # seed-major: every cell of seed 3 comes before any of seed 4
    seeds = [c.seed for c in cfg.cells()]
    assert seeds == sorted(seeds)


def test_committed_configs_are_valid():
    for name in ("smoke.toml", "select.toml", "paper-cpu.toml"):
        path = REPO_ROOT / "benchmarks" / name
        try:
            cfg = load_config(path)
        except ConfigError as err:
            if "autoal" in str(err) and "autoal" not in _REGISTRY:
                pytest.skip("the autoal strategy is not registered yet")
            raise
        assert cfg.cells(), name


# ----------------------------------------------------------------------------- smoke
@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke") / "out"
    t0 = time.perf_counter()
    res = CliRunner().invoke(main, ["bench", str(SMOKE), "--out", str(out), "--workers", "1",
                                    "--threads", "1", "--quiet"])
    return out, res, time.perf_counter() - t0


def test_smoke_end_to_end(smoke):
    out, res, _ = smoke
    assert res.exit_code == 0, res.output
    cfg = load_config(SMOKE)
    variants = set(cfg.variants)
    assert {"random", "margin"} <= variants
    runs = sorted((out / "runs").glob("*.json"))
    assert len(runs) == len(cfg.cells())
    for path in runs:
        rec = json.loads(path.read_text())
        assert {"dataset", "strategy", "seed", "config", "rounds", "aubc", "bench"} <= set(rec)
        assert rec["bench"]["cell"] == path.stem
    with (out / "summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["variant"] for r in rows} == variants
    assert all(r["n_seeds"] == "2" for r in rows)
    md = (out / "summary.md").read_text()
    for v in variants:
        assert f"| {v} |" in md
    assert "MC stability" in md  # the random variant records the MC top-b overlap
    if "autoal" in variants:
        auto = next(r for r in rows if r["variant"] == "autoal")
        assert auto["minus_margin"] and auto["minus_random"] and auto["best_single"]
        assert auto["minus_albl"]  # smoke.toml runs albl beside autoal
        assert "− best single" in md
    pngs = [out / "curves-digits-low.png", out / "weights-digits-low-albl.png"]
    if "autoal" in variants:
        pngs.append(out / "weights-digits-low.png")
    for png in pngs:
        with Image.open(png) as im:
            im.load()
            assert im.size[0] > 100 and im.size[1] > 100


def test_resume_does_no_work(smoke):
    out, first, _ = smoke
    assert first.exit_code == 0
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")}
    cfg = load_config(SMOKE)
    result = run_bench(cfg, out, workers=1, progress=False, echo=lambda s: None)
    assert result.ran == [] and result.failed == {}
    assert sorted(result.skipped) == sorted(c.name for c in cfg.cells())
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").glob("*.json")} == before


def test_report_rebuilds_from_the_runs_alone(smoke, tmp_path):
    out, first, _ = smoke
    assert first.exit_code == 0
    copy = tmp_path / "copy"
    shutil.copytree(out / "runs", copy / "runs")
    res = CliRunner().invoke(main, ["report", str(copy)])
    assert res.exit_code == 0, res.output
    assert (copy / "summary.csv").read_text() == (out / "summary.csv").read_text()
    assert (copy / "curves-digits-low.png").exists()
    res = CliRunner().invoke(main, ["report", str(tmp_path / "nothing")])
    assert res.exit_code == 2


def test_dry_run_marks_the_finished_cells(smoke, tmp_path):
    out, first, _ = smoke
    assert first.exit_code == 0
    n = len(load_config(SMOKE).cells())
    res = CliRunner().invoke(main, ["bench", str(SMOKE), "--out", str(out), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert f"{n} cells: {n} finished, 0 to run" in res.output
    assert res.output.count("(finished)") == n
    fresh = CliRunner().invoke(main, ["bench", str(SMOKE), "--out", str(tmp_path / "new"),
                                      "--dry-run"])
    assert fresh.exit_code == 0 and f"{n} cells: 0 finished, {n} to run" in fresh.output
    assert "(finished)" not in fresh.output
    assert not (tmp_path / "new").exists()  # a dry run writes nothing


def test_albl_horizon_is_the_number_of_rounds_unless_set(tmp_path):
    text = SMOKE.read_text()
    cfg = load_config(write(tmp_path, text))
    albl = next(c for c in cfg.cells() if c.variant.strategy == "albl")
    assert build_strategy(albl).horizon == 3   # smoke.toml sets horizon = 3 explicitly
    unset = text.replace(', horizon = 3 }', ' }').replace("rounds = 3", "rounds = 4")
    cfg = load_config(write(tmp_path, unset, "unset.toml"))
    albl = next(c for c in cfg.cells() if c.variant.strategy == "albl")
    assert "horizon" not in albl.variant.options
    assert build_strategy(albl).horizon == 4
    margin = next(c for c in cfg.cells() if c.variant.name == "margin")
    assert not hasattr(build_strategy(margin), "horizon")
    # a grid with no query rounds still builds ALBL (EXP4.P needs a horizon of at least 1)
    cfg = load_config(write(tmp_path, unset.replace("rounds = 4", "rounds = 0"), "zero.toml"))
    albl = next(c for c in cfg.cells() if c.variant.strategy == "albl")
    assert build_strategy(albl).horizon == 1


def test_remaining_time_is_estimated_from_finished_cells_of_the_same_kind(tmp_path):
    cfg = load_config(SMOKE)
    cells = cfg.cells()
    by_name = {c.name: c for c in cells}
    margin0, margin1 = by_name["digits__low__margin__0"], by_name["digits__low__margin__1"]
    random0, random1 = by_name["digits__low__random__0"], by_name["digits__low__random__1"]
    (tmp_path / "runs").mkdir()
    for cell, seconds in ((margin0, 10.0), (random0, 30.0)):
        cell_path(tmp_path, cell).write_text(json.dumps({"bench": {"wall_seconds": seconds}}))
    # margin1 costs margin0's 10 s; entropy has no finished cell: the group's mean, 20 s
    entropy0 = by_name["digits__low__entropy__0"]
    assert estimate_seconds([margin1, entropy0], [margin0, random0], tmp_path) == (30.0, 0)
    assert estimate_seconds([random1], [margin0, random0], tmp_path) == (30.0, 0)
    # an unreadable finished file counts for nothing; nothing finished: nothing estimated
    cell_path(tmp_path, random0).write_text("{")
    assert estimate_seconds([random1], [margin0, random0], tmp_path) == (10.0, 0)
    assert estimate_seconds([random1, margin1], [], tmp_path) == (0.0, 2)


def _seed0_only(smoke, tmp_path: Path) -> Path:
    """A copy of the smoke run's folder with seed 1's cells removed: half finished."""
    out, first, _ = smoke
    assert first.exit_code == 0
    part = tmp_path / "part"
    shutil.copytree(out / "runs", part / "runs")
    for path in sorted((part / "runs").glob("*__1.json")):
        path.unlink()
    return part


def test_dry_run_says_when_there_is_no_estimate_yet(smoke, tmp_path):
    part = _seed0_only(smoke, tmp_path)
    for path in sorted((part / "runs").glob("*.json")):   # files that lack their wall time
        record = json.loads(path.read_text())
        del record["bench"]["wall_seconds"]
        path.write_text(json.dumps(record))
    res = CliRunner().invoke(main, ["bench", str(SMOKE), "--out", str(part), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "no estimate yet" in res.output and "h left" not in res.output


def test_dry_run_prints_the_estimate(smoke, tmp_path):
    part = _seed0_only(smoke, tmp_path)
    res = CliRunner().invoke(main, ["bench", str(SMOKE), "--out", str(part), "--dry-run",
                                    "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "h left with 1 worker(s)" in res.output


def test_changed_config_does_not_mix_with_old_runs(smoke, tmp_path):
    out, first, _ = smoke
    assert first.exit_code == 0
    changed = write(tmp_path, SMOKE.read_text().replace("epochs = 3", "epochs = 4"))
    res = CliRunner().invoke(main, ["bench", str(changed), "--out", str(out), "--quiet"])
    assert res.exit_code == 2
    assert "different settings" in res.output


def test_strategy_parameters_are_stable_json_for_every_strategy():
    from autoal.strategies import available_strategies, get_strategy

    for name in available_strategies():
        first = strategy_parameters(get_strategy(name, random_state=5))
        again = strategy_parameters(get_strategy(name, random_state=5))
        assert first == again, name
        assert first["random_state"] == 5
        assert "0x" not in json.dumps(first), name  # no object reprs with addresses
    auto = strategy_parameters(get_strategy("autoal", random_state=0, preset="paper"))
    assert auto["preset"] == "paper" and auto["resolved"]["objective"] == "max_loss"
    assert "search_steps" in auto  # constructor defaults are recorded too


def test_a_changed_preset_makes_finished_cells_stale(tmp_path, monkeypatch):
    from autoal.search import presets
    from autoal.strategies import get_strategy

    variants = 'margin = { strategy = "margin" }\nauto = { strategy = "autoal" }'
    cfg = load_config(write(tmp_path, TINY.format(variants=variants)))
    out = tmp_path / "out"
    for cell in cfg.cells():
        strategy = get_strategy(cell.variant.strategy, random_state=cell.seed,
                                **cell.variant.options)
        record = {"bench": {**cell.metadata(), "parameters": strategy_parameters(strategy)}}
        cell_path(out, cell).parent.mkdir(parents=True, exist_ok=True)
        cell_path(out, cell).write_text(json.dumps(record))
    todo, done = pending_cells(cfg, out)
    assert todo == [] and len(done) == 2
    changed = {**presets.PRESETS["autoal"], "coverage": 0.3}
    monkeypatch.setitem(presets.PRESETS, "autoal", changed)
    # the message names what changed: the option the preset fixes, and the resolved options
    with pytest.raises(StaleResultsError,
                       match=r"strategy parameters changed \(coverage, resolved\)"):
        pending_cells(cfg, out)
    # run files from before parameters were recorded are trusted by their fingerprint
    for path in (out / "runs").glob("*.json"):
        record = json.loads(path.read_text())
        del record["bench"]["parameters"]
        path.write_text(json.dumps(record))
    assert len(pending_cells(cfg, out)[1]) == 2


def test_bench_is_registered_on_the_main_command():
    res = CliRunner().invoke(main, ["bench", "--help"])
    assert res.exit_code == 0 and "--workers" in res.output
    assert CliRunner().invoke(main, ["report", "--help"]).exit_code == 0


# ----------------------------------------------------------------------------- failures
class _Broken(QueryStrategy):
    """Test strategy that fails when it selects."""

    name = "_test_broken"
    requires = ("probs",)

    def score(self, evidence, budget=None):
        raise RuntimeError("this strategy always fails")


@pytest.fixture
def broken():
    _REGISTRY["_test_broken"] = _Broken
    yield "_test_broken"
    _REGISTRY.pop("_test_broken", None)


def test_a_failing_cell_is_recorded_and_the_others_go_on(tmp_path, broken):
    variants = 'bad = { strategy = "_test_broken" }\nrandom = { strategy = "random" }'
    config = write(tmp_path, TINY.format(variants=variants))
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["bench", str(config), "--out", str(out), "--workers", "1",
                                    "--quiet"])
    assert res.exit_code == 1
    assert "digits__low__bad__0" in res.output
    assert "always fails" in (out / "errors" / "digits__low__bad__0.txt").read_text()
    assert (out / "runs" / "digits__low__random__0.json").exists()
    assert not (out / "runs" / "digits__low__bad__0.json").exists()
    assert (out / "summary.csv").exists()


def test_two_workers_and_kill_9_leave_only_whole_files(tmp_path):
    variants = "\n".join(f'{s} = {{ strategy = "{s}" }}' for s in ("random", "margin"))
    config = write(tmp_path, TINY.format(variants=variants).replace("seeds = [0]",
                                                                    "seeds = [0, 1]"))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "autoal.cli", "bench", str(config), "--out", str(out),
           "--workers", "2", "--quiet", "--no-data-check"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "runs").glob("*.json")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the parent and its workers, mid-run
    proc.wait()
    for path in (out / "runs").glob("*.json"):
        json.loads(path.read_text())  # every file present is whole
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert len(list((out / "runs").glob("*.json"))) == 4
    assert not list((out / "runs").glob(".*.tmp"))
    assert "skipped" in res.stdout


def _fake_finished(cfg, out):
    from autoal.strategies import get_strategy

    for cell in cfg.cells():
        strategy = get_strategy(cell.variant.strategy, random_state=cell.seed,
                                **cell.variant.options)
        record = {"bench": {**cell.metadata(), "parameters": strategy_parameters(strategy)}}
        cell_path(out, cell).parent.mkdir(parents=True, exist_ok=True)
        cell_path(out, cell).write_text(json.dumps(record))


def test_a_parameter_added_at_its_default_keeps_finished_cells(tmp_path):
    variants = ('km = { strategy = "kmeans" }\n'
                'kmf = { strategy = "kmeans", representation = "features" }')
    cfg = load_config(write(tmp_path, TINY.format(variants=variants)))
    out = tmp_path / "out"
    _fake_finished(cfg, out)
    for path in (out / "runs").glob("*.json"):  # as written before `representation` existed
        record = json.loads(path.read_text())
        del record["bench"]["parameters"]["representation"]
        path.write_text(json.dumps(record))
    # the default ("model") is what the old file ran; "features" is not
    with pytest.raises(StaleResultsError, match=r"kmf.*representation") as err:
        pending_cells(cfg, out)
    assert "km__" not in str(err.value).replace("kmf__", "")


def test_reuse_copies_only_valid_runs_of_this_configs_cells(tmp_path):
    variants = 'margin = { strategy = "margin" }\nentropy = { strategy = "entropy" }'
    old_cfg = load_config(write(tmp_path, TINY.format(variants=variants), "old.toml"))
    old = tmp_path / "old"
    _fake_finished(old_cfg, old)
    # one old run was made with other settings: it must not be reused
    stale = cell_path(old, old_cfg.cells()[1])
    record = json.loads(stale.read_text())
    record["bench"]["fingerprint"] = "0" * 16
    stale.write_text(json.dumps(record))
    more = variants + '\nbald = { strategy = "bald" }'
    new_cfg = load_config(write(tmp_path, TINY.format(variants=more), "new.toml"))
    new = tmp_path / "new"
    copied, refused = reuse_cells(new_cfg, new, old)
    assert copied == [old_cfg.cells()[0].name]
    assert len(refused) == 1 and old_cfg.cells()[1].name in refused[0]
    assert cell_path(new, new_cfg.cells()[0]).read_bytes() == cell_path(
        old, old_cfg.cells()[0]).read_bytes()
    todo, done = pending_cells(new_cfg, new)
    assert [c.name for c in done] == copied and len(todo) == 2
    assert reuse_cells(new_cfg, new, old)[0] == []  # never overwrites what out holds


def test_reuse_refuses_a_folder_without_runs(tmp_path):
    cfg = write(tmp_path, TINY.format(variants='margin = { strategy = "margin" }'))
    res = CliRunner().invoke(main, ["bench", str(cfg), "--out", str(tmp_path / "o"),
                                    "--reuse", str(tmp_path / "nothing"), "--no-data-check"])
    assert res.exit_code == 2 and "has no runs/ folder" in res.output
    assert not (tmp_path / "o").exists()


def test_a_features_file_reaches_the_cells_and_is_checked(tmp_path, digits_dataset):
    from autoal.bench import check_data

    n_train = len(digits_dataset.X_train)
    good, bad = tmp_path / "good.npy", tmp_path / "bad.npy"
    np.save(good, np.random.default_rng(0).normal(size=(n_train, 4)))
    np.save(bad, np.zeros((5, 4)))
    text = TINY.format(variants='c = { strategy = "coreset", representation = "features" }')
    plain = load_config(write(tmp_path, text, "plain.toml"))
    with_file = load_config(write(tmp_path, text.replace(
        '[datasets.digits]', f'[datasets.digits]\nfeatures = "{good}"'), "f.toml"))
    # a features file changes what the cell computes; without one the fingerprint is as before
    assert plain.cells()[0].fingerprint() != with_file.cells()[0].fingerprint()
    assert with_file.cells()[0].dataset.features == str(good)
    assert check_data(with_file) == []
    broken = load_config(write(tmp_path, text.replace(
        '[datasets.digits]', f'[datasets.digits]\nfeatures = "{bad}"'), "b.toml"))
    assert any("have 5 rows" in p for p in check_data(broken))
    with pytest.raises(ConfigError, match="features does not exist"):
        load_config(write(tmp_path, text.replace(
            '[datasets.digits]', '[datasets.digits]\nfeatures = "nope.npy"'), "n.toml"))
    result = run_bench(with_file, tmp_path / "out", workers=1, progress=False,
                       echo=lambda s: None)
    assert result.failed == {}
    run = json.loads(cell_path(tmp_path / "out", with_file.cells()[0]).read_text())
    assert run["features"] == {"source": str(good), "dim": 4}


def test_a_resolved_option_added_later_keeps_cells_made_before_it(tmp_path, monkeypatch):
    from autoal.search import presets

    variants = 'auto = { strategy = "autoal", preset = "paper" }'
    cfg = load_config(write(tmp_path, TINY.format(variants=variants)))
    out = tmp_path / "out"
    _fake_finished(cfg, out)
    for path in (out / "runs").glob("*.json"):  # as recorded before batch/search/prior existed
        record = json.loads(path.read_text())
        for key in presets.LEGACY_RESOLVED:
            del record["bench"]["parameters"]["resolved"][key]
        path.write_text(json.dumps(record))
    assert len(pending_cells(cfg, out)[1]) == 1
    # a preset whose new option no longer reproduces the old runs makes them stale
    monkeypatch.setitem(presets.PRESETS, "paper", {**presets.PRESETS["paper"],
                                                   "batch": "kmeanspp"})
    with pytest.raises(StaleResultsError, match=r"resolved"):
        pending_cells(cfg, out)
