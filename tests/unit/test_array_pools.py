"""Array pools: a memory-mapped .npy or a folder of .npy shards, read a slice at a time."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from autoal.data import DatasetError, PoolArray, is_file_backed, load_dataset, open_rows, take_rows
from autoal.scale.shards import write_shards

from support import write_array_folder


@pytest.fixture
def rows():
    return np.random.default_rng(0).normal(size=(500, 6)).astype(np.float32)


def save(path, array):
    np.save(path, array)
    return path


def test_a_float32_file_is_its_memory_map(tmp_path, rows):
    X = open_rows(save(tmp_path / "x.npy", rows))
    assert isinstance(X, np.memmap) and not X.flags.writeable
    np.testing.assert_array_equal(X, rows)


def test_shards_give_the_rows_of_the_whole_array(tmp_path, rows):
    write_shards(rows, tmp_path / "s", 3)
    X = open_rows(tmp_path / "s")
    assert isinstance(X, PoolArray) and X.shape == rows.shape and X.dtype == np.float32
    assert all(isinstance(p, np.memmap) for p in X.parts)
    index = np.array([499, 0, 166, 167, 333, 334, 5, 5])
    for key in (slice(None), slice(100, 400), slice(160, 170), slice(-3, None),
                slice(0, 500, 7), index, index.tolist(), rows[:, 0] > 0.5):
        np.testing.assert_array_equal(X[key], rows[key])
    np.testing.assert_array_equal(X[-1], rows[-1])
    np.testing.assert_array_equal(X[3, 2:], rows[3, 2:])
    np.testing.assert_array_equal(X[10:20, 1], rows[10:20, 1])
    np.testing.assert_array_equal(np.asarray(X), rows)
    with pytest.raises(IndexError):
        X[500]


def test_lazy_subsets_compose_without_reading(tmp_path, rows):
    write_shards(rows, tmp_path / "s", 4)
    X = open_rows(tmp_path / "s")
    first = np.arange(0, 500, 3)
    sub = take_rows(X, first)
    assert isinstance(sub, PoolArray) and len(sub) == len(first)
    second = np.array([0, 10, 166, 2])
    np.testing.assert_array_equal(take_rows(sub, second)[:], rows[first][second])
    np.testing.assert_array_equal(sub[5:9], rows[first][5:9])
    memmap = open_rows(save(tmp_path / "x.npy", rows))
    assert take_rows(memmap, np.arange(500)) is memmap  # every row in order: no subset
    np.testing.assert_array_equal(take_rows(memmap, first)[:], rows[first])
    in_memory = take_rows(rows, first)  # an in-memory array is indexed as numpy does
    assert type(in_memory) is np.ndarray
    assert is_file_backed(memmap) and is_file_backed(np.asarray(memmap)[10:])
    assert is_file_backed(sub) and not is_file_backed(rows)


def test_other_dtypes_are_converted_as_rows_are_read(tmp_path, rows):
    X = open_rows(save(tmp_path / "x64.npy", rows.astype(np.float64)))
    assert isinstance(X, PoolArray) and X.dtype == np.float32
    assert X[2:4].dtype == np.float32
    np.testing.assert_array_equal(X[2:4], rows[2:4])
    ints = open_rows(save(tmp_path / "i.npy", np.arange(12).reshape(4, 3)))
    np.testing.assert_array_equal(ints[1], [3.0, 4.0, 5.0])


def test_the_odd_shard_is_named(tmp_path, rows):
    write_shards(rows, tmp_path / "s", 3)
    np.save(tmp_path / "s" / "shard-00001.npy", rows[:10, :5])
    with pytest.raises(DatasetError, match="shard-00001.npy has rows of shape"):
        open_rows(tmp_path / "s")
    np.save(tmp_path / "s" / "shard-00001.npy", rows[:10].astype(np.float64))
    with pytest.raises(DatasetError, match=r"shard-00001.npy .* dtype float64"):
        open_rows(tmp_path / "s")
    (tmp_path / "s" / "shard-00001.npy").write_bytes(b"not numpy")
    with pytest.raises(DatasetError, match="shard-00001.npy is not a readable .npy"):
        open_rows(tmp_path / "s")


def test_reading_and_checking_a_pool_copies_a_bounded_slice(tmp_path):
    big = np.random.default_rng(1).normal(size=(100_000, 64)).astype(np.float32)  # 25.6 MB
    path = save(tmp_path / "big.npy", big)
    del big
    tracemalloc.start()
    X = open_rows(path)
    from autoal.data.formats.npy import check_finite_rows

    check_finite_rows(X, "big")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < X.nbytes / 4  # the check's slices, not a copy of the array


# ----------------------------------------------------------------------------- array folders
@pytest.fixture
def labelled(rows):
    y = np.arange(len(rows)) % 3
    return rows[:400], y[:400], rows[400:], y[400:]


def test_an_array_folder_loads_memory_mapped_and_as_given(tmp_path, labelled):
    ds = load_dataset(write_array_folder(tmp_path / "d", *labelled))
    assert isinstance(ds.X_train, np.memmap) and isinstance(ds.X_test, np.memmap)
    np.testing.assert_array_equal(ds.X_train, labelled[0])  # not standardised
    np.testing.assert_array_equal(ds.y_test, labelled[3])
    assert ds.classes == ["0", "1", "2"] and ds.kind == "vector"
    sharded = load_dataset(write_array_folder(tmp_path / "s", *labelled, shards=3))
    assert isinstance(sharded.X_train, PoolArray)
    np.testing.assert_array_equal(sharded.X_train[:], labelled[0])


def test_class_names_and_string_labels(tmp_path, labelled):
    root = write_array_folder(tmp_path / "d", *labelled)
    (root / "classes.txt").write_text("cat\ndog\nbird\n")
    assert load_dataset(root).classes == ["cat", "dog", "bird"]
    (root / "classes.txt").write_text("cat\ndog\n")
    with pytest.raises(DatasetError, match="class ids 0..1"):
        load_dataset(root)
    (root / "classes.txt").unlink()
    names = np.array(["b", "a", "c"])
    np.save(root / "y_train.npy", names[labelled[1]])
    np.save(root / "y_test.npy", names[labelled[3]])
    ds = load_dataset(root)
    assert ds.classes == ["a", "b", "c"]
    np.testing.assert_array_equal(np.array(ds.classes)[ds.y_train], names[labelled[1]])


@pytest.mark.parametrize("damage, message", [
    (lambda r: (r / "y_train.npy").unlink(), r"y_train.npy: no such file"),
    (lambda r: (r / "X_test.npy").unlink(), r"no X_test.npy"),
    (lambda r: np.save(r / "y_test.npy", np.zeros(5, int)), r"y_test.npy has 5 labels but .*"
                                                             r"X_test.npy has 100 rows"),
    (lambda r: np.save(r / "X_test.npy", np.zeros((100, 4), np.float32)),
     r"X_train.npy has 6 columns but .*X_test.npy has 4"),
    (lambda r: np.save(r / "y_train.npy", np.full(400, 0.5)), r"not a class id"),
    (lambda r: np.save(r / "y_train.npy", np.zeros(400, int)), r"at least 2 classes"),
])
def test_bad_array_folders_are_refused_by_name(tmp_path, labelled, damage, message):
    root = write_array_folder(tmp_path / "d", *labelled)
    damage(root)
    with pytest.raises(DatasetError, match=message):
        load_dataset(root)


def test_non_finite_rows_are_named_with_their_file(tmp_path, labelled):
    X = labelled[0].copy()
    X[123, 4] = np.inf
    root = write_array_folder(tmp_path / "d", X, *labelled[1:])
    with pytest.raises(DatasetError, match=r"X_train.npy contains NaN .*first bad row: 123"):
        load_dataset(root)


def test_a_lone_npy_has_no_labels(tmp_path, rows):
    with pytest.raises(DatasetError, match="holds no labels"):
        load_dataset(save(tmp_path / "x.npy", rows))


def test_sharded_pool_and_open_rows_share_one_shard_check(tmp_path, rows):
    from autoal.scale.shards import ShardedPool, ShardError

    write_shards(rows, tmp_path / "s", 3)
    np.save(tmp_path / "s" / ".hidden.npy", rows[:2])  # left out by both
    pool = ShardedPool.open(tmp_path / "s")
    assert pool.sizes == (166, 167, 167) and len(open_rows(tmp_path / "s")) == 500
    np.save(tmp_path / "s" / "shard-00003.npy", rows[:4, :5])
    with pytest.raises(DatasetError) as from_rows:
        open_rows(tmp_path / "s")
    with pytest.raises(ShardError) as from_pool:
        ShardedPool.open(tmp_path / "s")
    assert str(from_pool.value) == str(from_rows.value)
    assert "shard-00003.npy" in str(from_pool.value)
