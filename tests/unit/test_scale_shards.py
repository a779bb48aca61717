"""Shard folders and Ray addresses: the errors a user meets before any work starts."""

import socket

import numpy as np
import pytest

from autoal.scale import synthetic_head, write_synthetic_pool
from autoal.scale.ray_engine import RayUnreachableError, connect
from autoal.scale.sharded import merge_top_k, sharded_select
from autoal.scale.shards import ShardedPool, ShardError, write_shards


def test_shards_form_one_pool_in_name_order(tmp_path):
    data = np.arange(30, dtype=np.float32).reshape(10, 3)
    pool = write_shards(data, tmp_path, 3)
    assert pool.sizes == (3, 3, 4) and pool.offsets == (0, 3, 6) and pool.n_samples == 10
    np.testing.assert_array_equal(pool.rows(np.array([9, 0, 4])), data[[9, 0, 4]])


@pytest.mark.parametrize(
    "bad", [np.zeros((4, 5), dtype=np.float32), np.zeros((4, 3), dtype=np.float64)]
)
def test_a_shard_of_another_dimension_or_dtype_is_named(tmp_path, bad):
    np.save(tmp_path / "a.npy", np.zeros((4, 3), dtype=np.float32))
    np.save(tmp_path / "b.npy", bad)
    with pytest.raises(ShardError, match=r"shard .*b\.npy has rows of shape"):
        ShardedPool.open(tmp_path)


def test_an_empty_folder_is_an_error(tmp_path):
    with pytest.raises(ShardError, match="no .npy shards"):
        ShardedPool.open(tmp_path)


def test_merge_top_k_breaks_ties_by_pool_index():
    scores = np.array([0.5, 0.9, 0.5, 0.1])
    index = np.array([7, 3, 2, 9])
    assert merge_top_k(scores, index, 3)[1].tolist() == [3, 2, 7]


@pytest.mark.parametrize("strategy", ["margin", "bald", "mean_std"])
def test_shards_scored_one_by_one_equal_the_whole_pool(tmp_path, strategy):
    from autoal import Evidence
    from autoal.strategies import get_strategy

    paths = write_synthetic_pool(tmp_path / "p", 9000, dim=16, mc_samples=3)
    emb = np.load(paths["embeddings"])
    head = synthetic_head(dim=16, mc_samples=3)
    pool = write_shards(emb, tmp_path / "s", 3)
    got = sharded_select(pool, head, strategy, 200, use_ray=False)
    ev = Evidence(probs=head.probs(emb), mc_probs=head.mc_probs(emb))
    np.testing.assert_array_equal(got, get_strategy(strategy).select(ev, 200))


def test_two_stage_coreset_picks_distinct_samples(tmp_path):
    paths = write_synthetic_pool(tmp_path / "p", 3000, dim=8, n_labeled=20)
    pool = write_shards(np.load(paths["embeddings"]), tmp_path / "s", 3)
    picks = sharded_select(
        pool, synthetic_head(dim=8), "coreset", 40, use_ray=False,
        labeled_embeddings=np.load(paths["labeled_embeddings"]),
    )
    assert len(np.unique(picks)) == 40 and picks.max() < 3000


def test_unsharded_strategy_is_refused_with_the_alternatives(tmp_path):
    pool = write_shards(np.zeros((10, 4), dtype=np.float32), tmp_path, 2)
    with pytest.raises(ValueError, match="'albl' cannot be sharded; sharded strategies: .*margin"):
        sharded_select(pool, synthetic_head(dim=4), "albl", 2, use_ray=False)


def test_an_unreachable_address_is_named_before_ray_starts():
    pytest.importorskip("ray")
    with socket.socket() as s:  # a loopback port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"127.0.0.1:{port}"
    with pytest.raises(RayUnreachableError, match=f"cannot reach a Ray cluster at {address}"):
        connect(address, timeout_s=2)
    with pytest.raises(RayUnreachableError, match="not of the form host:port"):
        connect("nonsense", timeout_s=2)
