"""AutoAL's coverage-aware query on planted geometry: spread over clusters, tilted by score."""

from __future__ import annotations

import numpy as np
import pytest

from autoal import Evidence
from autoal.search import AutoAL
from autoal.search.coverage_query import coverage_batch, weighted_kmeanspp

N_CLUSTERS, PER_CLUSTER = 5, 60


def planted(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Five tight, well separated clusters; only cluster 0 has high scores."""
    rng = np.random.default_rng(seed)
    centres = 10.0 * np.eye(N_CLUSTERS, 8)
    cluster = np.repeat(np.arange(N_CLUSTERS), PER_CLUSTER)
    pool = centres[cluster] + 0.3 * rng.normal(size=(len(cluster), 8))
    score = np.where(cluster == 0, 0.8 + 0.2 * rng.random(len(cluster)),
                     0.4 * rng.random(len(cluster)))
    return pool, score, cluster


@pytest.mark.parametrize("mode", ["coverage", "kmeanspp"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coverage_spreads_over_clusters_and_leans_to_the_high_score_one(mode, seed):
    pool, score, cluster = planted(seed)
    idx, _ = coverage_batch(mode, score, pool, None, 10, np.random.default_rng(seed))
    assert len(set(idx.tolist())) == 10
    counts = np.bincount(cluster[idx], minlength=N_CLUSTERS)
    assert (counts > 0).all()  # every cluster covered (top-10 of the score: only cluster 0)
    if mode == "coverage":  # herding: the weight decides how much of the batch a region gets
        assert counts[0] == counts.max()
    else:  # k-means++: the weight decides where it starts; distance dominates after
        assert cluster[idx[0]] == 0


def test_top_scores_alone_crowd_into_one_cluster():
    """The failure the coverage query removes: the top 10 are all in cluster 0."""
    pool, score, cluster = planted(0)
    assert set(cluster[np.argsort(-score)[:10]].tolist()) == {0}


def test_herding_skips_clusters_the_labeled_set_covers():
    pool, score, cluster = planted(0)
    score = np.ones_like(score)  # no tilt: pure coverage
    labeled = pool[cluster < 3][::20]  # a few labels in clusters 0-2 (the radius needs >= 2)
    idx, record = coverage_batch("coverage", score, pool, labeled, 2, np.random.default_rng(0))
    assert set(cluster[idx].tolist()) == {3, 4}
    assert record["sigma"] > 0


def test_kmeanspp_never_draws_zero_weight_points_while_others_remain():
    pool, _, cluster = planted(0)
    weight = (cluster >= 2).astype(float)
    idx = weighted_kmeanspp(pool, None, weight, 30, np.random.default_rng(0))
    assert set(cluster[idx].tolist()) <= {2, 3, 4}
    assert len(set(idx.tolist())) == 30


def test_bad_mode_and_power_name_the_problem():
    pool, score, _ = planted(0)
    with pytest.raises(ValueError, match="batch mode"):
        coverage_batch("topk", score, pool, None, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="power"):
        coverage_batch("coverage", score, pool, None, 3, np.random.default_rng(0), power=-1.0)


def _evidence(seed: int = 0) -> tuple[Evidence, np.ndarray]:
    """Pool evidence where margin is high (the model unsure) only in cluster 0."""
    pool, _, cluster = planted(seed)
    rng = np.random.default_rng(seed)
    sure = np.full((len(cluster), 3), 0.02)
    sure[np.arange(len(cluster)), cluster % 3] = 0.96
    unsure = np.array([0.34, 0.33, 0.33]) + 0.01 * rng.random((len(cluster), 3))
    probs = np.where((cluster == 0)[:, None], unsure / unsure.sum(1, keepdims=True), sure)
    return Evidence(probs=probs, embeddings=pool), cluster


@pytest.mark.parametrize("batch,spread", [("topk", False), ("coverage", True),
                                          ("kmeanspp", True)])
def test_autoal_batch_option(batch, spread):
    evidence, cluster = _evidence()
    strategy = AutoAL(random_state=0, candidates=("margin", "entropy"), ablation="uniform",
                      preset="autoal-v1", batch=batch)
    idx = strategy.select(evidence, 10)
    covered = set(cluster[idx].tolist())
    assert (covered == set(range(N_CLUSTERS))) if spread else (covered == {0})
    if spread:
        assert strategy.round_info()["query"]["batch"] == batch
        assert "query" in strategy.round_info()["seconds"]


def test_autoal_coverage_needs_embeddings_and_is_deterministic():
    evidence, _ = _evidence()
    strategy = AutoAL(random_state=3, candidates=("margin",), ablation="uniform",
                      preset="autoal-v1", batch="coverage")
    assert "embeddings" in strategy.requires
    again = AutoAL(random_state=3, candidates=("margin",), ablation="uniform",
                   preset="autoal-v1", batch="coverage")
    assert np.array_equal(strategy.select(evidence, 7), again.select(evidence, 7))
    with pytest.raises(ValueError, match="batch"):
        AutoAL(batch="top").validate()


def test_coverage_top_exact():
    from autoal.search.coverage_query import coverage_top

    assert coverage_top(20000, 100, 0.0) == 100
    assert coverage_top(20000, 100, 1.0) == 20000
    assert coverage_top(20000, 100, 0.5) == round(100 * 200**0.5)
    with pytest.raises(ValueError, match="diversity"):
        coverage_top(100, 10, 1.5)


@pytest.mark.parametrize("mode", ["coverage", "kmeanspp"])
def test_coverage_restricted_to_the_top_stays_there(mode):
    pool, score, cluster = planted(0)
    idx, record = coverage_batch(mode, score, pool, None, 10, np.random.default_rng(0), top=40)
    assert set(cluster[idx].tolist()) == {0}  # the top 40 scores are all in cluster 0
    assert record["drawn_from"] == 40
    top_set = set(np.argsort(-score)[:40].tolist())
    assert set(idx.tolist()) <= top_set and len(set(idx.tolist())) == 10


def test_autoal_coverage_pool_follows_labels_per_class():
    evidence, cluster = _evidence()
    many = np.zeros((3000, 8))  # 1,000 labels per class: the draw is nearly the top b
    few = np.zeros((3, 8))      # 1 label per class: nearly the whole pool
    picks = {}
    for name, labeled in (("many", many), ("few", few)):
        ev = Evidence(probs=evidence.probs, embeddings=evidence.embeddings,
                      labeled_embeddings=labeled, labeled_probs=np.full((len(labeled), 3), 1 / 3))
        strategy = AutoAL(random_state=0, candidates=("margin",), ablation="uniform",
                          batch="kmeanspp", coverage_pool="budget")
        picks[name] = set(cluster[strategy.select(ev, 10)].tolist())
        assert "labeled_probs" in strategy.requires
    assert picks["many"] == {0} and len(picks["few"]) >= 4


def test_budget_power_is_labels_per_class_over_the_half_point():
    from autoal.search.coverage_query import budget_power
    from autoal.search.prior import diversity_share

    assert budget_power(diversity_share(100, 10)) == pytest.approx(1.0)
    assert budget_power(diversity_share(1000, 10)) == pytest.approx(10.0)
    assert budget_power(diversity_share(20, 10)) == pytest.approx(0.2)
    assert budget_power(1e-6) == 50.0
    with pytest.raises(ValueError, match="diversity"):
        budget_power(0.0)


def test_autoal_budget_power_narrows_the_draw_as_labels_grow():
    evidence, cluster = _evidence()
    picks, powers = {}, {}
    for name, n_lab in (("many", 3000), ("few", 3)):
        ev = Evidence(probs=evidence.probs, embeddings=evidence.embeddings,
                      labeled_embeddings=np.zeros((n_lab, 8)),
                      labeled_probs=np.full((n_lab, 3), 1 / 3))
        strategy = AutoAL(random_state=0, candidates=("margin",), ablation="uniform",
                          batch="kmeanspp", coverage_power="budget")
        picks[name] = cluster[strategy.select(ev, 10)]
        powers[name] = strategy.round_info()["query"]["power"]
    assert powers["many"] == 50.0 and powers["few"] == pytest.approx(0.1)
    assert (picks["many"] == 0).sum() > (picks["few"] == 0).sum()
    with pytest.raises(ValueError, match="coverage_power"):
        AutoAL(coverage_power="sharp").validate()


@pytest.mark.parametrize("batch", ["topk", "kmeanspp", "coverage"])
def test_autoal_score_with_a_budget_ranks_the_batch_its_select_draws(batch):
    """score(budget) holds select's batch as its top b, in pick order, in every query mode;
    without a budget it is the mixture itself."""
    evidence, _ = _evidence()
    opts = {"candidates": ("margin", "entropy"), "ablation": "uniform", "preset": "autoal-v1",
            "batch": batch}
    picked = AutoAL(random_state=4, **opts).select(evidence, 10)
    scores = AutoAL(random_state=4, **opts).score(evidence, 10)
    assert set(np.argsort(-scores, kind="stable")[:10].tolist()) == set(picked.tolist())
    if batch != "topk":
        assert np.all(np.diff(scores[picked]) < 0)  # pick order
        mixture = AutoAL(random_state=4, **opts).score(evidence)
        assert not np.array_equal(mixture, scores)
        # the mixture ranks cluster 0's uncertain points first; the batch covers every cluster
        assert set(np.argsort(-mixture)[:10].tolist()) != set(picked.tolist())


def test_the_coverage_query_needs_its_space_and_the_budget_options_a_labeled_count():
    plain = {"candidates": ("margin",), "ablation": "uniform", "prior": "uniform",
             "preset": "autoal-v1"}
    assert AutoAL(batch="topk", **plain).requires == ("probs",)
    query = AutoAL(batch="kmeanspp", **plain).requires
    assert query == ("probs", "embeddings")  # a learner gives the labeled set's with them
    features = AutoAL(batch="coverage", representation="features", **plain).requires
    assert features == ("probs", "features")
    # the budget options count labels per class: the labeled set's probabilities say how many
    power = AutoAL(batch="kmeanspp", coverage_power="budget", **plain).requires
    assert power == (*query, "labeled_probs")
    assert AutoAL(batch="topk", coverage_power="budget", **plain).requires == ("probs",)
    prior = {**plain, "prior": "budget", "ablation": "prior"}
    assert AutoAL(batch="topk", **prior).requires == ("probs", "labeled_probs")
    # the default preset: the search's inputs and targets, the query's embeddings
    assert set(AutoAL(candidates=("margin",)).requires) == {
        "probs", "inputs", "labeled_inputs", "labeled_targets", "embeddings"}


@pytest.mark.parametrize("mode", ["coverage", "kmeanspp"])
def test_a_pool_above_the_exact_size_is_drawn_from_a_bounded_sample(mode):
    """300 rows with an exact size of 100: the draw reads 100 of them (the 50 heaviest and 50
    more), still covers the planted clusters, returns pool indices, and says so."""
    pool, score, cluster = planted(3)
    pool32 = pool.astype(np.float32)  # as a memory-mapped pool is stored
    idx, record = coverage_batch(mode, score, pool32, None, 10, np.random.default_rng(3),
                                 exact_max_samples=100)
    assert record["approximation_of"] == 300 and record["drawn_from"] == 100
    assert len(set(idx.tolist())) == 10 and idx.min() >= 0 and idx.max() < 300
    assert (np.bincount(cluster[idx], minlength=N_CLUSTERS) > 0).all()
    # with a sharp weight the 50 heaviest rows (cluster 0's) are kept and win the draw
    sharp, _ = coverage_batch(mode, score, pool32, None, 10, np.random.default_rng(3),
                              power=50.0, exact_max_samples=100)
    assert (cluster[sharp] == 0).sum() >= 5
    exact, record = coverage_batch(mode, score, pool32, None, 10, np.random.default_rng(3))
    assert "approximation_of" not in record and record["drawn_from"] == 300


@pytest.mark.parametrize("mode", ["coverage", "kmeanspp"])
def test_a_budget_above_the_exact_size_samples_twice_the_budget(mode):
    pool, score, _ = planted(4)
    idx, record = coverage_batch(mode, score, pool, None, 40, np.random.default_rng(4),
                                 exact_max_samples=10)
    assert record["drawn_from"] == 80 and record["approximation_of"] == 300
    assert len(set(idx.tolist())) == 40 and idx.max() < 300
    top, record = coverage_batch(mode, score, pool, None, 10, np.random.default_rng(4),
                                 top=150, exact_max_samples=40)
    assert record["drawn_from"] == 40 and record["approximation_of"] == 150
    assert len(set(top.tolist())) == 10


def test_top_and_uniform_rows_keep_the_top_half_and_the_rest_s_mass():
    from autoal.strategies.subsample import top_and_uniform_rows

    values = np.arange(100.0)
    rows, weight = top_and_uniform_rows(np.random.default_rng(0), values, 20)
    assert np.all(np.diff(rows) > 0) and len(rows) == 20
    assert set(range(90, 100)) <= set(rows.tolist())  # the 10 highest, weight 1
    assert weight[rows >= 90].tolist() == [1.0] * 10
    assert np.allclose(weight[rows < 90], 9.0)  # 90 rows left, 10 drawn: rate 1/9
    assert weight.sum() == 100.0  # every row's mass accounted for once


def _rare_and_faint(n_rare: int = 5, n_faint: int = 9000) -> tuple[np.ndarray, np.ndarray]:
    """Two points in different directions (unit rows), a labeled point in a third: ``n_rare``
    rows of score 1 and ``n_faint`` rows of score 0.001, so that the faint rows hold 9 of the
    14 units of weight although each weighs almost nothing."""
    pool = np.zeros((n_rare + n_faint, 3))
    pool[:n_rare, 0] = 1.0
    pool[n_rare:, 1] = 1.0
    score = np.r_[np.ones(n_rare), np.full(n_faint, 0.001)]
    return pool, score


def test_the_sample_keeps_the_heaviest_rows_and_the_mass_of_the_rest():
    """k-means++'s first pick from the sample has the exact draw's odds (5 : 9 for the rare
    rows, D^2 being equal): the rare rows must be kept (a uniform sample loses them: odds
    near 0) and the faint half reweighted by its sampling rate (unweighted: 5 : 0.1)."""
    pool, score = _rare_and_faint()
    labeled = np.array([[0.0, 0.0, 1.0]])
    rare = 0
    for seed in range(40):
        idx, record = coverage_batch("kmeanspp", score, pool, labeled, 1,
                                     np.random.default_rng(seed), exact_max_samples=100)
        rare += int(idx[0] < 5)
    assert record["approximation_of"] == 9005 and record["drawn_from"] == 100
    assert 6 <= rare <= 24  # 40 x 5/14 = 14.3 expected; binomial sd 3


def test_herding_on_the_sample_weighs_the_rest_s_mass():
    """Herding's first pick goes where the weight mass is: the faint rows' 9 units against
    the rare rows' 5, as the exact draw does; without the sampling rate it would be 5 : 0.1."""
    pool, score = _rare_and_faint()
    labeled = np.array([[0.0, 0.0, 1.0], [0.0, 0.6, 0.8]])  # the radius needs two
    exact, _ = coverage_batch("coverage", score, pool, labeled, 1, np.random.default_rng(0))
    sampled, _ = coverage_batch("coverage", score, pool, labeled, 1, np.random.default_rng(0),
                                exact_max_samples=100)
    assert exact[0] >= 5 and sampled[0] >= 5


def test_top_and_uniform_rows_draw_ties_at_the_edge_at_random_and_only_then():
    from autoal.strategies.subsample import top_and_uniform_rows, uniform_rows

    flat = np.ones(100_000)
    tops = []
    for seed in (0, 1):
        rows, weight = top_and_uniform_rows(np.random.default_rng(seed), flat, 10_000)
        tops.append(rows[weight == 1.0])  # the top half (the rest weighs 95,000 / 5,000)
    assert len(tops[0]) == 5000 and set(tops[0].tolist()) != set(tops[1].tolist())
    assert abs(tops[0].mean() - 49_999.5) < 2000  # uniform over the rows (sd about 400)
    # distinct values: no draw for the top half, so the uniform half is what it was
    rng = np.random.default_rng(5)
    rows, _ = top_and_uniform_rows(rng, np.arange(100.0), 20)
    again = np.random.default_rng(5)
    assert rows[:10].tolist() == (np.arange(90)[uniform_rows(again, 90, 10)]).tolist()
    assert rng.random() == again.random()


def test_autoal_passes_its_exact_size_to_the_coverage_query():
    evidence, _ = _evidence()
    opts = {"candidates": ("margin",), "ablation": "uniform", "preset": "autoal-v1",
            "batch": "kmeanspp"}
    strategy = AutoAL(random_state=0, exact_max_samples=100, **opts)
    strategy.select(evidence, 10)
    assert strategy.round_info()["query"]["approximation_of"] == 300
    whole = AutoAL(random_state=0, **opts)
    whole.select(evidence, 10)
    assert "approximation_of" not in whole.round_info()["query"]
    with pytest.raises(ValueError, match="exact_max_samples"):
        AutoAL(exact_max_samples=0).validate()
