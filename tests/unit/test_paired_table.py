"""benchmarks/paired_table.py: paired differences, partial-seed marks, best in hindsight."""

from __future__ import annotations

import runpy

from support import REPO_ROOT, fake_run, write_runs


def _main():
    return runpy.run_path(str(REPO_ROOT / "benchmarks" / "paired_table.py"),
                          run_name="not_main")["main"]


def test_paired_differences_partial_marks_and_best(tmp_path, capsys):
    runs = []
    for seed, (new, margin, rnd) in enumerate([(0.80, 0.78, 0.70), (0.82, 0.81, 0.71),
                                               (0.79, 0.80, 0.72)]):
        runs += [fake_run("new", seed, new, strategy="new"),
                 fake_run("margin", seed, margin, strategy="margin"),
                 fake_run("random", seed, rnd, strategy="random")]
    runs.append(fake_run("late", 0, 0.95, strategy="late"))  # one seed only
    write_runs(tmp_path, runs)
    assert _main()([str(tmp_path), "--variants", "new,late", "--refs", "margin,random"]) == 0
    out = capsys.readouterr().out
    new_row = next(line for line in out.splitlines() if line.startswith("| new "))
    # new - margin per seed: +0.02, +0.01, -0.01 -> mean +0.0067, range [-0.01, +0.02]
    assert "+0.0067 [" in new_row and "1↓ 2↑" in new_row
    assert "+0.0933 [+0.0700, +0.1100] 0↓ 3↑" in new_row  # every seed above random
    assert "| late (1 seeds) | 0.9500 | +0.1700 [n/a]" in out
    # the one-seed variant cannot be best in hindsight, however high its mean
    assert "Best in hindsight (mean AUBC over 3 seeds): **new** 0.8033." in out


def test_unknown_variant_or_empty_folder_exit_2(tmp_path, capsys):
    assert _main()([str(tmp_path)]) == 2
    write_runs(tmp_path, [fake_run("margin", 0, 0.5, strategy="margin")])
    assert _main()([str(tmp_path), "--variants", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
