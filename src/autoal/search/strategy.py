"""AutoAL as a query strategy: search a mixture of candidates on the labeled data, then query."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import numpy as np
import torch

from autoal.data.pool_array import is_file_backed
from autoal.evidence import Evidence
from autoal.search.coverage_query import budget_power, coverage_batch, coverage_top
from autoal.search.hindsight_round import remember_batch
from autoal.search.options import check_options
from autoal.search.pool_mix import mix_pool
from autoal.search.presets import LEGACY_RESOLVED, PRESET_KEYS, PRESETS
from autoal.search.prior import diversity_share
from autoal.search.round_search import n_classes_of, n_labeled, search_round
from autoal.strategies.base import QueryStrategy, check_budget
from autoal.strategies.diversity import EXACT_MAX_SAMPLES, batch_first_scores
from autoal.strategies.ranks import rank_normalise
from autoal.strategies.registry import get_strategy, register_strategy
from autoal.strategies.representation import raw_space_of

__all__ = ["AutoAL"]

@register_strategy
class AutoAL(QueryStrategy):
    """AutoAL (Wang et al., ICML 2025): a searched mixture of query strategies.

    Each round, the labeled set is cross-fitted: a FitNet (a small net of the task model's
    family, on raw inputs) trained on one part scores the other. Every candidate scores the
    held-out part from FitNet's evidence; scores are rank-normalised and mixed with softmax
    weights (global logits, or a per-sample SearchNet); a soft top-fraction selection with
    an annealed temperature makes the objective differentiable in the weights. The searched
    weights then mix the candidates' (rank-normalised) scores over the unlabeled pool, and
    the batch is drawn from that mixture: its top ``budget`` samples, or by coverage
    (``batch``).

    Parameters
    ----------
    random_state:
        Seeds FitNet, the splits, the search and tie-breaking.
    preset:
        ``"autoal"`` (default, chosen by ``benchmarks/select-v2.toml``'s rule: global
        weights, the ``shrinkage`` search from the ``budget`` prior over 2 x 2 cross-fitted
        problems, lookahead objective, k-means++ coverage query with the ``budget`` power;
        see :data:`~autoal.search.presets.PRESETS`), ``"autoal-v1"`` (wave 1's default:
        per-sample weights, lookahead objective, Adam, top-b query) or ``"paper"``
        (per-sample SearchNet, max-loss objective, Gaussian-mixture threshold, loss module,
        alternating FitNet step). ``candidates``, ``weights``, ``objective``,
        ``threshold``, ``loss_module``, ``coverage``, ``fitnet_alternations``, ``batch``,
        ``search``, ``prior``, ``search_lr``, ``kappa``, ``n_resplits``, ``coverage_power``
        and ``coverage_pool`` default to the preset's value when None (``paper`` and
        ``autoal-v1``: the paper's seven candidates, ``search_lr`` 0.1, ``kappa`` 2,
        ``n_resplits`` 1, ``coverage_power`` 1, ``coverage_pool`` ``"all"``).
    weights:
        ``"global"`` (one set of mixture weights) or ``"per-sample"`` (a SearchNet).
    objective:
        What the search maximises: ``"max_loss"``; ``"lookahead"``; ``"balance"`` (the
        entropy of the selected set's soft class histogram); or ``"hindsight"`` (reward each
        candidate by how its part of the last batch, labeled now, lowers a probe's held-out
        loss; global weights and the ``shrinkage`` search, which it sets where they are left
        None; no FitNet; see :mod:`autoal.search.hindsight`). The hindsight reward needs the
        same strategy object across rounds: one rebuilt each round (a labeling campaign
        rebuilds it) knows no previous batch and uses the prior's weights, and its
        ``round_info()["search"]["hindsight"]`` says ``"no previous batch"``.
    threshold, loss_module, coverage:
        ``"quantile"`` | ``"gmm"``; whether a loss-prediction module feeds the SearchNet;
        weight ``gamma`` of the class-coverage bonus (0 = off).
    candidates:
        Names of registered strategies to mix (a list, or one comma-separated string);
        K >= 1. Default: the preset's.
    ablation:
        ``"none"``; ``"uniform"`` (equal weights, no search); ``"frozen"`` (untrained
        random weights: what the authors' released code effectively does);
        ``"no-loss-module"``; ``"prior"`` (the prior's weights, no search).
    n_folds:
        Cross-fitting parts (>= 2); every part is scored once by a FitNet trained on the rest.
        ``hindsight``: the stratified parts of the labeled set before the last batch, each
        held out once to judge the probe.
    fitnet_model, fitnet_epochs, fitnet_mc_samples:
        FitNet's architecture (``"auto"``: CNN for images, MLP for vectors), training epochs
        and MC dropout samples.
    search_steps, search_lr, weight_decay:
        Steps and learning rate of the search (Adam's, or the ``shrinkage`` and
        ``hindsight`` searches' steps of ``search_lr`` per logit), and weight decay (SearchNet
        only; without it a per-sample SearchNet overfits the scored part and misses planted
        signal). ``search_lr`` None: the preset's.
    select_fraction:
        Fraction ``t`` of the scored part that the soft selection takes; ``hindsight``: each
        candidate's part of the last batch of ``b`` is its ``ceil(t * b)`` highest-scored
        samples.
    tau_start, tau_end:
        Soft-selection temperature, annealed from ``tau_start * std(s)`` to
        ``tau_end * std(s)``.
    budget_weight:
        Weight of the budget penalty ``((alpha - t n) / (t n))^2`` (``gmm`` threshold only;
        the ``quantile`` threshold holds the soft count exactly).
    gmm_every:
        Search steps between refits of the ``gmm`` threshold's Gaussian mixture.
    fitnet_alternations:
        The paper's alternating step, repeated this many times after the first search:
        retrain each FitNet also on its candidates weighted by the search's soft selection,
        rebuild the problems, and search again from the current weights (0 = off; each
        alternation costs one more round of FitNet training). Default: the preset's
        (``paper``: 1, ``autoal``: 0).
    ridge:
        Ridge strength of the lookahead head, relative to its training size.
    warm_start, momentum:
        Start each round's search from the previous round's weights; with ``momentum`` in
        ``[0, 1)`` the used weights are a moving average across rounds.
    batch:
        How the query draws the batch from the searched mixture ``s``: ``"topk"`` (the
        paper's: the ``budget`` highest ``s``), ``"coverage"`` (weighted kernel herding with
        ``s`` as the weight: Uncertainty Herding with the mixture in place of the margin) or
        ``"kmeanspp"`` (k-means++ seeding with probabilities proportional to ``s`` times the
        squared distance); see :mod:`autoal.search.coverage_query`. Default: the preset's.
    coverage_power:
        The coverage query's weight is ``s ** coverage_power``; ``"budget"``: the power is
        the labels per class over the prior's half point (10), see
        :func:`~autoal.search.coverage_query.budget_power`. None: the preset's.
    coverage_pool:
        Where the coverage query draws from: ``"all"`` (the whole pool) or ``"budget"``
        (the top ``b (N / b) ** d`` of ``s``, ``d`` the diversity share of
        :func:`~autoal.search.prior.diversity_share` for the labels per class: the whole
        pool with few labels, nearly the top ``b`` with many). None: the preset's.
    search:
        ``"adam"`` (Adam on the objective, :func:`~autoal.search.trainer.run_search`) or
        ``"shrinkage"`` (global weights only: start at the prior, move each logit by
        ``search_lr`` per step times a James-Stein factor of the gradient's signal-to-noise
        over the cross-fitted problems; see :mod:`autoal.search.shrinkage`). Default: the
        preset's (``autoal``'s is ``"shrinkage"``, so per-sample weights need
        ``search="adam"`` or ``preset="autoal-v1"``).
    prior:
        ``"uniform"`` or ``"budget"`` (diversity candidates with few labels per class, margin
        with many; see :mod:`autoal.search.prior`): where the ``shrinkage`` search starts,
        and the ``prior`` ablation's weights. Default: the preset's.
    kappa:
        The ``shrinkage`` (and ``hindsight``) search moves a logit only where its mean
        gradient is more than ``kappa`` standard errors from zero. None: the preset's.
    n_resplits:
        Problems per cross-fitting rotation (different random halves of the held-out part,
        one FitNet); the ``shrinkage`` search reads their spread as noise. ``hindsight``: the
        number of different ``n_folds`` splits of the labeled set before the last batch.
        None: the preset's.
    representation:
        Space of the coverage query: ``"model"`` (the task model's embeddings) or
        ``"features"`` (label-free ``Evidence.features``).
    device:
        Device of FitNet. ``"auto"``: the task model's device when the evidence names it
        (``Evidence.device``), else CUDA when available.
    exact_max_samples:
        The coverage query's largest draw read whole: above ``max(exact_max_samples, 2 *
        budget)`` rows it draws from a sample of that many (the heaviest half and a
        uniform half; see :func:`~autoal.search.coverage_query.coverage_batch`), recorded
        as ``approximation_of`` in the round's query record.
    """

    name = "autoal"
    stateful = True
    #: Resolved options that older run files lack, with the values they ran with.
    legacy_resolved: ClassVar[dict[str, Any]] = LEGACY_RESOLVED

    def __init__(
        self,
        random_state: int | None = None,
        preset: str = "autoal",
        candidates: tuple[str, ...] | list[str] | str | None = None,
        weights: str | None = None,
        objective: str | None = None,
        threshold: str | None = None,
        loss_module: bool | None = None,
        coverage: float | None = None,
        ablation: str = "none",
        n_folds: int = 2,
        fitnet_model: str = "auto",
        fitnet_epochs: int = 10,
        fitnet_mc_samples: int = 20,
        search_steps: int = 100,
        search_lr: float | None = None,
        weight_decay: float = 1e-2,
        select_fraction: float = 0.25,
        tau_start: float = 1.0,
        tau_end: float = 0.05,
        budget_weight: float = 1.0,
        gmm_every: int = 10,
        fitnet_alternations: int | None = None,
        ridge: float = 0.1,
        warm_start: bool = True,
        momentum: float = 0.0,
        device: str = "auto",
        batch: str | None = None,
        coverage_power: float | str | None = None,
        coverage_pool: str | None = None,
        representation: str = "model",
        search: str | None = None,
        prior: str | None = None,
        kappa: float | None = None,
        n_resplits: int | None = None,
        exact_max_samples: int = EXACT_MAX_SAMPLES,
    ) -> None:
        super().__init__(random_state)
        self.preset = preset
        self.candidates = candidates
        self.weights = weights
        self.objective = objective
        self.threshold = threshold
        self.loss_module = loss_module
        self.coverage = coverage
        self.ablation = ablation
        self.n_folds = n_folds
        self.fitnet_model = fitnet_model
        self.fitnet_epochs = fitnet_epochs
        self.fitnet_mc_samples = fitnet_mc_samples
        self.search_steps = search_steps
        self.search_lr = search_lr
        self.weight_decay = weight_decay
        self.select_fraction = select_fraction
        self.tau_start = tau_start
        self.tau_end = tau_end
        self.budget_weight = budget_weight
        self.gmm_every = gmm_every
        self.fitnet_alternations = fitnet_alternations
        self.ridge = ridge
        self.warm_start = warm_start
        self.momentum = momentum
        self.device = device
        self.batch = batch
        self.coverage_power = coverage_power
        self.coverage_pool = coverage_pool
        self.representation = representation
        self.search = search
        self.prior = prior
        self.kappa = kappa
        self.n_resplits = n_resplits
        self.exact_max_samples = exact_max_samples
        self._state: dict[str, Any] = {}
        self._info: dict[str, Any] = {}

    # -- configuration ------------------------------------------------------------------------
    def validate(self) -> None:
        """Check the options (cheap; no work): a bad one raises ValueError naming it."""
        check_options(self)

    def resolved(self) -> dict[str, Any]:
        """The effective options: the preset's values where an option is None."""
        preset = PRESETS.get(self.preset, PRESETS["autoal"])
        cfg = {
            key: preset[key] if getattr(self, key) is None else getattr(self, key)
            for key in PRESET_KEYS
        }
        if isinstance(cfg["candidates"], str):
            cfg["candidates"] = [c.strip() for c in cfg["candidates"].split(",") if c.strip()]
        if self.ablation == "no-loss-module":
            cfg["loss_module"] = False
        if cfg["objective"] == "hindsight":  # its own search; the preset's yield, not the user's
            cfg["weights"] = self.weights or "global"
            cfg["search"] = self.search or "shrinkage"
        cfg["candidates"] = tuple(cfg["candidates"])
        return cfg

    @property
    def requires(self) -> tuple[str, ...]:
        """Evidence fields needed: the candidates' own, plus the raw labeled data to search.
        Checks the options first."""
        self.validate()
        cfg = self.resolved()
        needed: list[str] = []
        for cand in self._candidate_strategies():
            needed += [f for f in cand.requires if f not in needed]
        if self._searches(cfg):
            needed += ["inputs", "labeled_inputs", "labeled_targets"]
        counts = [] if self.ablation != "prior" and cfg["prior"] == "uniform" else ["prior"]
        if cfg["batch"] != "topk":  # (the labeled set's vectors come with the pool's)
            space = "features" if self.representation == "features" else "embeddings"
            needed += [space] if space not in needed else []
            counts += [o for o in ("coverage_pool", "coverage_power") if cfg[o] == "budget"]
        # labels per class: the labeled set's size, which every learner gives with its
        # probabilities (no embeddings needed, e.g. for a scikit-learn model)
        if counts and not {"labeled_targets", "labeled_probs"} & set(needed):
            needed.append("labeled_probs")
        return tuple(needed)

    def _searches(self, cfg: dict[str, Any]) -> bool:
        """Whether a search runs (and reads the raw data): not under the ``uniform``,
        ``prior`` or global ``frozen`` ablations, which fix the weights."""
        return self.ablation not in ("uniform", "prior") and not (
            self.ablation == "frozen" and cfg["weights"] == "global"
        )

    def _candidate_strategies(self) -> list[QueryStrategy]:
        if "candidates" not in self._state:
            seed = 0 if self.random_state is None else int(self.random_state)
            self._state["candidates"] = [
                get_strategy(name, random_state=seed + 7 * (k + 1))
                for k, name in enumerate(self.resolved()["candidates"])
            ]
        return self._state["candidates"]

    # -- the query ------------------------------------------------------------------------
    def candidate_scores(self, evidence: Evidence, budget: int | None) -> np.ndarray:
        """Rank-normalised scores of every candidate, ``(N, K)``, ranked a candidate at a time
        (one candidate's raw scores held at once: the same values as ranking them stacked)."""
        candidates = self._candidate_strategies()
        ranked: np.ndarray | None = None
        for k, candidate in enumerate(candidates):
            column = rank_normalise(candidate.score(evidence, budget=budget))
            if ranked is None:  # column-major, as rank_normalise returns a stack
                ranked = np.empty((len(column), len(candidates)), order="F")
            ranked[:, k] = column[:, 0]
        assert ranked is not None  # at least one candidate (checked by validate)
        return ranked

    def score(self, evidence: Evidence, budget: int | None = None) -> np.ndarray:
        """The searched mixture's combined score over the pool, ``(N,)``; with a budget and a
        coverage query (``batch`` not ``"topk"``), the scores behind that query's batch: the
        batch first, in pick order, as every batch strategy's."""
        n = self._check(evidence)
        budget = None if budget is None else check_budget(budget, n)
        cfg = self.resolved()
        if budget is None or cfg["batch"] == "topk":
            return self._mixture(evidence, budget)[0]
        return self._coverage_draw(evidence, budget, cfg)[2]

    def _mixture(self, evidence: Evidence, budget: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The combined score ``(N,)`` and the candidates' scores ``(N, K)`` behind it."""
        cfg = self.resolved()
        seconds: dict[str, float] = {}
        t0 = time.perf_counter()
        scores = self.candidate_scores(evidence, budget)
        seconds["score"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        model, features, search_info = self._search(evidence, cfg, n_classes_of(evidence))
        # a pool on disk is passed through the weight model a chunk of rows at a time
        s, weights_np = mix_pool(model, scores, features, chunked=is_file_backed(evidence.inputs))
        seconds["search"] = time.perf_counter() - t0
        self._info = {
            "weights": dict(zip(cfg["candidates"], weights_np.mean(axis=0).tolist(), strict=True)),
            "search": search_info,
            "seconds": seconds,
            "_pool_weights": weights_np,
        }
        return s, scores

    def select(self, evidence: Evidence, budget: int) -> np.ndarray:
        """The batch drawn from the combined score: its top ``budget`` (``batch="topk"``, ties
        broken by the seeded generator) or a coverage query weighted by it."""
        n = self._check(evidence)
        budget = check_budget(budget, n)
        cfg = self.resolved()
        if cfg["batch"] == "topk":
            s, scores = self._mixture(evidence, budget)
            idx = self._pick(s, budget)
        else:
            idx, scores, self.last_scores_ = self._coverage_draw(evidence, budget, cfg)
        if cfg["objective"] == "hindsight" and self._searches(cfg):  # next round's reward
            remember_batch(self, evidence, idx, scores, n_labeled(evidence))
        pool_weights = self._info.pop("_pool_weights")
        self._info["batch_weights"] = dict(
            zip(cfg["candidates"], pool_weights[idx].mean(axis=0).tolist(), strict=True)
        )
        return idx

    def _coverage_draw(
        self, evidence: Evidence, budget: int, cfg: dict[str, Any]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The coverage query's batch, the candidates' scores ``(N, K)`` and the scores behind
        the pick (the batch first, in pick order, then the mixture); ``cfg``: resolved()."""
        s, scores = self._mixture(evidence, budget)
        t0 = time.perf_counter()
        pool, labeled = raw_space_of(evidence, self.representation)  # not copied whole
        d = diversity_share(n_labeled(evidence), n_classes_of(evidence))
        top = coverage_top(len(s), budget, d) if cfg["coverage_pool"] == "budget" else None
        power = budget_power(d) if cfg["coverage_power"] == "budget" else cfg["coverage_power"]
        idx, record = coverage_batch(cfg["batch"], s, pool, labeled, budget, self.rng,
                                     power=float(power), top=top,
                                     exact_max_samples=self.exact_max_samples)
        record["power"] = float(power)
        self._info["query"] = {"batch": cfg["batch"], **record}
        self._info["seconds"]["query"] = time.perf_counter() - t0
        return idx, scores, batch_first_scores(idx, s - s.min())

    def round_info(self) -> dict[str, Any]:
        """Mean candidate weights over the pool and the batch, the search record, timings."""
        return {k: v for k, v in self._info.items() if not k.startswith("_")}

    # -- the search -----------------------------------------------------------------------
    def _search(
        self, evidence: Evidence, cfg: dict[str, Any], n_classes: int
    ) -> tuple[torch.nn.Module, Any, dict[str, Any]]:
        """Return the weight model, the pool-feature maker (per-sample) and the search record."""
        return search_round(self, evidence, cfg, n_classes)
