"""Monte-Carlo draws of a file-backed pool in a scratch file: the values of the in-memory
path, read in slices, nothing left on disk, and a clear error when the disk is too full."""

from __future__ import annotations

import errno
import gc
import pickle
import tempfile
from collections import namedtuple

import numpy as np
import pytest
import torch

import autoal.models.disk_draws as disk_draws
from autoal import ActiveLearner
from autoal.data import PoolArray, open_rows
from autoal.data import draws_file as draws_module
from autoal.data.draws_file import DrawsFile, ScratchSpaceError, scratch_folder
from autoal.evidence import Evidence, EvidenceRequest
from autoal.models import TorchClassifier, evidence_request
from autoal.scale.shards import write_shards
from autoal.strategies import get_strategy

T = 7


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """A fresh, empty scratch folder as TMPDIR."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    return folder


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    """9,000 rows (crossing the 2,048- and 8,192-row chunks) in memory, as a memory map and
    as shards, with a model fitted on 300 of them."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("pool")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9000, 6)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    np.save(root / "X.npy", X)
    write_shards(X, root / "shards", 3)
    labeled = np.arange(0, 9000, 30)
    model = TorchClassifier(model="mlp", epochs=2, mc_samples=T, random_state=0)
    model.fit(X[labeled], y[labeled], 3)
    Pool = namedtuple("Pool", "X memmap shards y labeled model")
    return Pool(X, np.load(root / "X.npy", mmap_mode="r"), open_rows(root / "shards"), y,
                labeled, model)


def evidences(pool, request):
    X_lab, y_lab = pool.X[pool.labeled], pool.y[pool.labeled]
    return [pool.model.evidence(X, X_lab, y_lab, request=request)
            for X in (pool.X, pool.memmap, pool.shards)]


@pytest.mark.parametrize("fields", [("mc_probs",), ("mc_probs", "embeddings", "probs")])
def test_disk_draws_hold_the_in_memory_values(pool, scratch, fields):
    request = EvidenceRequest(fields=fields, mc_samples=T)
    memory, *files = evidences(pool, request)
    assert isinstance(memory.mc_probs, np.ndarray)
    for ev in files:
        assert isinstance(ev.mc_probs, DrawsFile) and ev.mc_probs.shape == (T, 9000, 3)
        np.testing.assert_array_equal(np.asarray(ev.mc_probs), memory.mc_probs)
        np.testing.assert_allclose(ev.probs, memory.probs, rtol=0, atol=1e-6)
        np.testing.assert_array_equal(ev.labeled_embeddings, memory.labeled_embeddings)
        if "embeddings" in fields:
            np.testing.assert_array_equal(ev.embeddings, memory.embeddings)
        else:
            assert ev.embeddings is None  # not kept when the strategy needs none
    assert list(scratch.iterdir()) == []  # the scratch file has no name


def forbidden(*args, **kwargs):
    raise AssertionError("a file-backed array was copied whole")


@pytest.mark.parametrize("name", ["bald", "mean_std", "var_ratio"])
def test_mc_strategies_pick_the_same_from_disk(pool, scratch, name, monkeypatch):
    monkeypatch.setattr(DrawsFile, "__array__", forbidden)  # read in slices, never whole
    request = evidence_request(get_strategy(name), mc_samples=T)
    picks = [get_strategy(name, random_state=0).select(ev, 40)
             for ev in evidences(pool, request)]
    np.testing.assert_array_equal(picks[1], picks[0])
    np.testing.assert_array_equal(picks[2], picks[0])


def test_the_in_memory_path_is_unchanged(pool):
    """In memory the draws are still one array; draw t is the head with one dropout mask of
    its embedding units (scaled by 1 / (1 - p)) applied to every sample."""
    ev = pool.model.evidence(pool.X, request=EvidenceRequest(fields=("mc_probs",),
                                                             mc_samples=T))
    weights, b = pool.model.mc_heads(T)
    W, p = pool.model.net_.head.weight.detach(), pool.model.net_.dropout_p
    kept = (weights != 0).all(dim=1)  # (T, D): a unit is dropped for every class or none
    torch.testing.assert_close(weights, W[None] * kept[:, None, :] / (1 - p))
    assert 0 < kept.float().mean() < 1
    emb = torch.from_numpy(pool.model.embed(pool.X[:50]))
    expected = torch.softmax(torch.einsum("nd,tcd->tnc", emb, weights) + b, dim=2).numpy()
    np.testing.assert_allclose(ev.mc_probs[:, :50], expected, rtol=0, atol=1e-6)
    assert isinstance(ev.mc_probs, np.ndarray)


def test_the_scratch_file_is_freed_when_the_draws_go(pool, scratch):
    ev = pool.model.evidence(pool.memmap, request=EvidenceRequest(fields=("mc_probs",),
                                                                  mc_samples=T))
    handle = ev.mc_probs._file
    assert not handle.closed and list(scratch.iterdir()) == []
    del ev
    gc.collect()
    assert handle.closed


def test_an_error_while_drawing_leaves_nothing(pool, scratch, monkeypatch):
    made = []

    class Recorded(DrawsFile):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    calls = iter(range(100))

    def failing(emb, heads):
        if next(calls) == 2:
            raise RuntimeError("boom")
        return TorchClassifier.mc_head_probs(pool.model, emb, heads)

    monkeypatch.setattr(disk_draws, "DrawsFile", Recorded)
    monkeypatch.setattr(pool.model, "mc_head_probs", failing)
    with pytest.raises(RuntimeError, match="boom"):
        pool.model.evidence(pool.memmap, request=EvidenceRequest(fields=("mc_probs",),
                                                                 mc_samples=T))
    assert len(made) == 1 and made[0].closed  # closed at once, not left to the collector
    assert list(scratch.iterdir()) == []


def test_too_little_scratch_space_is_refused_before_any_work(pool, scratch, monkeypatch):
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(draws_module.shutil, "disk_usage", lambda p: Usage(10**9, 0, 1000))

    def no_work(*args, **kwargs):
        raise AssertionError("the pool was read before the space check")

    monkeypatch.setattr(pool.model, "embed", no_work)
    with pytest.raises(ScratchSpaceError, match=r"draws \(T=7, 9000 rows, 3 classes\) need "
                                                r"0\.7 MB of scratch space") as info:
        pool.model.evidence(pool.memmap, request=EvidenceRequest(fields=("mc_probs",),
                                                                 mc_samples=T))
    assert info.value.errno == errno.ENOSPC
    message = str(info.value)
    assert str(scratch) in message and "TMPDIR" in message and "--mc-samples" in message
    assert list(scratch.iterdir()) == []


def test_scratch_folder_follows_tmpdir(scratch):
    assert scratch_folder() == scratch


def filled(shape=(4, 50, 3), seed=1):
    values = np.random.default_rng(seed).random(shape).astype(np.float32)
    draws = DrawsFile(*shape)
    for start in range(0, shape[1], 16):  # written in chunks, as the model does
        draws.write(start, values[:, start : start + 16])
    return draws, values


@pytest.mark.parametrize("key", [
    (slice(None), slice(3, 20)), (slice(None), slice(None)), 2, (1, slice(5, 9)),
    (slice(None), 7), (slice(None), -1), (slice(None), slice(1, 40, 3)),
    (slice(None), np.array([49, 0, 7, 7, 8, 30])), (slice(None), np.arange(50) % 3 == 0),
    (slice(1, 3), slice(10, 12), 2), (slice(None), slice(None), np.array([2, 0])),
    (slice(None), np.array([], dtype=int)),
])
def test_a_draws_file_reads_like_the_array(scratch, key):
    draws, values = filled()
    np.testing.assert_array_equal(draws[key], values[key])


def test_a_draws_file_refuses_bad_use(scratch):
    draws, values = filled()
    np.testing.assert_array_equal(np.asarray(draws), values)
    with pytest.raises(IndexError):
        draws[:, 50]
    with pytest.raises(IndexError):
        draws[:, np.array([0, 50])]
    with pytest.raises(ValueError, match="outside"):
        draws.write(45, values[:, :10])
    with pytest.raises(ValueError, match="shape"):
        draws.write(0, values[:2])
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(draws)
    draws.close()
    assert draws.closed
    with pytest.raises(ValueError):
        draws[:, :3]


def test_evidence_checks_disk_draws_without_copying_them(scratch):
    draws, values = filled()
    ev = Evidence(mc_probs=draws)  # type: ignore[arg-type]
    assert ev.mc_probs is draws and ev.n_samples == 50
    values[0, 3, 1] = np.nan
    bad = DrawsFile(*values.shape)
    bad.write(0, values)
    with pytest.raises(ValueError, match="mc_probs contains NaN"):
        Evidence(mc_probs=bad)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ AutoAL on a file
def test_autoal_picks_the_same_on_a_file_backed_pool(pool, scratch, monkeypatch):
    """AutoAL (the default candidates: BALD, mean_std, var_ratio from the draws, k-means from
    the embeddings) picks the same from the array, its memory map and its shards; the pool's
    inputs are projected in chunks (made small here so that several are read)."""
    from autoal.search import crossfit

    monkeypatch.setattr(crossfit, "PROJECT_CHUNK_ROWS", 1000)
    monkeypatch.setattr(PoolArray, "__array__", forbidden)  # the shards are never copied whole
    monkeypatch.setattr(DrawsFile, "__array__", forbidden)
    X, y, labeled = pool.X[:3000], pool.y, pool.labeled[:100]
    pools = (X, pool.memmap[:3000], pool.shards.take(np.arange(3000)))  # the same 3,000 rows
    picks = []
    for candidate in pools:
        al = ActiveLearner(TorchClassifier(model="mlp", epochs=2, random_state=0),
                           strategy="autoal", random_state=0, mc_samples=5)
        al.fit(X[labeled], y[labeled])
        picks.append(al.query(candidate, 30, exclude=labeled))
    np.testing.assert_array_equal(picks[1], picks[0])
    np.testing.assert_array_equal(picks[2], picks[0])
    assert list(scratch.iterdir()) == []


def test_autoal_passes_a_file_backed_pool_through_its_searchnet_in_chunks(
        pool, scratch, monkeypatch):
    """A file-backed pool goes through the per-sample SearchNet (fed the loss module's rank
    too) a chunk of rows at a time, the array in memory in one pass; the picks and the
    recorded candidate weights are the same."""
    from autoal.search import crossfit, pool_mix

    monkeypatch.setattr(crossfit, "PROJECT_CHUNK_ROWS", 700)
    passes: list[int] = []
    one_pass = pool_mix._mix

    def counted(model, scores, featurize, rows):
        passes.append(len(scores))
        return one_pass(model, scores, featurize, rows)

    monkeypatch.setattr(pool_mix, "_mix", counted)
    params = dict(random_state=0, weights="per-sample", search="adam", loss_module=True,
                  fitnet_epochs=2)
    request = evidence_request(get_strategy("autoal", **params), mc_samples=T)
    picks, infos = [], []
    for ev in evidences(pool, request):  # in memory, memory map, shards
        strategy = get_strategy("autoal", **params)
        picks.append(strategy.select(ev, 40))
        infos.append(strategy.round_info())
    chunks = [700] * 12 + [600]  # 9,000 rows
    assert passes == [9000] + chunks + chunks
    assert infos[0]["search"]["steps"] > 0
    for other, info in zip(picks[1:], infos[1:], strict=True):
        np.testing.assert_array_equal(other, picks[0])
        assert info["weights"] == infos[0]["weights"]
        assert info["batch_weights"] == infos[0]["batch_weights"]


def test_autoal_run_reports_too_little_scratch_space(tmp_path, scratch, monkeypatch):
    from click.testing import CliRunner

    from autoal.cli import main

    from support import write_array_folder

    rng = np.random.default_rng(0)
    X, X_test = rng.normal(size=(200, 4)).astype(np.float32), rng.normal(size=(50, 4))
    folder = write_array_folder(tmp_path / "pool", X, np.arange(200) % 3,
                                X_test.astype(np.float32), np.arange(50) % 3)
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(draws_module.shutil, "disk_usage", lambda p: Usage(10**9, 0, 100))
    out = tmp_path / "run.json"
    result = CliRunner().invoke(main, [
        "run", "--dataset", str(folder), "--strategy", "bald", "--out", str(out), "--init",
        "20", "--budget", "10", "--rounds", "1", "--epochs", "1", "--quiet", "--device",
        "cpu", "--mc-samples", "5"])
    assert result.exit_code == 1, result.output
    assert f"scratch space in {scratch}" in result.output and "TMPDIR" in result.output
    assert not out.exists()
