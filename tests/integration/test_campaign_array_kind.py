"""Array-pool campaigns: which folders count as an array pool, the NaN/inf check done once
per content (not on every command), and the diverse start on a file-backed pool."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import autoal.data.formats.npy as npy_module
from autoal.campaign import Campaign
from autoal.campaign.config import SKIP, CampaignConfig
from autoal.campaign.items import detect_kind, load_items
from autoal.campaign.training import select_batch
from autoal.cli import main
from autoal.data import DatasetError, is_file_backed

from support import write_png_folder


def invoke(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def image_folder_with_npy(root: Path) -> Path:
    """cat/*.png, dog/*.png and a stray top-level features.npy."""
    folder = root / "pets"
    write_png_folder(folder / "cat", 6)
    write_png_folder(folder / "dog", 6)
    np.save(folder / "features.npy", np.zeros((12, 4), np.float32))
    return folder


# ----------------------------------------------------------------------------- which kind
def test_a_folder_of_images_and_a_npy_is_refused_at_init_naming_both(tmp_path):
    folder = image_folder_with_npy(tmp_path)
    res = invoke("campaign", "init", tmp_path / "c", "--data", folder, "--classes", "cat,dog")
    assert res.exit_code == 2, res.output
    assert "both images" in res.output and "features.npy" in res.output
    assert "cat/img000.png" in res.output  # an image it found
    assert f"--data {folder / 'features.npy'}" in res.output  # how to label the rows
    assert not (tmp_path / "c").exists()


def test_loose_images_beside_shards_are_ambiguous_too(tmp_path):
    write_png_folder(tmp_path / "mixed", 3)
    for k in range(2):
        np.save(tmp_path / "mixed" / f"shard-{k}.npy", np.zeros((5, 2), np.float32))
    with pytest.raises(DatasetError, match="both images") as err:
        detect_kind(tmp_path / "mixed")
    assert "folder of their own" in str(err.value)  # several shards: not "give the .npy"


def test_the_kind_of_a_folder(tmp_path):
    shards = tmp_path / "shards"
    (shards / "notes").mkdir(parents=True)  # a sub-folder without images is no class
    np.save(shards / "part-0.npy", np.zeros((5, 2), np.float32))
    assert detect_kind(shards) == "array"
    write_png_folder(tmp_path / "images" / "cat", 2)
    assert detect_kind(tmp_path / "images") == "images"
    folder = image_folder_with_npy(tmp_path)
    assert detect_kind(folder, features=folder / "features.npy") == "images"


def test_the_images_own_features_may_live_in_their_folder(tmp_path):
    folder = image_folder_with_npy(tmp_path)
    np.save(folder / "features.npy", np.random.default_rng(0).normal(size=(12, 4)))
    res = invoke("campaign", "init", tmp_path / "c", "--data", folder, "--classes", "cat,dog",
                 "--features", folder / "features.npy", "--model", "mlp")
    assert res.exit_code == 0, res.output
    assert "12 items (12 labeled)" in res.output  # the images, labeled by their folders
    with Campaign.open(tmp_path / "c") as campaign:
        assert campaign.config.data_kind == "images"


# ----------------------------------------------------------------- NaN/inf check once
@pytest.fixture
def finite_checks(monkeypatch):
    """Counts the full-pool NaN/inf checks (the pool is still checked)."""
    calls: list[str] = []
    real = npy_module.check_finite_rows

    def counting(X, name):
        calls.append(name)
        real(X, name)

    monkeypatch.setattr(npy_module, "check_finite_rows", counting)
    return calls


def test_an_unchanged_pool_is_checked_for_nan_only_at_init(tmp_path, finite_checks):
    pool = tmp_path / "pool.npy"
    np.save(pool, np.random.default_rng(2).normal(size=(300, 4)).astype(np.float32))
    camp = tmp_path / "c"
    res = invoke("campaign", "init", camp, "--data", pool, "--classes", "a,b", "--epochs", "1")
    assert res.exit_code == 0, res.output
    assert len(finite_checks) == 1
    for _ in range(2):
        res = invoke("campaign", "query", camp, "-n", "4", "--format", "csv", "--refresh")
        assert res.exit_code == 0, res.output
    assert len(finite_checks) == 1  # the data's hash is the checked one: not read through


def test_a_changed_pool_is_checked_and_refused_as_before(tmp_path, finite_checks):
    pool = tmp_path / "pool.npy"
    X = np.random.default_rng(3).normal(size=(300, 4)).astype(np.float32)
    np.save(pool, X)
    camp = tmp_path / "c"
    assert invoke("campaign", "init", camp, "--data", pool, "--classes", "a,b",
                  "--epochs", "1").exit_code == 0
    bad = X.copy()
    bad[17, 2] = np.inf
    np.save(pool, bad)
    res = invoke("campaign", "query", camp, "-n", "4")
    assert res.exit_code == 2 and "changed since the campaign last used it" in res.output
    assert len(finite_checks) == 1  # refused from the hash alone
    res = invoke("campaign", "query", camp, "-n", "4", "--accept-changed-data")
    assert res.exit_code == 2
    assert "pool.npy contains NaN or infinite values (first bad row: 17)" in res.output
    assert len(finite_checks) == 2
    changed = X.copy()
    changed[0] += 1.0
    np.save(pool, changed)
    res = invoke("campaign", "query", camp, "-n", "4")
    assert res.exit_code == 2 and "changed since the campaign last used it" in res.output
    res = invoke("campaign", "query", camp, "-n", "4", "--format", "csv",
                 "--accept-changed-data")
    assert res.exit_code == 0, res.output
    assert len(finite_checks) == 3  # checked before it was adopted
    res = invoke("campaign", "query", camp, "-n", "4", "--format", "csv", "--refresh")
    assert res.exit_code == 0, res.output
    assert len(finite_checks) == 3  # the adopted content was checked: not again


# ----------------------------------------------------------------- diverse start
def test_the_diverse_start_on_a_file_backed_pool_picks_as_in_memory(tmp_path):
    X = np.random.default_rng(4).normal(size=(400, 6)).astype(np.float32)
    np.save(tmp_path / "pool.npy", X)
    mapped = load_items(tmp_path / "pool.npy")
    assert is_file_backed(mapped.X)
    in_memory = load_items(tmp_path / "pool.npy")
    in_memory.X = np.array(mapped.X)
    config = CampaignConfig(data_path=str(tmp_path / "pool.npy"), data_kind="array",
                            classes=("a", "b"), strategy="margin", model="mlp", seed=5)
    skipped = {str(i) for i in range(0, 400, 3)}  # nothing labeled, a third skipped
    labels = [(i, SKIP) for i in sorted(skipped)]
    picks = {}
    for name, items in (("mapped", mapped), ("in_memory", in_memory)):
        method, positions, *_ = select_batch(config, items, labels, 8, 1)
        assert method.startswith("kmeans")
        picks[name] = positions
    assert picks["mapped"] == picks["in_memory"]
    assert len(set(picks["mapped"])) == 8
    assert not {str(p) for p in picks["mapped"]} & skipped
