"""Presets that fix search options, resumed run files from before they did, and finished runs
moved to a renamed variant (autoal.bench.rename, benchmarks/rename_variants.py)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

from autoal.bench.config import load_config
from autoal.bench.rename import RenameError, rename_runs
from autoal.bench.resume import (
    StaleResultsError,
    build_strategy,
    canonical_parameters,
    cell_path,
    error_path,
    pending_cells,
    strategy_parameters,
)
from autoal.search.presets import PRESET_KEYS, PRESETS

from support import REPO_ROOT, tiny_bench_config

# keys that became preset options in wave 2 (plain constructor parameters before)
MOVED_KEYS = ("search_lr", "kappa", "n_resplits", "coverage_power", "coverage_pool")
OLD_DEFAULTS = {"search_lr": 0.1, "kappa": 2.0, "n_resplits": 1, "coverage_power": 1.0,
                "coverage_pool": "all"}


def _config(tmp_path: Path, variants: str, name: str):
    path = tmp_path / name
    path.write_text(tiny_bench_config(variants))
    return load_config(path)


def _wave1_era(monkeypatch: pytest.MonkeyPatch) -> None:
    """The era before select-v2's verdict, when the ``autoal`` preset was wave 1's design."""
    monkeypatch.setitem(PRESETS, "autoal", dict(PRESETS["autoal-v1"]))


@pytest.fixture
def wave1(monkeypatch):
    _wave1_era(monkeypatch)


def _finish(cfg, out: Path, *, old_format: bool = False, before_switch: bool = True) -> None:
    """Run files as a finished bench writes them (no training: only what resume reads);
    ``old_format``: as written before the moved keys were preset options; ``before_switch``:
    written in :func:`_wave1_era`."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        if before_switch:
            _wave1_era(monkeypatch)
        _write_runs(cfg, out, old_format)


def _write_runs(cfg, out: Path, old_format: bool) -> None:
    for cell in cfg.cells():
        params = strategy_parameters(build_strategy(cell))
        if old_format and cell.variant.strategy == "autoal":
            for key in MOVED_KEYS:
                del params["resolved"][key]
                if params[key] is None:
                    params[key] = OLD_DEFAULTS[key]
        record = {"config": {"strategy_params": dict(cell.variant.options)},
                  "bench": {**cell.metadata(), "parameters": params, "wall_seconds": 1.0}}
        cell_path(out, cell).parent.mkdir(parents=True, exist_ok=True)
        cell_path(out, cell).write_text(json.dumps(record))


def test_runs_from_before_the_presets_fixed_search_options_stay_finished(tmp_path, monkeypatch,
                                                                        wave1):
    cfg = _config(tmp_path, (
        'plain = { strategy = "autoal", preset = "autoal", ablation = "uniform" }\n'
        'lr = { strategy = "autoal", preset = "autoal", ablation = "uniform", search_lr = 0.05 }\n'
        'm = { strategy = "margin" }'), "c.toml")
    out = tmp_path / "out"
    _finish(cfg, out, old_format=True)
    todo, done = pending_cells(cfg, out)
    assert not todo and len(done) == 3
    # the preset now moving its search step makes the plain variant's file stale, not the one
    # that set the step itself
    monkeypatch.setitem(PRESETS, "autoal", {**PRESETS["autoal"], "search_lr": 0.05})
    with pytest.raises(StaleResultsError, match=r"plain__0 \(strategy parameters changed "
                                                r"\(resolved, search_lr\)") as err:
        pending_cells(cfg, out)
    assert "__lr__" not in str(err.value)


def test_a_changed_default_preset_makes_its_runs_stale(tmp_path, monkeypatch):
    cfg = _config(tmp_path, 'a = { strategy = "autoal", preset = "autoal", ablation = "prior" }',
                  "c.toml")
    out = tmp_path / "out"
    _finish(cfg, out, before_switch=False)
    assert len(pending_cells(cfg, out)[1]) == 1
    monkeypatch.setitem(PRESETS, "autoal", {**PRESETS["autoal"], "coverage_power": 2.0})
    with pytest.raises(StaleResultsError, match="coverage_power"):
        pending_cells(cfg, out)
    monkeypatch.undo()
    # as select-v2's verdict did: a file from wave 1's `autoal` is stale under the new one
    _finish(cfg, out, before_switch=True)
    with pytest.raises(StaleResultsError) as stale:
        pending_cells(cfg, out)
    changed = str(stale.value).split("strategy parameters changed (")[1].split(")")[0]
    assert {"batch", "search", "weights", "prior"} <= set(changed.split(", "))


def _old_and_new(tmp_path: Path, new_line: str):
    old = _config(tmp_path, (
        'a = { strategy = "autoal", preset = "autoal", ablation = "uniform" }\n'
        'm = { strategy = "margin" }'), "old.toml")
    new = _config(tmp_path, new_line + '\nm = { strategy = "margin" }', "new.toml")
    out = tmp_path / "out"
    _finish(old, out)
    return old, new, out


def _snapshot(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "runs").iterdir())}


def test_rename_moves_runs_to_the_renamed_preset(tmp_path):
    old, new, out = _old_and_new(
        tmp_path, 'a-v1 = { strategy = "autoal", preset = "autoal-v1", ablation = "uniform" }')
    assert [c.variant.name for c in pending_cells(new, out)[0]] == ["a-v1"]
    before = json.loads(cell_path(out, old.cells()[0]).read_text())
    failed = error_path(out, new.cells()[0])  # an earlier failure of the new name's cell
    failed.parent.mkdir()
    failed.write_text("Traceback ...")
    assert rename_runs(new, out, {"a": "a-v1"}) == {"a": 1}
    assert not failed.exists()
    assert not cell_path(out, old.cells()[0]).exists()
    todo, done = pending_cells(new, out)
    assert not todo and sorted(c.variant.name for c in done) == ["a-v1", "m"]
    moved = json.loads(cell_path(out, new.cells()[0]).read_text())["bench"]
    assert moved["variant"] == "a-v1" and moved["options"]["preset"] == "autoal-v1"
    assert moved["parameters"]["preset"] == "autoal-v1"
    assert moved["renamed_from"] == {k: before["bench"][k]
                                     for k in ("cell", "variant", "options", "fingerprint")}
    assert moved["wall_seconds"] == before["bench"]["wall_seconds"]
    assert rename_runs(new, out, {"a": "a-v1"}) == {"a": 0}  # nothing left to move


@pytest.mark.parametrize("new_line, message", [
    # another option as well as the preset
    ('a-v1 = { strategy = "autoal", preset = "autoal-v1", ablation = "prior" }', "options"),
    # the new name runs other settings: the plain `paper` preset is not wave 1's `autoal`
    ('a-v1 = { strategy = "autoal", preset = "paper", ablation = "uniform" }',
     "other settings"),
])
def test_rename_refuses_what_the_new_variant_would_not_run(tmp_path, new_line, message):
    _, new, out = _old_and_new(tmp_path, new_line)
    before = _snapshot(out)
    with pytest.raises(RenameError, match=message):
        rename_runs(new, out, {"a": "a-v1"})
    assert _snapshot(out) == before


def test_rename_refuses_a_missing_variant_or_an_existing_target(tmp_path):
    _, new, out = _old_and_new(
        tmp_path, 'a-v1 = { strategy = "autoal", preset = "autoal-v1", ablation = "uniform" }')
    before = _snapshot(out)
    with pytest.raises(RenameError, match="no variant 'nope'"):
        rename_runs(new, out, {"a": "nope"})
    target = cell_path(out, new.cells()[0])
    target.write_text(json.dumps({"bench": {"variant": "a-v1", "dataset": "digits",
                                            "regime": "low", "seed": 0, "fingerprint": "x"}}))
    with pytest.raises(RenameError, match="exists"):
        rename_runs(new, out, {"a": "a-v1"})
    target.unlink()
    assert _snapshot(out) == before


def test_the_script_renames_and_exits_2_on_bad_input(tmp_path, capsys):
    _, _, out = _old_and_new(
        tmp_path, 'a-v1 = { strategy = "autoal", preset = "autoal-v1", ablation = "uniform" }')
    main = runpy.run_path(str(REPO_ROOT / "benchmarks" / "rename_variants.py"),
                          run_name="not_main")["main"]
    config = str(tmp_path / "new.toml")
    assert main([config, str(out), "a"]) == 2
    assert main([config, str(out), "=a"]) == 2
    assert main([str(tmp_path / "missing.toml"), str(out), "a=a-v1"]) == 2
    assert main([config, str(tmp_path / "nowhere"), "a=a-v1"]) == 2
    assert main([config, str(out), "a=zz"]) == 2
    assert "no variant 'zz'" in capsys.readouterr().err
    assert main([config, str(out), "a=a-v1"]) == 0
    assert "a -> a-v1: 1 run(s) moved" in capsys.readouterr().out


def test_rename_in_place_where_only_the_preset_name_changed(tmp_path):
    old, new, out = _old_and_new(
        tmp_path, 'a = { strategy = "autoal", preset = "autoal-v1", ablation = "uniform" }')
    assert rename_runs(new, out, {"a": "a"}) == {"a": 1}
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        cell_path(out, c).name for c in new.cells())
    todo, done = pending_cells(new, out)
    assert not todo and len(done) == 2
    record = json.loads(cell_path(out, new.cells()[0]).read_text())["bench"]
    assert record["options"]["preset"] == "autoal-v1"
    assert record["renamed_from"]["fingerprint"] == old.cells()[0].fingerprint()
    # a second run moves nothing and keeps the record of where the file came from
    assert rename_runs(new, out, {"a": "a"}) == {"a": 0}
    again = json.loads(cell_path(out, new.cells()[0]).read_text())["bench"]
    assert again["renamed_from"] == record["renamed_from"]


def test_two_files_onto_one_target_are_refused(tmp_path):
    old = _config(tmp_path, (
        'a = { strategy = "autoal", preset = "autoal", ablation = "uniform" }\n'
        'b = { strategy = "autoal", preset = "autoal-v1", ablation = "uniform" }'), "old.toml")
    new = _config(tmp_path,
                  'c = { strategy = "autoal", preset = "autoal-v1", ablation = "uniform" }',
                  "new.toml")
    out = tmp_path / "out"
    _finish(old, out)
    before = _snapshot(out)
    with pytest.raises(RenameError, match="another file moves there"):
        rename_runs(new, out, {"a": "c", "b": "c"})
    assert _snapshot(out) == before


def test_an_interrupted_rename_completes_when_run_again(tmp_path, monkeypatch):
    old, new, out = _old_and_new(
        tmp_path, 'a-v1 = { strategy = "autoal", preset = "autoal-v1", ablation = "uniform" }')
    source = cell_path(out, old.cells()[0])
    monkeypatch.setattr(Path, "unlink", lambda self, missing_ok=False: (_ for _ in ()).throw(
        OSError("interrupted")))
    with pytest.raises(OSError, match="interrupted"):
        rename_runs(new, out, {"a": "a-v1"})
    monkeypatch.undo()
    written = cell_path(out, new.cells()[0]).read_bytes()
    assert source.exists()  # both files: nothing lost
    assert rename_runs(new, out, {"a": "a-v1"}) == {"a": 1}
    assert not source.exists() and cell_path(out, new.cells()[0]).read_bytes() == written
    assert not pending_cells(new, out)[0]


def test_the_run_config_names_the_new_preset_where_the_old_options_had_none(tmp_path):
    old = _config(tmp_path, 'a = { strategy = "autoal", ablation = "uniform" }', "old.toml")
    new = _config(tmp_path,
                  'a = { strategy = "autoal", preset = "autoal-v1", ablation = "uniform" }',
                  "new.toml")
    out = tmp_path / "out"
    _finish(old, out)
    assert rename_runs(new, out, {"a": "a"}) == {"a": 1}
    record = json.loads(cell_path(out, new.cells()[0]).read_text())
    assert record["config"]["strategy_params"]["preset"] == "autoal-v1"
    assert record["bench"]["parameters"]["preset"] == "autoal-v1"


def test_every_preset_fixes_the_same_options():
    for name, preset in PRESETS.items():
        assert tuple(preset) == PRESET_KEYS, name


def test_canonical_parameters_equal_across_the_two_record_formats(tmp_path, wave1):
    cfg = _config(tmp_path, 'a = { strategy = "autoal", preset = "autoal", ablation = "uniform" }'
                  '\nm = { strategy = "margin" }', "c.toml")
    old_out, new_out = tmp_path / "old", tmp_path / "new"
    _finish(cfg, old_out, old_format=True)
    _finish(cfg, new_out)
    for cell in cfg.cells():
        a, b = (json.loads(cell_path(o, cell).read_text())["bench"]["parameters"]
                for o in (old_out, new_out))
        assert canonical_parameters(a) == canonical_parameters(b)
        if cell.variant.strategy == "autoal":
            assert a != b  # the formats differ; the computation does not
            changed = {**b, "resolved": {**b["resolved"], "search_lr": 0.05}}
            assert canonical_parameters(a) != canonical_parameters(changed)


def test_files_without_recorded_parameters_move_only_unverified(tmp_path):
    old = _config(tmp_path, 'a = { strategy = "autoal", preset = "autoal", coverage = 0.1 }',
                  "old.toml")
    new = _config(tmp_path,
                  'a = { strategy = "autoal", preset = "autoal-v1", coverage = 0.1 }', "new.toml")
    out = tmp_path / "out"
    _finish(old, out)
    for path in (out / "runs").iterdir():  # as the bench wrote them before recording parameters
        record = json.loads(path.read_text())
        del record["bench"]["parameters"]
        path.write_text(json.dumps(record))
    before = _snapshot(out)
    with pytest.raises(RenameError, match="no strategy parameters"):
        rename_runs(new, out, {"a": "a"})
    assert _snapshot(out) == before
    assert rename_runs(new, out, {"a": "a"}, unverified=True) == {"a": 1}
    moved = json.loads(cell_path(out, new.cells()[0]).read_text())["bench"]
    assert "parameters" not in moved and moved["renamed_unverified"]
    assert moved["fingerprint"] == new.cells()[0].fingerprint()
    assert moved["renamed_from"]["fingerprint"] == old.cells()[0].fingerprint()
    assert not pending_cells(new, out)[0]
    # options other than the preset's name still refuse, unverified or not
    other = _config(tmp_path,
                    'a = { strategy = "autoal", preset = "autoal-v1", coverage = 0.2 }', "o.toml")
    with pytest.raises(RenameError, match="options"):
        rename_runs(other, out, {"a": "a"}, unverified=True)


def test_unverified_still_checks_the_parameters_a_file_records(tmp_path):
    _, new, out = _old_and_new(
        tmp_path, 'a-v1 = { strategy = "autoal", preset = "paper", ablation = "uniform" }')
    before = _snapshot(out)
    with pytest.raises(RenameError, match="other settings"):
        rename_runs(new, out, {"a": "a-v1"}, unverified=True)
    assert _snapshot(out) == before
