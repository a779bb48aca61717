"""benchmarks/autoal_targets.py: issue 16's targets read off planted bench folders."""

from __future__ import annotations

import runpy

from support import REPO_ROOT, fake_run, write_runs


def _main():
    return runpy.run_path(str(REPO_ROOT / "benchmarks" / "autoal_targets.py"),
                          run_name="not_main")["main"]


def _grid(auto_minus_best, *, seeds=3, groups=("a", "b", "c", "d", "e")):
    """Per group: margin 0.80 (the best single), random 0.70, uherding 0.79, tcm 0.78, an
    ALBL run above everything (a mixer: never the best single) and `auto` at margin +
    ``auto_minus_best[g]`` (+ a per-seed wobble that cancels over three seeds)."""
    runs = []
    for g in groups:
        for seed, wobble in zip(range(seeds), (-0.001, 0.0, 0.001), strict=False):
            for name, value in (("margin", 0.80), ("random", 0.70), ("uherding", 0.79),
                                ("tcm", 0.78), ("albl", 0.95)):
                runs.append(fake_run(name, seed, value, strategy=name, dataset=g))
            runs.append(fake_run("auto", seed, 0.80 + auto_minus_best[g] + wobble,
                                 strategy="autoal", dataset=g))
    return runs


def test_targets_met_and_missed_on_planted_differences(tmp_path, capsys):
    good = tmp_path / "good"
    write_runs(good, _grid({"a": 0.01, "b": 0.01, "c": 0.001, "d": 0.02, "e": -0.002}))
    assert _main()([str(good), "--variant", "auto"]) == 0
    out = capsys.readouterr().out
    assert "| a low | +0.0100 [+0.0090, +0.0110] (margin) |" in out  # not ALBL: a mixer
    assert "1. lower end above -0.005 in every group: met (5 of 5)" in out
    assert "2. mean >= 0 in at least 4 groups: met (4 of 5)" in out
    assert "3. beats random in every group: met (5 of 5)" in out
    # ranks: ALBL 1st everywhere; auto 2nd, but 3rd behind margin in e
    assert "4. mean rank 2.20 better than uherding 4.00, tcm 5.00: met" in out

    bad = tmp_path / "bad"
    write_runs(bad, _grid({"a": -0.02, "b": 0.01, "c": -0.001, "d": -0.003, "e": -0.15}))
    assert _main()([str(bad), "--variant", "auto"]) == 0
    out = capsys.readouterr().out
    assert "1. lower end above -0.005 in every group: missed (3 of 5)" in out
    assert "2. mean >= 0 in at least 4 groups: missed (1 of 5)" in out
    assert "3. beats random in every group: missed (4 of 5)" in out
    assert ": missed" in out.splitlines()[-1]


def test_partial_seeds_are_never_a_verdict(tmp_path, capsys):
    runs = _grid({g: 0.01 for g in "abcde"})
    runs = [r for r in runs if not (r["bench"]["variant"] == "tcm" and r["bench"]["seed"] == 2)]
    write_runs(tmp_path, runs)
    assert _main()([str(tmp_path), "--variant", "auto"]) == 0
    out = capsys.readouterr().out
    assert "met (partial seeds: not a verdict)" in out
    assert "4. mean rank: not measured (no group where auto, uherding, tcm all have" in out


def test_fewer_seeds_than_the_config_asks_for_is_not_a_verdict(tmp_path, capsys):
    write_runs(tmp_path, _grid({g: 0.01 for g in "abcde"}))
    (tmp_path / "config.toml").write_text("[protocol]\nseeds = [0, 1, 2, 3, 4]\n")
    assert _main()([str(tmp_path), "--variant", "auto"]) == 0
    out = capsys.readouterr().out
    assert "| a low |" in out and "| 3 of 5 |" in out
    # no strategy has the five seeds the config asks for: nothing can be judged
    assert "1. lower end above -0.005 in every group: not measured in 5 group(s)" in out


def test_groups_the_variant_skipped_random_missing_and_one_seed(tmp_path, capsys):
    runs = [r for r in _grid({g: 0.01 for g in "abcde"})
            if not (r["bench"]["variant"] == "auto" and r["bench"]["dataset"] == "e")
            and not (r["bench"]["variant"] == "random" and r["bench"]["dataset"] == "d")]
    write_runs(tmp_path, runs)
    assert _main()([str(tmp_path), "--variant", "auto"]) == 0
    out = capsys.readouterr().out
    assert "auto ran in 4 of 5 groups." in out
    assert "1. lower end above -0.005 in every group: met (partial seeds: not a verdict)" in out
    assert "3. beats random in every group: not measured in 1 group(s) (3 of 4)" in out

    one = tmp_path / "one"
    write_runs(one, _grid({g: 0.01 for g in "abcde"}, seeds=1))
    assert _main()([str(one), "--variant", "auto"]) == 0
    out = capsys.readouterr().out
    assert "1. lower end above -0.005 in every group: not measured in 5 group(s)" in out
    assert "2. mean >= 0 in at least 4 groups: met (5 of 5)" in out


def test_bad_folder_or_variant_exit_2(tmp_path, capsys):
    assert _main()([str(tmp_path)]) == 2
    write_runs(tmp_path, [fake_run("margin", 0, 0.5, strategy="margin")])
    assert _main()([str(tmp_path), "--variant", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
