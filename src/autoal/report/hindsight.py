"""Did AutoAL's search prefer the candidate that was best at that stage? Read off a bench.

For a variant that records candidate weights (AutoAL, ALBL) and a group that also runs the
candidates as single strategies, each round (query) ``i >= 1`` is described by

- the *favourite*: the candidate with the largest weight at round ``i``, averaged over the
  variant's seeds (none when several share it, as with equal weights);
- the *best in hindsight*: the candidate whose own single-strategy runs in the same group
  have the highest test accuracy after round ``i``, averaged over their seeds. Every run of
  a group has the same labeled-set size after round ``i``, so this is the candidate that
  had done best by that stage. It is known only after the fact, and it reflects each
  candidate's own history of picks, not only the round's query;
- the favourite's own accuracy after round ``i`` minus the best's (0 when they agree): how
  much a reader loses by trusting the search's choice at that stage.

Candidates without a single-strategy run of their own in the group are left out of the
comparison (the favourite may still be one of them; its accuracy is then unknown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from autoal.report.aggregate import AUTOAL, GroupSummary, reference_row

if TYPE_CHECKING:
    from autoal.loop import RunRecord

#: Mean weights closer than this to the largest share the lead: no favourite.
TIE = 1e-6

__all__ = ["RoundStory", "agreement", "singles_of", "story_markdown", "told_stories",
           "weight_story"]


@dataclass(frozen=True)
class RoundStory:
    """One round of a weighted variant next to the candidates' own runs.

    Attributes
    ----------
    round : int
        The round (query) index, ``>= 1``.
    labeled : int
        Labels after the round.
    favourite : str or None
        The candidate with the largest mean weight at this round; None when two or more
        share it (equal weights have no favourite).
    favourite_weight : float
        The largest mean weight over the variant's seeds.
    best : str or None
        The candidate with the highest mean accuracy after this round in its own runs;
        None when no candidate ran on its own in the group.
    best_accuracy : float or None
        That accuracy.
    favourite_accuracy : float or None
        The favourite's own mean accuracy after this round; None when it has no run.
    judged_among : int
        How many candidates ran on their own in the group (the best is one of them).
    """

    round: int
    labeled: int
    favourite: str | None
    favourite_weight: float
    best: str | None
    best_accuracy: float | None
    favourite_accuracy: float | None
    judged_among: int = 0

    @property
    def agrees(self) -> bool:
        """Whether the search's favourite is the best in hindsight."""
        return self.best is not None and self.favourite == self.best

    @property
    def regret(self) -> float | None:
        """Best accuracy minus the favourite's (>= 0); None when either is unknown."""
        if self.best_accuracy is None or self.favourite_accuracy is None:
            return None
        return self.best_accuracy - self.favourite_accuracy


def _mean_accuracy(runs: Sequence[RunRecord], round_index: int) -> float | None:
    values = [r["rounds"][round_index]["accuracy"] for r in runs
              if len(r["rounds"]) > round_index]
    return float(np.mean(values)) if values else None


def weight_story(weighted: Sequence[RunRecord],
                 singles: Mapping[str, Sequence[RunRecord]]) -> list[RoundStory]:
    """Per round of ``weighted``'s runs, its favourite and the best candidate in hindsight.

    Parameters
    ----------
    weighted : sequence of run records
        One variant's runs (one per seed) that record ``weights`` per round.
    singles : mapping
        Candidate name -> the group's runs of that candidate as a single strategy; names
        that are not candidates of ``weighted`` are ignored.

    Returns
    -------
    list of RoundStory
        One per round that every run of ``weighted`` records weights for; empty when none.
    """
    if not weighted:
        return []
    rounds = [i for i, r in enumerate(weighted[0]["rounds"]) if "weights" in r
              and all(len(w["rounds"]) > i and "weights" in w["rounds"][i] for w in weighted)]
    stories = []
    for i in rounds:
        names = sorted(weighted[0]["rounds"][i]["weights"])
        mean = {n: float(np.mean([w["rounds"][i]["weights"].get(n, 0.0) for w in weighted]))
                for n in names}
        top = max(mean.values())
        leaders = [n for n in names if mean[n] >= top - TIE]
        favourite = leaders[0] if len(leaders) == 1 else None
        accuracy = {n: a for n in names if n in singles
                    if (a := _mean_accuracy(singles[n], i)) is not None}
        best = min(accuracy, key=lambda n: (-accuracy[n], n)) if accuracy else None
        stories.append(RoundStory(
            round=int(weighted[0]["rounds"][i]["round"]),
            labeled=int(weighted[0]["rounds"][i]["labeled"]),
            favourite=favourite, favourite_weight=top, best=best,
            best_accuracy=None if best is None else accuracy[best],
            favourite_accuracy=None if favourite is None else accuracy.get(favourite),
            judged_among=len(accuracy)))
    return stories


def agreement(stories: Sequence[RoundStory]) -> tuple[int, int, float | None]:
    """``(rounds where the favourite is the best, rounds with a best, mean regret)``."""
    judged = [s for s in stories if s.best is not None]
    regrets = [s.regret for s in judged if s.regret is not None]
    return (sum(s.agrees for s in judged), len(judged),
            float(np.mean(regrets)) if regrets else None)


def singles_of(g: GroupSummary) -> dict[str, list[RunRecord]]:
    """Strategy name -> the group's runs of the variant that runs it plainly (named like it,
    else the first variant using it)."""
    by_name = {r.variant: r for r in g.rows}
    singles = {}
    for strategy in {r.strategy for r in g.rows} - {AUTOAL}:
        row = reference_row(by_name, strategy)
        if row is not None and row.variant in g.runs:
            singles[strategy] = g.runs[row.variant]
    return singles


def _accuracy(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def told_stories(g: GroupSummary) -> dict[str, list[RoundStory]]:
    """Per weighted variant of ``g`` with at least two of its candidates run on their own in
    the group, its :func:`weight_story` (with one, that one would be the best by default)."""
    singles = singles_of(g)
    stories = {v: weight_story(g.runs.get(v, []), singles) for v in sorted(g.weights)}
    return {v: s for v, s in stories.items() if s and s[0].judged_among >= 2}


def story_markdown(g: GroupSummary) -> list[str]:
    """Markdown lines: per weighted variant, its favourites against the best in hindsight.

    The plain AutoAL presets get a row per round; every other weighted variant one line.
    Only the variants of :func:`told_stories` are told; empty when there is none.
    """
    stories = told_stories(g)
    if not stories:
        return []
    lines = [
        "Weights against hindsight: per round, the candidate with the largest mean weight "
        "(the favourite) and the candidate whose own runs in this group had the highest "
        "mean test accuracy after that round (best in hindsight, known only afterwards); "
        "regret = the best's accuracy minus the favourite's own (the weights plots "
        "mark the best of each round).",
        "",
        "| variant | candidates run alone | favourite = best | mean regret | "
        "favourites by round |",
        "|---|---:|---:|---:|---|",
    ]
    for v, story in stories.items():
        agree, judged, regret = agreement(story)
        favourites = " ".join(s.favourite or "(tie)" for s in story)
        lines.append(f"| {v} | {story[0].judged_among} | {agree} of {judged} | {_accuracy(regret)} "
                     f"| {favourites} |")
    presets = [r.variant for r in g.rows if r.is_preset and r.variant in stories]
    for v in presets:
        lines += ["", f"{v}, round by round:", "",
                  "| round | labeled | favourite (weight) | its accuracy | best in hindsight "
                  "| its accuracy |", "|---:|---:|---|---:|---|---:|"]
        for s in stories[v]:
            lines.append(f"| {s.round} | {s.labeled} | {s.favourite or '(tie)'} "
                         f"({s.favourite_weight:.2f}) "
                         f"| {_accuracy(s.favourite_accuracy)} | {s.best or '—'} "
                         f"| {_accuracy(s.best_accuracy)} |")
    return lines
