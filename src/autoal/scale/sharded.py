"""Sharded pool scoring on Ray: one actor per shard, exact top-k merge, two-stage diversity.

Each actor memory-maps its shard and keeps the model head once; it computes the evidence
(probabilities, MC draws) and the strategy's scores a bounded chunk of rows at a time.

* Score strategies (their score of a sample depends on that sample alone): every shard
  returns its own top ``budget`` with their scores; the driver's top ``budget`` of the union
  is exactly the top ``budget`` of the whole pool (ties broken by pool index).
* Diversity strategies (kmeans, coreset, badge): every shard runs the strategy on its own
  rows to propose ``candidates_per_shard`` samples and sends their embeddings and
  probabilities; the driver runs the same strategy on the union of the proposals. This is
  an approximation; docs/scale.md gives its measured quality against one machine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autoal.chunks import chunk_rows
from autoal.evidence import Evidence
from autoal.scale.head import LinearHead
from autoal.scale.ray_engine import connect
from autoal.scale.shards import ShardedPool
from autoal.strategies import get_strategy

__all__ = ["POINTWISE_STRATEGIES", "ShardScorer", "merge_top_k", "sharded_select"]

#: Strategies whose score of a sample depends on that sample alone: merged exactly.
POINTWISE_STRATEGIES = frozenset(
    {"least_confidence", "margin", "entropy", "var_ratio", "mean_std", "bald"}
)
#: Diversity strategies selected in two stages.
TWO_STAGE_STRATEGIES = frozenset({"kmeans", "coreset", "badge"})


def merge_top_k(scores: np.ndarray, index: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` highest ``scores`` (ties: lower ``index`` first) and their ``index``."""
    order = np.lexsort((index, -scores))[:k]
    return scores[order], index[order]


class ShardScorer:
    """Scores one shard; used as a Ray actor (``ray.remote(ShardScorer)``) or directly.

    Parameters
    ----------
    pool:
        The sharded pool (its paths must be readable where the actor runs).
    shard:
        Which shard this scorer holds.
    head:
        The model head that turns embeddings into probabilities and MC draws.
    """

    def __init__(self, pool: ShardedPool, shard: int, head: LinearHead) -> None:
        self.embeddings = pool.load(shard)
        self.first_row = pool.offsets[shard]
        self.head = head

    def _evidence(self, rows: slice, needs: tuple[str, ...]) -> Evidence:
        emb = self.embeddings[rows]
        fields: dict[str, Any] = {"embeddings": emb}
        if "probs" in needs:
            fields["probs"] = self.head.probs(emb)
        if "mc_probs" in needs:
            fields["mc_probs"] = self.head.mc_probs(emb, first_row=self.first_row + rows.start)
        return Evidence(**fields)

    def top_k(self, strategy: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """This shard's ``k`` best scores of a score strategy and their pool indices."""
        if strategy not in POINTWISE_STRATEGIES:
            raise ValueError(f"{strategy!r} is not a per-sample score strategy")
        scorer = get_strategy(strategy)
        n = len(self.embeddings)
        step = chunk_rows(self.embeddings.shape[1] + scorer_width(scorer, self.head))
        best_s, best_i = np.empty(0), np.empty(0, dtype=np.int64)
        for start in range(0, n, step):
            rows = slice(start, min(n, start + step))
            scores = scorer.score(self._evidence(rows, scorer.requires))
            index = np.arange(rows.start, rows.stop, dtype=np.int64) + self.first_row
            best_s, best_i = merge_top_k(
                np.concatenate([best_s, scores]), np.concatenate([best_i, index]), k
            )
        return best_s, best_i

    def propose(
        self,
        strategy: str,
        n_candidates: int,
        random_state: int,
        labeled_embeddings: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A diversity strategy's ``n_candidates`` picks from this shard: their pool
        indices, embeddings and probabilities."""
        n = len(self.embeddings)
        ev = Evidence(
            embeddings=self.embeddings,
            probs=self.head.probs(self.embeddings),
            labeled_embeddings=labeled_embeddings,
        )
        picks = np.sort(
            get_strategy(strategy, random_state=random_state).select(ev, min(n_candidates, n))
        )
        assert ev.probs is not None
        return picks + self.first_row, np.asarray(self.embeddings[picks]), ev.probs[picks]


def scorer_width(strategy: Any, head: LinearHead) -> int:
    """Float64 values per row that scoring a chunk holds (probabilities and MC draws)."""
    c = head.n_classes
    return 4 * c + (4 * head.mc_samples * c if "mc_probs" in strategy.requires else 0)


def _run_on_actors(
    ray: Any, pool: ShardedPool, head: LinearHead, call: str, args: tuple[Any, ...]
) -> list[Any]:
    """One actor per shard calls ``call(*args)``; each actor is ended as soon as its answer
    is in, which frees its CPU for the actors still waiting when shards outnumber CPUs."""
    actor_cls = ray.remote(num_cpus=1)(ShardScorer)
    actors = [actor_cls.remote(pool, s, head) for s in range(len(pool.paths))]
    refs = {getattr(a, call).remote(*args): i for i, a in enumerate(actors)}
    parts: list[Any] = [None] * len(actors)
    try:
        waiting = list(refs)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            i = refs[done[0]]
            parts[i] = ray.get(done[0])
            ray.kill(actors[i])
    finally:
        for a in actors:
            ray.kill(a)
    return parts


def sharded_select(
    pool: ShardedPool,
    head: LinearHead,
    strategy: str,
    budget: int,
    *,
    random_state: int = 0,
    candidates_per_shard: int | None = None,
    labeled_embeddings: np.ndarray | None = None,
    address: str | None = None,
    use_ray: bool = True,
) -> np.ndarray:
    """Select ``budget`` pool indices with one Ray actor per shard.

    Score strategies merge exactly (see the module docstring); diversity strategies propose
    ``candidates_per_shard`` (default ``2 * budget``) per shard and the driver selects.
    ``address`` is the Ray head's ``host:port`` (None: the connected or a new local cluster).
    ``use_ray=False`` scores the shards one after another in this process (same results).
    """
    if strategy not in POINTWISE_STRATEGIES | TWO_STAGE_STRATEGIES:
        raise ValueError(
            f"strategy {strategy!r} cannot be sharded; sharded strategies: "
            f"{', '.join(sorted(POINTWISE_STRATEGIES | TWO_STAGE_STRATEGIES))}"
        )
    if not 1 <= budget <= pool.n_samples:
        raise ValueError(f"budget {budget} is not in 1 .. {pool.n_samples} (the pool size)")
    per_shard = candidates_per_shard or 2 * budget
    args: tuple[Any, ...]
    if strategy in POINTWISE_STRATEGIES:
        call, args = "top_k", (strategy, budget)
    else:
        call, args = "propose", (strategy, per_shard, random_state, labeled_embeddings)
    shards = range(len(pool.paths))
    if not use_ray:
        parts = [getattr(ShardScorer(pool, s, head), call)(*args) for s in shards]
    else:
        parts = _run_on_actors(connect(address), pool, head, call, args)
    if strategy in POINTWISE_STRATEGIES:
        scores = np.concatenate([p[0] for p in parts])
        return merge_top_k(scores, np.concatenate([p[1] for p in parts]), budget)[1]
    index = np.concatenate([p[0] for p in parts])
    ev = Evidence(
        embeddings=np.concatenate([p[1] for p in parts]),
        probs=np.concatenate([p[2] for p in parts]),
        labeled_embeddings=labeled_embeddings,
    )
    return index[get_strategy(strategy, random_state=random_state).select(ev, budget)]
