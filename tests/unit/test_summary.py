"""The benchmark summary's ablation pairing and cross-group overview on hand-made runs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

from autoal.report import summarise, to_csv, to_markdown
from autoal.report.plots import paired_differences

from support import fake_run


def _run(variant: str, seed: int, aubc: float, strategy: str = "autoal",
         options: dict | None = None, dataset: str = "d", regime: str = "low") -> dict:
    return fake_run(variant, seed, aubc, strategy=strategy, options=options, dataset=dataset,
                    regime=regime)


BASE = [0.70, 0.60, 0.65]   # the plain preset's AUBC per seed


def _group(dataset: str = "d", regime: str = "low") -> list[dict]:
    runs = []
    for s, a in enumerate(BASE):
        kw = {"dataset": dataset, "regime": regime}
        runs.append(_run("auto", s, a, options={"preset": "p"}, **kw))
        # +0.01 on every seed: the pairing removes the seeds' spread, the interval is a point
        runs.append(_run("auto-cov", s, a + 0.01, options={"preset": "p", "coverage": 0.1}, **kw))
        # seeds 0 and 1 only: paired over the two common seeds
        if s < 2:
            runs.append(_run("auto-glob", s, a - 0.02 * (s + 1),
                             options={"preset": "p", "weights": "global"}, **kw))
        # a preset that nobody runs plainly: no ablation row
        runs.append(_run("other", s, a, options={"preset": "q", "coverage": 0.2}, **kw))
        runs.append(_run("margin", s, a + 0.05, strategy="margin", **kw))
        runs.append(_run("random", s, a - 0.05, strategy="random", **kw))
    return runs


def test_an_ablation_is_paired_with_the_plain_run_of_its_preset():
    [g] = summarise(_group())
    rows = {r.variant: r for r in g.rows}
    cov = rows["auto-cov"].ablation
    assert cov is not None and cov.base == "auto" and cov.changes == {"coverage": 0.1}
    assert cov.result.diff == pytest.approx(0.01)
    assert cov.result.low == pytest.approx(0.01) and cov.result.high == pytest.approx(0.01)
    assert cov.result.verdict == "wins" and cov.result.n == 3
    glob = rows["auto-glob"].ablation
    assert glob is not None and glob.result.n == 2
    assert glob.result.diff == pytest.approx(-0.03)   # mean of -0.02 and -0.04
    assert glob.result.verdict == "loses"
    # the plain preset and other strategies: none
    assert rows["auto"].ablation is None and rows["auto"].is_preset
    assert rows["margin"].ablation is None and rows["random"].ablation is None
    assert not rows["margin"].is_preset
    # a preset nobody runs plainly: an ablation without a base, and not a preset either
    other = rows["other"].ablation
    assert other is not None and other.base is None and other.result is None
    assert not rows["other"].is_preset
    md = to_markdown([g])
    assert "| other | coverage = 0.2 | — | — | no plain run of the preset |" in md


def test_an_ablation_without_a_common_seed_has_no_result():
    runs = [_run("auto", 0, 0.5, options={"preset": "p"}),
            _run("auto-cov", 1, 0.6, options={"preset": "p", "coverage": 0.1})]
    [g] = summarise(runs)
    a = {r.variant: r for r in g.rows}["auto-cov"].ablation
    assert a is not None and a.base == "auto" and a.result is None
    assert "| auto | — | no common seed |" in to_markdown([g])


def test_two_plain_runs_of_a_preset_warn_and_the_one_named_like_it_is_the_base():
    runs = []
    for s, a in enumerate(BASE):
        runs += [_run("a-copy", s, a + 0.02, options={"preset": "p"}),
                 _run("p", s, a, options={"preset": "p"}),
                 _run("z-copy", s, a - 0.02, options={"preset": "p"}),
                 _run("cov", s, a + 0.01, options={"preset": "p", "coverage": 0.1})]
    with pytest.warns(UserWarning, match="a-copy, p, z-copy all run preset 'p'"):
        [g] = summarise(runs)
    a = {r.variant: r for r in g.rows}["cov"].ablation
    assert a is not None and a.base == "p"
    assert a.result is not None and a.result.diff == pytest.approx(0.01)


def test_the_overview_spans_the_groups_and_marks_missing_variants():
    runs = _group("d", "low") + [r for r in _group("e", "mid")
                                 if r["bench"]["variant"] != "auto-cov"]
    groups = summarise(runs)
    md = to_markdown(groups)
    overview = md[md.index("## Overview"):]
    lines = overview.splitlines()
    header = next(x for x in lines if x.startswith("| variant |"))
    assert "d / low" in header and "e / mid" in header
    # margin is best in both groups: rank 1 in each, mean rank 1
    margin = next(x for x in lines if x.startswith("| margin |"))
    assert margin == "| margin | 0.7000 (1) | 0.7000 (1) | 1.00 | 2 |"
    # a paired ablation: its AUBC without a rank, no mean rank, listed after the ranked rows
    cov = next(x for x in lines if x.startswith("| auto-cov |"))
    assert cov == "| auto-cov | 0.6600 | — | — | 1 |"
    assert lines.index(cov) > lines.index(next(x for x in lines if x.startswith("| random |")))
    # AutoAL's verdicts per group, the best single named
    row = next(x for x in lines if x.startswith("| auto − best single |"))
    assert row.count("-0.0500 loses (3↓ 0↑) vs margin") == 2
    row = next(x for x in lines if x.startswith("| auto − random |"))
    assert row.count("+0.0500 wins (0↓ 3↑)") == 2
    # ablations, paired or not, are not compared with the baselines in the overview
    assert not any(x.startswith(("| auto-cov − margin", "| other − ")) for x in lines)
    abl = next(x for x in lines if x.startswith("| auto-cov − auto |"))
    assert "coverage = 0.1" in abl and "+0.0100 wins (0↓ 3↑)" in abl and abl.endswith("| — |")


def test_paired_ablations_are_not_ranked_among_the_strategies():
    [g] = summarise(_group())
    rows = {r.variant: r for r in g.rows}
    # auto-cov (0.66 mean) beats auto (0.65) but takes no rank from anyone
    assert rows["auto-cov"].rank is None and rows["auto-glob"].rank is None
    assert {v: r.rank for v, r in rows.items() if r.rank is not None} == {
        "margin": 1.0, "auto": 2.5, "other": 2.5, "random": 4.0}
    # unranked rows come last in the table, by AUBC
    assert [r.variant for r in g.rows][-2:] == ["auto-cov", "auto-glob"]
    md = to_markdown([g])
    assert "| — | auto-cov | autoal | 3 |" in md
    ranks = {r["variant"]: r["rank"] for r in csv.DictReader(io.StringIO(to_csv([g])))}
    assert ranks["auto-cov"] == "" and ranks["margin"] == "1"


def test_the_csv_carries_the_ablation_columns():
    [g] = summarise(_group())
    rows = {r["variant"]: r for r in csv.DictReader(io.StringIO(to_csv([g])))}
    # the seeds lower / higher beside each comparison: auto is below margin on all 3 seeds
    assert (rows["auto"]["minus_margin_seeds_lower"],
            rows["auto"]["minus_margin_seeds_higher"]) == ("3", "0")
    assert rows["auto"]["minus_random_seeds_higher"] == "3"
    assert rows["auto-cov"]["minus_ablation_base_seeds_higher"] == "3"
    assert rows["margin"]["minus_margin_seeds_lower"] == ""
    assert rows["auto-cov"]["ablation_of"] == "auto"
    assert float(rows["auto-cov"]["minus_ablation_base"]) == pytest.approx(0.01)
    assert float(rows["auto-glob"]["minus_ablation_base_high"]) < 0
    assert rows["auto"]["ablation_of"] == "" and rows["margin"]["minus_ablation_base"] == ""


def test_one_group_has_no_overview():
    assert "## Overview" not in to_markdown(summarise(_group()))


def _curve_run(seed: int, accs: list[float], variant: str = "v") -> dict:
    rounds = [{"round": i, "labeled": 10 * (i + 1), "accuracy": a} for i, a in enumerate(accs)]
    return {"rounds": rounds, "bench": {"seed": seed, "variant": variant}}


def test_paired_differences_match_seeds_not_positions():
    ref = [_curve_run(0, [0.5, 0.6]), _curve_run(1, [0.4, 0.7])]
    runs = [_curve_run(1, [0.5, 0.9]), _curve_run(0, [0.5, 0.5]), _curve_run(7, [1.0, 1.0])]
    d = paired_differences(runs, ref)
    # seed 1 against seed 1, seed 0 against seed 0; seed 7 has no partner
    np.testing.assert_allclose(d, [[0.1, 0.2], [0.0, -0.1]])
    assert paired_differences([_curve_run(0, [0.5])], ref).shape == (0, 0)
    # same number of rounds but other labeled counts: not comparable point by point
    shifted = _curve_run(0, [0.5, 0.6])
    shifted["rounds"][1]["labeled"] = 25
    assert paired_differences([shifted], ref).shape == (0, 0)
    # without a bench block, runs pair by position
    bare = [{"rounds": r["rounds"]} for r in ref]
    np.testing.assert_allclose(paired_differences(bare[::-1], bare), [[-0.1, 0.1], [0.1, -0.1]])


def test_the_report_adds_a_key_plot_when_there_are_more_variants(tmp_path, monkeypatch):
    from PIL import Image

    from autoal.report import plots, write_report

    drawn: dict[str, list[str]] = {}
    save = plots._save

    def spy(fig, path):
        # the variants drawn in the first panel, and the number of panels
        drawn[Path(path).name] = [ln.get_label() for ln in fig.axes[0].get_lines()]
        drawn[Path(path).name + ":axes"] = [str(len(fig.axes))]
        return save(fig, path)

    monkeypatch.setattr(plots, "_save", spy)

    runs = tmp_path / "runs"
    runs.mkdir()
    for r in _group():
        m = r["bench"]
        name = f"{m['dataset']}__{m['regime']}__{m['variant']}__{m['seed']}.json"
        (runs / name).write_text(json.dumps(r))
    files = {p.name for p in write_report(tmp_path)["files"]}
    assert {"curves-d-low.png", "curves-d-low-key.png"} <= files
    for name in ("curves-d-low.png", "curves-d-low-key.png"):
        with Image.open(tmp_path / name) as im:
            im.verify()
        # two panels: accuracy and the difference to random
        assert drawn[name + ":axes"] == ["2"]
    assert len(drawn["curves-d-low.png"]) == 6
    # the key plot: the plain preset, the group's best (margin, also the best single) and
    # random; not the ablations
    assert sorted(x.split(" ")[0] for x in drawn["curves-d-low-key.png"]) == [
        "auto", "margin", "random"]


def test_without_random_the_curves_have_one_panel(tmp_path, monkeypatch):
    from autoal.report import plots

    axes: list[int] = []
    save = plots._save
    monkeypatch.setattr(plots, "_save", lambda fig, path: (axes.append(len(fig.axes)),
                                                           save(fig, path))[1])
    runs = [r for r in _group() if r["bench"]["variant"] in ("auto", "margin")]
    plots.plot_learning_curves({"auto": runs[0::2], "margin": runs[1::2]},
                               tmp_path / "c.png", reference="random")
    assert axes == [1] and (tmp_path / "c.png").exists()


def test_the_overview_counts_every_group_a_variant_ran_in():
    # auto-cov is an ablation in "d" (auto runs there) but ranked in "e" (no plain auto)
    runs = _group("d", "low") + [r for r in _group("e", "mid")
                                 if r["bench"]["variant"] not in ("auto", "auto-glob")]
    md = to_markdown(summarise(runs))
    overview = md[md.index("## Overview"):]
    row = next(x for x in overview.splitlines() if x.startswith("| auto-cov |"))
    cells = row.split(" | ")
    assert cells[1] == "0.6600" and cells[2].startswith("0.6600 (")   # unranked, ranked
    assert row.endswith("| 2 |")


def test_equal_mean_ranks_go_to_the_higher_mean_aubc():
    from autoal.report import overall_ranks

    # two groups: "a" is 1st then 2nd, "b" 2nd then 1st (mean rank 1.5 each); "b" has the
    # higher mean AUBC, so it comes first although "a" sorts first by name
    runs = []
    for s in range(2):
        runs += [_run("a", s, 0.80, strategy="margin", dataset="d"),
                 _run("b", s, 0.70, strategy="entropy", dataset="d"),
                 _run("a", s, 0.60, strategy="margin", dataset="e"),
                 _run("b", s, 0.90, strategy="entropy", dataset="e")]
    table = overall_ranks(summarise(runs))
    assert [(v, mr, n) for v, mr, n in table] == [("b", 1.5, 2), ("a", 1.5, 2)]
