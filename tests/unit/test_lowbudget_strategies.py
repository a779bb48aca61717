"""TypiClust, ProbCover, Uncertainty Herding, Cluster-Margin and TCM: formulas on tiny inputs
and behaviour on planted geometry (dense clusters plus isolated outliers)."""

from __future__ import annotations

import numpy as np
import pytest

from autoal import Evidence
from autoal.strategies import get_strategy
from autoal.strategies.cluster_margin import round_robin
from autoal.strategies.probcover import impure_distances, purity_radius
from autoal.strategies.typiclust import typicality
from autoal.strategies.uherding import (
    expected_calibration_error,
    fit_temperature,
    kernel_radius,
    temperature_scale,
)

D = 8
SIZE = 40
CENTRES = np.eye(D)[:4] * 10.0
# isolated outliers: each alone in a direction no cluster uses (also after unit scaling)
OUTLIERS = np.vstack([np.eye(D)[4:] * 10.0, -np.eye(D)[:1] * 10.0])


def planted(seed: int = 0, sizes=(SIZE,) * 4):
    """Four dense clusters along e_0..e_3 plus five isolated outliers; cluster id per point
    (-1 for outliers)."""
    rng = np.random.default_rng(seed)
    blobs = [c + rng.normal(scale=0.5, size=(s, D)) for c, s in zip(CENTRES, sizes, strict=False)]
    X = np.vstack(blobs)
    X = np.vstack([X, OUTLIERS + rng.normal(scale=0.1, size=OUTLIERS.shape)])
    cluster = np.r_[np.repeat(np.arange(len(sizes)), sizes), np.full(len(OUTLIERS), -1)]
    return X, cluster


def flat_probs(n: int) -> np.ndarray:
    return np.full((n, 4), 0.25)


# ------------------------------------------------------------------------------ TypiClust
def test_typicality_is_the_inverse_mean_distance_to_the_k_nearest_others():
    pts = np.array([[0.0], [1.0], [3.0]])
    np.testing.assert_allclose(typicality(pts, k=2), [1 / 2.0, 1 / 1.5, 1 / 2.5])
    np.testing.assert_allclose(typicality(pts, k=1), [1.0, 1.0, 1 / 2.0])
    # k larger than the set: all other points
    np.testing.assert_allclose(typicality(pts, k=20), typicality(pts, k=2))
    assert typicality(np.array([[5.0, 5.0]])).tolist() == [1.0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_typiclust_picks_a_typical_point_of_each_dense_cluster_and_no_outlier(seed):
    X, cluster = planted(seed)
    idx = get_strategy("typiclust", random_state=seed).select(Evidence(embeddings=X), budget=4)
    assert sorted(cluster[idx]) == [0, 1, 2, 3]
    for i in idx:
        members = X[cluster == cluster[i]]
        centre_dist = np.linalg.norm(members - members.mean(axis=0), axis=1)
        assert np.linalg.norm(X[i] - members.mean(axis=0)) < np.median(centre_dist)


def test_typiclust_skips_clusters_that_hold_a_labeled_point():
    X, cluster = planted(0)
    ev = Evidence(embeddings=X, labeled_embeddings=CENTRES[[2]])
    idx = get_strategy("typiclust", random_state=0).select(ev, budget=3)
    assert sorted(cluster[idx]) == [0, 1, 3]


def test_typiclust_takes_the_largest_uncovered_cluster_first():
    X, cluster = planted(0, sizes=(10, 60, 25, 40))
    idx = get_strategy("typiclust", random_state=0).select(Evidence(embeddings=X), budget=4)
    assert cluster[idx].tolist() == [1, 3, 2, 0]


# ------------------------------------------------------------------------------ ProbCover
def test_impure_distance_is_the_distance_to_the_nearest_other_label():
    pts = np.array([[0.0], [1.0], [5.0], [6.0]])
    np.testing.assert_allclose(impure_distances(pts, np.array([0, 0, 1, 1])), [5, 4, 4, 5])
    assert np.isinf(impure_distances(pts, np.zeros(4, dtype=int))).all()


def test_purity_radius_is_the_largest_radius_keeping_the_purity():
    d_imp = np.array([3.0, 0.5, 4.0, 1.0, 2.0])

    def purity(delta):  # open balls: pure while delta <= d_imp
        return np.mean(delta <= d_imp)

    delta = purity_radius(d_imp, alpha=0.8)
    assert delta == 1.0
    assert purity(delta) >= 0.8 and purity(np.nextafter(delta, np.inf)) < 0.8
    assert purity_radius(d_imp, alpha=0.95) == 0.5  # floor(0.05 * 5) = 0 impure balls
    assert purity_radius(d_imp, alpha=0.5) == 2.0  # floor(0.5 * 5) = 2 impure balls


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_probcover_covers_each_dense_cluster_once_and_no_outlier(seed, normalize):
    X, cluster = planted(seed)
    strategy = get_strategy("probcover", random_state=seed, normalize=normalize)
    idx = strategy.select(Evidence(embeddings=X, probs=flat_probs(len(X))), budget=4)
    assert sorted(cluster[idx]) == [0, 1, 2, 3]
    assert 0 < strategy.round_info()["probcover_delta"] < np.inf


def test_probcover_treats_balls_of_labeled_points_as_covered():
    X, cluster = planted(0)
    ev = Evidence(embeddings=X, probs=flat_probs(len(X)), labeled_embeddings=CENTRES[[0, 3]])
    idx = get_strategy("probcover", random_state=0, normalize=False).select(ev, budget=2)
    assert sorted(cluster[idx]) == [1, 2]


def test_probcover_without_budget_counts_the_uncovered_points_each_ball_holds():
    pts = np.array([[0.0], [0.1], [0.2], [10.0], [10.1], [30.0]])
    ev = Evidence(embeddings=pts, probs=np.full((6, 2), 0.5))
    strategy = get_strategy("probcover", random_state=0, normalize=False, alpha=0.5)
    degree = strategy.score(ev)
    delta = strategy.round_info()["probcover_delta"]
    d = np.abs(pts - pts.T)
    np.testing.assert_array_equal(degree, (d < delta).sum(axis=1))


# ------------------------------------------------------------------------ Uncertainty Herding
def test_temperature_scaling_and_ece_on_tiny_inputs():
    np.testing.assert_allclose(temperature_scale(np.array([[0.8, 0.2]]), 2.0), [[2 / 3, 1 / 3]])
    np.testing.assert_allclose(temperature_scale(np.array([[0.8, 0.2]]), 1.0), [[0.8, 0.2]])
    probs = np.array([[0.9, 0.1], [0.6, 0.4]])
    # confidences 0.9 (right) and 0.6 (wrong) in different bins: 0.5*0.1 + 0.5*0.6
    assert expected_calibration_error(probs, np.array([0, 1])) == pytest.approx(0.35)


def test_fitted_temperature_softens_overconfident_and_sharpens_underconfident_models():
    over = np.tile([[0.99, 0.01]], (20, 1))
    targets = np.r_[np.zeros(14, int), np.ones(6, int)]  # 70 % right at 99 % confidence
    t_over = fit_temperature(over, targets)
    assert t_over > 1
    assert temperature_scale(over, t_over)[0, 0] == pytest.approx(0.7, abs=0.03)
    under = np.tile([[0.6, 0.4]], (20, 1))
    assert fit_temperature(under, np.zeros(20, int)) < 1  # always right at 60 %
    assert fit_temperature(over[:1], targets[:1]) == 1.0


def test_kernel_radius_follows_the_labeled_set_then_the_pool():
    rng = np.random.default_rng(0)
    labeled = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert kernel_radius(np.zeros((5, 2)), labeled, rng) == 1.0  # duplicates ignored
    pool = np.array([[0.0], [1.0], [3.0]])  # pairwise 1, 2, 3
    assert kernel_radius(pool, None, rng) == 2.0
    assert kernel_radius(pool, labeled[:1], rng) == 2.0


@pytest.mark.parametrize("seed", [0, 1])
def test_uherding_with_flat_uncertainty_covers_the_clusters(seed):
    X, cluster = planted(seed)
    strategy = get_strategy("uherding", random_state=seed, temperature=1.0)
    idx = strategy.select(Evidence(embeddings=X, probs=flat_probs(len(X))), budget=4)
    assert sorted(cluster[idx]) == [0, 1, 2, 3]


def test_uherding_prefers_the_one_uncertain_cluster():
    X, cluster = planted(0, sizes=(SIZE, SIZE, SIZE, 10))
    probs = np.tile([0.97, 0.01, 0.01, 0.01], (len(X), 1))
    probs[cluster == 3] = [0.4, 0.35, 0.15, 0.1]
    ev = Evidence(embeddings=X, probs=probs)
    idx = get_strategy("uherding", random_state=0, temperature=1.0).select(ev, budget=2)
    assert cluster[idx[0]] == 3  # the smallest cluster, but the only uncertain one
    # with flat uncertainty the same geometry starts with a big cluster instead
    flat = Evidence(embeddings=X, probs=flat_probs(len(X)))
    first = get_strategy("uherding", random_state=0, temperature=1.0).select(flat, budget=1)
    assert cluster[first[0]] in (0, 1, 2)


def test_uherding_fits_the_temperature_on_the_labeled_set_and_reports_it():
    X, cluster = planted(0)
    probs = np.tile([0.97, 0.01, 0.01, 0.01], (len(X), 1))
    lab = [0, 41, 81, 121]
    ev = Evidence(
        embeddings=X, probs=probs, labeled_embeddings=X[lab], labeled_probs=probs[lab],
        labeled_targets=np.array([0, 1, 2, 3]), labeled_inputs=X[lab],
    )
    strategy = get_strategy("uherding", random_state=0)
    strategy.select(ev, budget=2)
    info = strategy.round_info()["uherding"]
    assert info["temperature"] == fit_temperature(probs[lab], np.array([0, 1, 2, 3])) > 1
    assert info["sigma"] == pytest.approx(np.sqrt(2), rel=0.1)  # unit vectors along e_0..e_3


def test_uherding_sparse_kernel_agrees_with_the_dense_one_on_local_geometry():
    X, cluster = planted(0)
    lab = [0, 1]  # two labeled points of one cluster: a narrow kernel (sigma their distance)
    ev = Evidence(embeddings=X, probs=flat_probs(len(X)), labeled_embeddings=X[lab])
    dense = get_strategy("uherding", random_state=3, temperature=1.0).select(ev, budget=6)
    sparse = get_strategy(
        "uherding", random_state=3, temperature=1.0, dense_below=10, n_neighbors=60
    ).select(ev, budget=6)
    np.testing.assert_array_equal(dense, sparse)


# --------------------------------------------------------------------------- Cluster-Margin
def test_round_robin_takes_one_per_cluster_from_the_smallest():
    labels = np.array([0, 0, 0, 1, 1, 2])
    order = round_robin(labels, np.random.default_rng(0))
    assert labels[order].tolist() == [2, 1, 0, 1, 0, 0]
    assert sorted(order.tolist()) == list(range(6))


def _margin_geometry(seed=0):
    rng = np.random.default_rng(seed)
    sizes = (5, 10, 15)
    blobs = [c + rng.normal(scale=0.3, size=(s, D)) for c, s in zip(CENTRES, sizes, strict=False)]
    low = np.vstack(blobs)
    high = rng.normal(scale=3.0, size=(70, D))
    X = np.vstack([low, high])
    cluster = np.r_[np.repeat(np.arange(3), sizes), np.full(70, -1)]
    probs = np.tile([0.9, 0.05, 0.05], (100, 1))
    probs[:30] = [0.45, 0.40, 0.15]
    probs[:30, 0] += rng.uniform(0, 0.02, 30)  # distinct margins, all far below the rest
    return X, cluster, probs / probs.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cluster_margin_spreads_the_batch_over_the_low_margin_clusters(seed):
    X, cluster, probs = _margin_geometry(seed)
    ev = Evidence(embeddings=X, probs=probs)
    idx = get_strategy("cluster_margin", random_state=seed).select(ev, budget=3)
    assert sorted(cluster[idx]) == [0, 1, 2]
    # margin alone would take the three lowest margins, whatever their cluster
    idx = get_strategy(
        "cluster_margin", random_state=seed, margin_factor=5, n_clusters=3
    ).select(ev, budget=6)
    assert sorted(cluster[idx]) == [0, 0, 1, 1, 2, 2]


def test_cluster_margin_only_takes_from_the_lowest_margins():
    X, cluster, probs = _margin_geometry(0)
    ev = Evidence(embeddings=X, probs=probs)
    strategy = get_strategy("cluster_margin", random_state=0, margin_factor=1, n_clusters=2)
    idx = strategy.select(ev, budget=8)
    margin = np.sort(probs, axis=1)[:, -1] - np.sort(probs, axis=1)[:, -2]
    assert set(idx) == set(np.argsort(margin)[:8])
    assert strategy.round_info()["cluster_margin"] == {"candidates": 8, "clusters": 2}


# -------------------------------------------------------------------------------------- TCM
def _tcm_evidence(n_labeled: int):
    X, cluster = planted(0)
    rng = np.random.default_rng(1)
    probs = rng.dirichlet(np.ones(4), size=len(X))
    lab = rng.normal(size=(n_labeled, D)) + 40.0  # far away: no cluster holds a labeled point
    return X, cluster, probs, Evidence(embeddings=X, probs=probs, labeled_embeddings=lab)


@pytest.mark.parametrize(
    ("n_labeled", "switch_at", "phase"),
    [(79, None, "typiclust"), (80, None, "margin"), (4, 5, "typiclust"), (5, 5, "margin")],
)
def test_tcm_switches_from_typiclust_to_margin_at_its_threshold(n_labeled, switch_at, phase):
    X, cluster, probs, ev = _tcm_evidence(n_labeled)
    strategy = get_strategy("tcm", random_state=0, switch_at=switch_at)
    idx = strategy.select(ev, budget=4)
    info = strategy.round_info()["tcm"]
    assert info == {"phase": phase, "n_labeled": n_labeled, "switch_at": switch_at or 80}
    if phase == "margin":
        margin = get_strategy("margin").score(ev)
        assert sorted(idx) == sorted(np.argsort(-margin)[:4])
    elif n_labeled < 10:
        assert sorted(cluster[idx]) == [0, 1, 2, 3]
    else:  # TypiClust's own picks, seeded from TCM's generator
        seed = int(np.random.default_rng(0).integers(2**31 - 1))
        expected = get_strategy("typiclust", random_state=seed).select(ev, budget=4)
        assert sorted(idx) == sorted(expected)


def test_tcm_threshold_scales_with_the_number_of_classes():
    _, _, _, ev = _tcm_evidence(3)
    assert get_strategy("tcm", per_class=5).threshold(ev) == 20
    assert get_strategy("tcm", switch_at=7).threshold(ev) == 7
