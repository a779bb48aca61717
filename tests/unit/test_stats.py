"""AUBC, the paired bootstrap and ranks on hand-made values with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from autoal.loop.metrics import aubc
from autoal.report import round_seconds
from autoal.report.stats import mean_std, paired_bootstrap, rank_descending


def test_aubc_of_a_flat_curve_is_its_value():
    assert aubc([100, 200, 300], [0.7, 0.7, 0.7]) == pytest.approx(0.7)


def test_aubc_of_a_straight_line_is_its_midpoint():
    # accuracy rises linearly from 0.5 to 0.9: the mean over the range is 0.7
    assert aubc([0, 50, 100], [0.5, 0.7, 0.9]) == pytest.approx(0.7)


def test_aubc_trapezoid_with_uneven_steps():
    # area = (0.4+0.6)/2 * 10 + (0.6+1.0)/2 * 30 = 5 + 24 = 29 over a range of 40
    assert aubc([10, 20, 50], [0.4, 0.6, 1.0]) == pytest.approx(29 / 40)


def test_aubc_single_point_and_bad_input():
    assert aubc([100], [0.42]) == pytest.approx(0.42)
    with pytest.raises(ValueError):
        aubc([100, 100], [0.1, 0.2])
    with pytest.raises(ValueError):
        aubc([1, 2], [0.1])


def test_identical_curves_give_zero_with_a_zero_interval():
    a = [0.71, 0.74, 0.69, 0.73, 0.70]
    res = paired_bootstrap(a, a)
    assert (res.diff, res.low, res.high, res.n) == (0.0, 0.0, 0.0, 5)
    assert res.verdict == "tie"


def test_a_constant_shift_gives_that_shift_exactly():
    b = np.array([0.61, 0.70, 0.66, 0.72, 0.64])
    res = paired_bootstrap(b + 0.05, b)
    assert res.diff == pytest.approx(0.05)
    assert res.low == pytest.approx(0.05)
    assert res.high == pytest.approx(0.05)
    assert res.verdict == "wins"
    assert paired_bootstrap(b, b + 0.05).verdict == "loses"


def test_pairing_removes_the_between_seed_spread():
    # seeds differ a lot, but a beats b by 0.01 in every seed: the interval excludes 0
    b = np.array([0.50, 0.80, 0.60, 0.90, 0.70])
    a = b + np.array([0.008, 0.012, 0.010, 0.009, 0.011])
    res = paired_bootstrap(a, b)
    assert res.low > 0.0
    assert res.low <= 0.010 <= res.high
    assert res.low >= 0.008 and res.high <= 0.012


def test_interval_of_known_two_point_differences():
    # differences (0, 1): resampled means are 0, 0.5, 1 with probability 1/4, 1/2, 1/4
    res = paired_bootstrap([1.0, 2.0], [1.0, 1.0], n_resamples=20000, random_state=3)
    assert res.diff == pytest.approx(0.5)
    assert (res.low, res.high) == (0.0, 1.0)


def test_bootstrap_is_seeded_and_single_seed_is_na():
    rng = np.random.default_rng(0)
    a, b = rng.random(6), rng.random(6)
    assert paired_bootstrap(a, b) == paired_bootstrap(a, b)
    one = paired_bootstrap([0.8], [0.7])
    assert one.low is None and one.high is None and one.verdict == "n/a"
    assert one.diff == pytest.approx(0.1)
    assert "n/a" in one.format()


def test_bootstrap_rejects_bad_input():
    with pytest.raises(ValueError, match="same non-zero length"):
        paired_bootstrap([0.1, 0.2], [0.1])
    with pytest.raises(ValueError, match="same non-zero length"):
        paired_bootstrap([], [])
    with pytest.raises(ValueError, match="non-finite"):
        paired_bootstrap([np.nan], [0.1])


def test_ranks_and_mean_std():
    assert rank_descending({"a": 0.7, "b": 0.9, "c": 0.8}) == {"a": 3.0, "b": 1.0, "c": 2.0}
    assert rank_descending({"a": 0.5, "b": 0.5, "c": 0.1}) == {"a": 1.5, "b": 1.5, "c": 3.0}
    # the sample standard deviation: sqrt(((1-2)^2 + (3-2)^2) / (2 - 1))
    assert mean_std([1.0, 3.0]) == (2.0, pytest.approx(2 ** 0.5))
    assert mean_std([1.0, 2.0, 6.0]) == (3.0, pytest.approx(7 ** 0.5))
    assert mean_std([0.4]) == (0.4, 0.0)


def test_sign_counts_say_how_many_seeds_agree():
    res = paired_bootstrap([0.5, 0.6, 0.7, 0.8], [0.6, 0.7, 0.7, 0.7])
    assert (res.n_lower, res.n_higher, res.n) == (2, 1, 4)
    assert res.signs() == "2↓ 1↑"   # the third pair is equal: in neither count
    assert paired_bootstrap([0.1, 0.2, 0.3], [0.2, 0.3, 0.4]).signs() == "3↓ 0↑"
    assert paired_bootstrap([0.3], [0.2]).signs() == "0↓ 1↑"
    assert paired_bootstrap([0.3, 0.2], [0.3, 0.2]).signs() == "0↓ 0↑"


def test_with_three_seeds_the_interval_is_the_range_of_the_differences():
    res = paired_bootstrap([0.50, 0.60, 0.90], [0.45, 0.50, 0.60])
    assert (res.low, res.high) == (pytest.approx(0.05), pytest.approx(0.30))


def test_round_seconds_skips_round_zero():
    run = {"rounds": [
        {"round": 0, "seconds": {"train": 100.0}},
        {"round": 1, "seconds": {"train": 1.0, "select": 1.0}},
        {"round": 2, "seconds": {"train": 3.0, "select": 1.0}},
    ]}
    assert round_seconds(run) == pytest.approx(3.0)
