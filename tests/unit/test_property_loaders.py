"""Property tests: ``load_dataset`` on any file hypothesis can write.

Random bytes, truncated archives, wrong dtypes, ragged CSV rows, NaN/inf, huge or negative
labels, non-UTF-8 names, empty folders, images of mixed sizes and modes: the loader returns
a :class:`Dataset` that passes validation, or raises :class:`DatasetError` with a message.
Never another exception type, never a hang (a hard per-example alarm, besides hypothesis'
deadline, which only measures examples that finish).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from PIL import Image

from autoal.data import Dataset, DatasetError, load_dataset

#: Seconds one load may take before the example counts as a hang.
HANG_SECONDS = 30


@contextlib.contextmanager
def hard_deadline(seconds: int) -> Iterator[None]:
    """Raise TimeoutError in this (main) thread if the block runs longer than ``seconds``."""

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"load_dataset ran longer than {seconds} s (a hang)")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_dataset(ds: Dataset) -> None:
    """What every loaded Dataset must satisfy, whatever file it came from."""
    assert isinstance(ds, Dataset)
    for X, y in ((ds.X_train, ds.y_train), (ds.X_test, ds.y_test)):
        assert X.dtype == np.float32 and y.dtype == np.int64
        assert len(X) == len(y) and len(X) > 0
        assert np.all(np.isfinite(X))
        assert y.min() >= 0 and y.max() < ds.n_classes
    assert ds.n_classes >= 2
    assert ds.X_train.shape[1:] == ds.X_test.shape[1:]
    if ds.kind == "image":
        assert ds.X_train.min() >= 0 and ds.X_train.max() <= 1


def load_or_refuse(path: str | os.PathLike[str], **kwargs: object) -> None:
    """The property: a valid Dataset or a DatasetError with a message; nothing else."""
    try:
        with hard_deadline(HANG_SECONDS):
            ds = load_dataset(path, **kwargs)
    except DatasetError as err:
        assert str(err).strip()
        event(f"refused: {_first_words(str(err))}")
        return
    check_dataset(ds)
    event(f"loaded: {ds.kind}")


def _first_words(message: str) -> str:
    # Group refusals by their kind, not by the temporary path they name.
    words = [w for w in message.split() if "/" not in w]
    return " ".join(words[:5])


def in_temp_dir(build: Callable[[Path], Path], **kwargs: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        load_or_refuse(build(Path(tmp)), **kwargs)


# ----------------------------------------------------------------------------- npz
DTYPES = ("float32", "float64", "float16", "int8", "uint8", "int64", "uint16", "bool",
          "complex64", "U3", "datetime64[s]")
SPECIAL = (np.nan, np.inf, -np.inf, 1e38, -1e38, 0.0, 255.0, 256.0, -1.0, 2.0**62)
FEATURE_SHAPES = ((3,), (1,), (4, 4), (5, 5, 3), (2, 3, 3), (), (0,), (2, 2, 2, 2))
LABEL_SHAPES = ((), (1,), (2,))


@st.composite
def arrays(draw: st.DrawFn, n: int, label: bool = False) -> np.ndarray:
    """Mostly what a loader expects (float features, small integer labels), sometimes not:
    other dtypes, other shapes, other row counts, one NaN/inf/huge/negative value."""
    odd = draw(st.integers(0, 7)) == 0  # one in eight arrays is off in shape or dtype
    if odd and draw(st.booleans()):
        n = draw(st.integers(0, 2 * n + 1))
    rows = draw(st.sampled_from(LABEL_SHAPES if label else FEATURE_SHAPES)) if odd else (
        () if label else draw(st.sampled_from([(3,), (4, 4), (5, 5, 3)])))
    shape = (n, *rows)
    dtype = draw(st.sampled_from(DTYPES)) if odd else ("int64" if label else "float32")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if label:
        low, high = draw(st.sampled_from([(0, 2), (0, 5), (-3, 3), (0, 2**62)]))
        values = rng.integers(low, high, size=shape).astype(np.float64)
    else:
        values = rng.random(size=shape) * draw(st.sampled_from([1.0, 255.0, 1e30]))
    if values.size and draw(st.integers(0, 7)) == 0:
        values.flat[draw(st.integers(0, values.size - 1))] = draw(st.sampled_from(SPECIAL))
    with np.errstate(all="ignore"):
        if dtype == "U3":
            return np.nan_to_num(values).astype(np.int64).astype(str).astype("U3")
        if dtype == "datetime64[s]":
            return np.nan_to_num(values).astype(np.int64).astype(dtype)
        return values.astype(dtype)


LAYOUTS = {
    "plain": ("X", "y"),
    "split": ("X", "y", "X_test", "y_test"),
    "unlabelled": ("X",),
    "medmnist": ("train_images", "train_labels", "test_images", "test_labels"),
    "medmnist+val": ("train_images", "train_labels", "val_images", "val_labels",
                     "test_images", "test_labels"),
}
OTHER_KEYS = ("x", "Y", "y_test", "X_test", "val_images", "other")


@given(
    layout=st.sampled_from(sorted(LAYOUTS)),
    extra=st.one_of(st.just([]), st.lists(st.sampled_from(OTHER_KEYS), max_size=2)),
    drop=st.one_of(st.just([]), st.just([]), st.just([]), st.lists(st.integers(0, 5),
                                                                     min_size=1, max_size=1)),
    n=st.integers(1, 40),
    data=st.data(),
    test_fraction=st.sampled_from([0.25, 0.5, 0.9]),
)
def test_npz_archives(layout, extra, drop, n, data, test_fraction):
    keys = [k for i, k in enumerate(LAYOUTS[layout]) if i not in drop] + extra
    contents = {
        key: data.draw(arrays(n, label=key.lower().startswith("y") or key.endswith("labels")),
                       label=key)
        for key in dict.fromkeys(keys)
    }

    def build(tmp: Path) -> Path:
        path = tmp / "data.npz"
        np.savez(path, **contents)
        return path

    in_temp_dir(build, test_fraction=test_fraction)


@given(n=st.integers(4, 60), n_classes=st.integers(1, 6), seed=st.integers(0, 2**32 - 1),
       cut=st.floats(0, 1), flips=st.lists(st.integers(0, 10**6), max_size=8))
def test_truncated_or_corrupted_npz(n, n_classes, seed, cut, flips):
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    np.savez_compressed(buf, X=rng.normal(size=(n, 3)), y=rng.integers(0, n_classes, n))
    raw = bytearray(buf.getvalue())
    for f in flips:
        raw[f % len(raw)] ^= 0xFF
    raw = raw[: int(len(raw) * cut)] if cut < 1 else raw

    def build(tmp: Path) -> Path:
        path = tmp / "cut.npz"
        path.write_bytes(bytes(raw))
        return path

    in_temp_dir(build)


@given(raw=st.binary(max_size=4096), suffix=st.sampled_from([".npz", ".csv", ".tsv", ".png"]))
def test_random_bytes(raw, suffix):
    def build(tmp: Path) -> Path:
        if suffix == ".png":  # a class folder holding the bytes as an image
            (tmp / "a").mkdir()
            (tmp / "a" / f"x{suffix}").write_bytes(raw)
            return tmp
        path = tmp / f"data{suffix}"
        path.write_bytes(raw)
        return path

    in_temp_dir(build)


def test_an_npz_member_that_is_not_an_array_is_refused(tmp_path):
    # Found: np.load hands back a member without the .npy header as bytes; the loader
    # failed with AttributeError ('bytes' object has no attribute 'dtype').
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("X.npy", b"not an array")
    with pytest.raises(DatasetError, match="'X' are not numpy arrays"):
        load_dataset(path)


# ----------------------------------------------------------------------------- CSV
PLAIN_CELLS = st.one_of(st.integers(0, 2).map(str), st.floats(-3, 3).map(repr))
ODD_CELLS = st.one_of(
    st.integers(-5, 5).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "nan", "inf", "-inf", "NaN", "1e999", "abc", "1,5", '"2"',
                     "0x10", "1_000", "\u00e9", "9" * 40, "-1", "99999999999999999999"]),
)


@given(
    header=st.one_of(
        st.permutations(["a", "b", "label"]),
        st.permutations(["id", "a", "label"]),
        st.lists(st.sampled_from(["label", "id", "a", "b", "c", "label ", "\ufeffa"]),
                 min_size=0, max_size=5),
    ),
    n_rows=st.integers(0, 40),
    data=st.data(),
    encoding=st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]),
    suffix=st.sampled_from([".csv", ".tsv"]),
)
def test_csv_tables(header, n_rows, data, encoding, suffix):
    """Rows of the header's width, with odd cells; some rows ragged."""
    rows = []
    for i in range(n_rows):
        width = len(header) if data.draw(st.integers(0, 40)) else data.draw(st.integers(0, 6))
        odd = data.draw(st.integers(0, 12)) == 0
        row = data.draw(st.lists(ODD_CELLS if odd else PLAIN_CELLS, min_size=width,
                                 max_size=width))
        if "id" in header[:width] and not odd:
            row[header.index("id")] = f"r{i}"  # unique ids, unless the row is an odd one
        if "label" in header[:width] and not odd:
            row[header.index("label")] = "abc"[i % 3]
        rows.append(row)
    sep = "\t" if suffix == ".tsv" else ","
    text = "\n".join(sep.join(r) for r in [header, *rows]) + "\n"

    def build(tmp: Path) -> Path:
        path = tmp / f"table{suffix}"
        path.write_bytes(text.encode(encoding, errors="replace"))
        return path

    in_temp_dir(build)


@given(n=st.integers(1, 60), n_features=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       labels=st.sampled_from(["small", "huge", "negative", "text", "float", "one"]))
def test_csv_with_well_formed_rows_and_odd_labels(n, n_features, seed, labels):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    y = {
        "small": rng.integers(0, 3, n).astype(str),
        "huge": (rng.integers(0, 2, n) * 2**62 + 7).astype(str),
        "negative": rng.integers(-2, 2, n).astype(str),
        "text": rng.choice(["cat", "dog", "\u732b"], n),
        "float": rng.choice(["0.0", "1.0", "1.5"], n),
        "one": np.full(n, "7"),
    }[labels]
    lines = [",".join([*(f"f{j}" for j in range(n_features)), "label"])]
    lines += [",".join([*map(repr, row.tolist()), lab]) for row, lab in zip(X, y, strict=True)]

    def build(tmp: Path) -> Path:
        path = tmp / "t.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    in_temp_dir(build)


# ----------------------------------------------------------------------------- image folders
MODES = ("L", "RGB", "RGBA", "P", "1", "I", "F", "LA", "CMYK", "I;16")
#: Class folder names, non-UTF-8 bytes among them (Linux keeps them as surrogate escapes).
FOLDER_NAMES = st.sampled_from(["cat", "dog", "0", "10", " ", "\u732b", "a b",
                                os.fsdecode(b"bad\xff"), os.fsdecode(b"\xc3\x28")])


@st.composite
def image_specs(draw: st.DrawFn) -> tuple[str, tuple[int, int], str, str]:
    mode = draw(st.sampled_from(MODES))
    suffix = draw(st.sampled_from([".png", ".bmp", ".gif", ".jpg", ".tiff"]))
    size = (draw(st.integers(1, 12)), draw(st.integers(1, 12)))
    damage = "none" if draw(st.integers(0, 9)) else draw(st.sampled_from(["truncate", "empty"]))
    return mode, size, suffix, damage


def _write_image(path: Path, mode: str, size: tuple[int, int], damage: str, seed: int) -> None:
    if damage == "empty":
        path.write_bytes(b"")
        return
    rng = np.random.default_rng(seed)
    img = Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    try:
        img = img.convert(mode)
        img.save(path)
    except (OSError, ValueError, KeyError):  # this format cannot hold this mode
        img.convert("RGB").save(path)
    if damage == "truncate":
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])


@given(
    folders=st.dictionaries(FOLDER_NAMES, st.lists(image_specs(), max_size=5), max_size=4),
    empty_folders=st.integers(0, 2),
    loose=st.one_of(st.just([]), st.just([]), st.just([]),
                    st.lists(image_specs(), min_size=1, max_size=2)),
    seed=st.integers(0, 2**32 - 1),
)
def test_image_folders(folders, loose, empty_folders, seed):
    def build(tmp: Path) -> Path:
        root = tmp / "images"
        root.mkdir()
        for k in range(empty_folders):
            (root / f"empty{k}").mkdir()
        for i, spec in enumerate(loose):
            _write_image(root / f"loose{i}{spec[2]}", spec[0], spec[1], spec[3], seed + i)
        for name, specs in folders.items():
            sub = root / name
            sub.mkdir(exist_ok=True)
            for i, (mode, size, suffix, damage) in enumerate(specs):
                _write_image(sub / f"im{i}{suffix}", mode, size, damage, seed + 100 + i)
        return root

    in_temp_dir(build)


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="no image files"):
        load_dataset(tmp_path)


# ----------------------------------------------------------------------------- found by fuzzing
# Each failure the property tests found, as its minimal example.


def test_test_images_of_another_layout_than_train_are_refused(tmp_path):
    # Found: (N, H, W) train images with (N, D) test vectors failed in numpy's transpose.
    path = tmp_path / "m.npz"
    np.savez(path, train_images=np.zeros((4, 4, 4)), train_labels=np.arange(4) % 2,
             test_images=np.zeros((2, 3)), test_labels=np.arange(2))
    with pytest.raises(DatasetError, match="differ in layout"):
        load_dataset(path)


def test_rows_without_values_are_refused(tmp_path):
    # Found: test images of shape (N, 0) failed with "zero-size array to reduction".
    path = tmp_path / "m.npz"
    np.savez(path, train_images=np.zeros((4, 4, 4)), train_labels=np.arange(4) % 2,
             test_images=np.zeros((2, 0)), test_labels=np.arange(2))
    with pytest.raises(DatasetError, match="rows without values"):
        load_dataset(path)


def test_train_and_val_rows_without_a_common_dtype_are_refused(tmp_path):
    # Found: MedMNIST train (float) + val (datetime64) rows raised DTypePromotionError.
    path = tmp_path / "m.npz"
    np.savez(path, train_images=np.zeros((4, 4, 4)), train_labels=np.arange(4) % 2,
             val_images=np.zeros((1, 4, 4), dtype="datetime64[s]"), val_labels=np.array([1]),
             test_images=np.zeros((2, 4, 4)), test_labels=np.arange(2))
    with pytest.raises(DatasetError, match="cannot join train and val rows"):
        load_dataset(path)


def test_a_value_too_far_to_standardise_in_float32_is_refused(tmp_path):
    # Found: a float32 feature of 1e38 in the held-out split, where the training column
    # spans 0..1, standardised to inf: a Dataset with infinite features.
    X = np.stack([np.linspace(0, 1, 8), np.linspace(0, 0.1, 8)], axis=1).astype(np.float32)
    X[7, 1] = 1e38  # (1e38 - mean) / std overflows float32's 3.4e38
    path = tmp_path / "far.npz"
    np.savez(path, X=X[:6], y=np.arange(6) % 2, X_test=X[6:], y_test=np.arange(2))
    with pytest.raises(DatasetError, match="X_test row 1, feature 1: value 1e\\+38 is too far"):
        load_dataset(path)


def test_a_dataset_with_infinite_features_is_invalid():
    with pytest.raises(DatasetError, match="X_test contains NaN or infinite"):
        Dataset("d", np.zeros((2, 1)), np.array([0, 1]), np.array([[np.inf]]), np.array([0]),
                ["a", "b"], "")
