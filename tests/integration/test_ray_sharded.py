"""Sharded scoring on a real local Ray cluster with two worker nodes (marker ``ray``)."""

import numpy as np
import pytest

from autoal import Evidence
from autoal.scale import synthetic_head, write_synthetic_pool
from autoal.scale.shards import write_shards
from autoal.strategies import get_strategy

pytestmark = pytest.mark.ray


def test_sharded_margin_of_200k_equals_one_process(ray_cluster, tmp_path):
    from autoal.scale.sharded import sharded_select

    paths = write_synthetic_pool(tmp_path / "pool", 200_000, dim=32, mc_samples=2)
    embeddings = np.load(paths["embeddings"], mmap_mode="r")
    head = synthetic_head(dim=32, mc_samples=2)
    pool = write_shards(embeddings, tmp_path / "shards", 4)
    assert len([n for n in ray_cluster.nodes() if n["Alive"]]) == 3

    sharded = sharded_select(pool, head, "margin", 1000)

    single_process = Evidence(probs=head.probs(embeddings))
    margin = get_strategy("margin", random_state=0)
    single = margin.select(single_process, 1000)
    # The same batch in the same score order; float32 margins tie now and then, and ties are
    # broken by pool index when sharded and at random in one process.
    assert set(sharded.tolist()) == set(single.tolist())
    scores = margin.score(single_process)
    np.testing.assert_array_equal(scores[sharded], scores[single])
    assert np.all(np.diff(scores[sharded]) <= 0)
