"""Helpers shared by the unit and integration tests (no tests here): the repository root,
scikit-learn's digits loaded once, planted blobs, data files (array folders included), tiny
campaigns, the blob campaigns' data of the durability and fault tests, made-up run records,
and full synthetic evidence with a learner that gives it.

Fixtures built on them live in ``tests/conftest.py``; ``pythonpath = ["tests"]`` in
pyproject.toml makes this module importable as ``support`` from every test folder.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits as _load_digits
from sklearn.utils import Bunch

from autoal import Evidence, EvidenceRequest
from autoal.campaign import Campaign
from autoal.campaign.store import DB_NAME
from autoal.scale.shards import write_shards

#: The repository root (benchmarks/, docs/, the Makefile).
REPO_ROOT = Path(__file__).resolve().parents[1]

#: Class names of the digits campaigns ("0" .. "9").
DIGITS = [str(d) for d in range(10)]


@lru_cache(maxsize=1)
def load_digits() -> Bunch:
    """scikit-learn's digits, read once per test process (treat the arrays as read-only)."""
    return _load_digits()


def planted_blobs(centres: np.ndarray, y: np.ndarray, rng: np.random.Generator,
                  scale: float = 1.0) -> np.ndarray:
    """Points ``centres[y]`` plus Gaussian noise of standard deviation ``scale`` from ``rng``."""
    centres = np.asarray(centres, dtype=np.float64)
    return centres[y] + rng.normal(scale=scale, size=(len(y), centres.shape[1]))


# -- data files ---------------------------------------------------------------------------------
def write_npz(path: Path, X: np.ndarray) -> Path:
    """An ``.npz`` holding only features ``X`` (float32): unlabeled campaign data."""
    np.savez(path, X=X.astype(np.float32))
    return path


def write_array_folder(root: Path, X: np.ndarray, y: np.ndarray, X_test: np.ndarray,
                       y_test: np.ndarray, shards: int = 0) -> Path:
    """An array folder at ``root`` (new): ``X_train.npy`` (or an ``X_train/`` folder of
    ``shards`` shards), ``y_train.npy``, ``X_test.npy`` and ``y_test.npy``."""
    root.mkdir()
    if shards:
        write_shards(X, root / "X_train", shards)
    else:
        np.save(root / "X_train.npy", X)
    for name, a in (("y_train", y), ("X_test", X_test), ("y_test", y_test)):
        np.save(root / f"{name}.npy", a)
    return root


def write_digits_csv(path: Path, X: np.ndarray, target: np.ndarray, start: int = 0,
                     prefix: str = "d") -> dict[str, str]:
    """Rows ``start, start+1, ...`` of ``X`` as a CSV with ids ``<prefix><row>`` and integer
    pixel columns ``p0..``; returns id -> true class (from ``target``, indexed like ``X``)."""
    rows = X[start:]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *(f"p{j}" for j in range(X.shape[1]))])
        for i, x in enumerate(rows, start):
            w.writerow([f"{prefix}{i}", *(int(v) for v in x)])
    return {f"{prefix}{i}": str(target[i]) for i in range(start, start + len(rows))}


def true_accuracy(camp: Path, truth: dict[str, str]) -> float:
    """The latest model round's accuracy on the items not labeled now (from its stored
    guesses on every item it did not train on)."""
    conn = sqlite3.connect(camp / DB_NAME)
    rid = conn.execute("SELECT MAX(round_id) FROM round_predictions").fetchone()[0]
    guesses = dict(conn.execute(
        "SELECT item_id, guess FROM round_predictions WHERE round_id = ?", (rid,)))
    labeled = {r[0] for r in conn.execute("SELECT item_id FROM labels")}
    conn.close()
    rest = [i for i in truth if i not in labeled]
    assert rest and all(i in guesses for i in rest)
    return float(np.mean([guesses[i] == truth[i] for i in rest]))


# -- tiny campaigns -----------------------------------------------------------------------------

CLASSES = ("zero", "one", "two")


def digits_012(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` digits 0, 1 and 2 of scikit-learn's digits: images (n, 8, 8), targets."""
    d = load_digits()
    keep = np.flatnonzero(d.target < 3)[:n]
    return d.images[keep], d.target[keep]


def write_png_folder(folder: Path, n: int = 60) -> dict[str, str]:
    """``n`` greyscale 8x8 digit PNGs in ``folder``; returns item id -> true class name."""
    folder.mkdir(parents=True, exist_ok=True)
    images, target = digits_012(n)
    truth = {}
    for k, (img, y) in enumerate(zip(images, target, strict=True)):
        name = f"img{k:03d}.png"
        Image.fromarray((img * 255 / 16).astype(np.uint8), mode="L").save(folder / name)
        truth[name] = CLASSES[int(y)]
    return truth


def image_campaign(root: Path, *, strategy: str = "margin", n: int = 60, epochs: int = 2,
                   min_steps: int = 0) -> tuple[Path, Path, dict[str, str]]:
    """A campaign on ``n`` PNGs (3 classes, a fast MLP): (campaign dir, data folder, truth)."""
    folder = root / "images"
    truth = write_png_folder(folder, n)
    camp = root / "camp"
    Campaign.init(camp, folder, CLASSES, strategy=strategy, model="mlp", epochs=epochs,
                  min_steps=min_steps).close()
    return camp, folder, truth


def csv_campaign(root: Path, n: int = 30) -> tuple[Path, Path, dict[str, str]]:
    """A campaign on ``n`` digit rows of a CSV (64 pixel columns, ids ``r<k>``)."""
    images, target = digits_012(n)
    path = root / "digits.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", *(f"p{j}" for j in range(64))])
        for k, img in enumerate(images):
            w.writerow([f"r{k}", *(int(v) for v in img.ravel())])
    truth = {f"r{k}": CLASSES[int(y)] for k, y in enumerate(target)}
    camp = root / "camp-csv"
    Campaign.init(camp, path, CLASSES, strategy="margin", model="mlp", epochs=2,
                  min_steps=0).close()
    return camp, path, truth


def npz_image_campaign(root: Path, n: int = 30, colour: bool = False) -> tuple[Path, Path]:
    """A campaign on an ``.npz`` of ``n`` images (N, 1 or 3, 8, 8) in [0, 1]."""
    images, _ = digits_012(n)
    X = (images / 16.0).astype(np.float32)[:, None]
    if colour:
        X = np.concatenate([X, 1 - X, X * 0.5], axis=1)
    path = root / ("colour.npz" if colour else "grey.npz")
    np.savez(path, X=X)
    camp = root / ("camp-rgb" if colour else "camp-npz")
    Campaign.init(camp, path, CLASSES, strategy="margin", model="mlp", epochs=2,
                  min_steps=0).close()
    return camp, path


# -- blob campaigns (the durability and fault tests) -----------------------------------------

#: Class names of the blob campaigns: item ``i<k>`` is of class ``BLOB_CLASSES[k % 3]``.
BLOB_CLASSES = "xyz"


def blob_label(k: int) -> str:
    """The true class of blob item ``i<k>``."""
    return BLOB_CLASSES[k % 3]


def write_blob_csv(path: Path, n_items: int, labeled: int = 0) -> Path:
    """``n_items`` points of 3 blobs (4 features, centres 3 apart, seed 0) as a campaign CSV
    with ids ``i<k>``; with ``labeled`` > 0, a ``label`` column giving the first ``labeled``
    items their true class (empty for the rest)."""
    rng = np.random.default_rng(0)
    y = np.arange(n_items) % 3
    X = rng.normal(size=(n_items, 4)) + 3 * y[:, None]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "a", "b", "c", "d", *(["label"] if labeled else [])])
        for k, x in enumerate(X):
            label = [blob_label(k) if k < labeled else ""] if labeled else []
            w.writerow([f"i{k}", *np.round(x, 4), *label])
    return path


def write_blob_labels(path: Path, ids: Iterable[int]) -> Path:
    """A teach file (``id,label``) giving blob items ``i<k>``, ``k`` in ``ids``, their true
    class."""
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "label"])
        w.writerows((f"i{k}", blob_label(k)) for k in ids)
    return path


# -- made-up run records ------------------------------------------------------------------------
def write_runs(folder: Path, runs: list[dict[str, Any]]) -> None:
    """Write run records under ``folder/runs`` with the bench's file names."""
    (folder / "runs").mkdir(parents=True)
    for r in runs:
        m = r["bench"]
        name = f"{m['dataset']}__{m['regime']}__{m['variant']}__{m['seed']}.json"
        (folder / "runs" / name).write_text(json.dumps(r))


def fake_run(variant: str = "autoal", seed: int = 0, aubc: float = 0.5, *,
             strategy: str = "autoal", n_rounds: int = 3, accuracy: float | None = None,
             weights: list[list[float]] | None = None, options: dict[str, Any] | None = None,
             dataset: str = "d", regime: str = "low") -> dict[str, Any]:
    """A benchmark run record as the report reads it: rounds ``0..n_rounds-1`` with 10, 15,
    ... labels, ``accuracy`` (default: ``aubc``) and one second of training each; with
    ``weights``, round ``i >= 1`` records candidate weights ``{"a": .., "b": ..}`` from
    ``weights[i - 1]``."""
    rounds = []
    for i in range(n_rounds):
        r: dict[str, Any] = {"round": i, "labeled": 10 + 5 * i,
                             "accuracy": aubc if accuracy is None else accuracy,
                             "seconds": {"train": 1.0}}
        if weights is not None and i >= 1:
            r["weights"] = dict(zip(("a", "b"), weights[i - 1], strict=True))
        rounds.append(r)
    return {
        "aubc": aubc, "config": {}, "rounds": rounds,
        "bench": {"dataset": dataset, "regime": regime, "variant": variant, "seed": seed,
                  "strategy": strategy, "options": options or {}},
    }


# -- synthetic evidence -------------------------------------------------------------------------
#: Pool size, classes, embedding width and MC samples of :func:`full_evidence`.
N, C, D, T = 120, 4, 6, 8


def full_evidence(seed: int = 0, n: int = N) -> Evidence:
    """Evidence with every field filled (random but valid), for ``n`` pool samples."""
    rng = np.random.default_rng(seed)
    mc = rng.dirichlet(np.ones(C) * 0.7, size=(T, n))
    centres = rng.normal(size=(C, 2)) * 3
    y_lab = np.arange(40) % C
    x_pool = centres[rng.integers(0, C, n)] + rng.normal(size=(n, 2))
    x_lab = centres[y_lab] + rng.normal(size=(40, 2))
    return Evidence(
        probs=mc.mean(axis=0),
        mc_probs=mc,
        embeddings=rng.normal(size=(n, D)),
        labeled_embeddings=rng.normal(size=(40, D)),
        labeled_probs=rng.dirichlet(np.ones(C), size=40),
        predicted_loss=rng.random(n),
        inputs=x_pool.astype(np.float32),
        labeled_inputs=x_lab.astype(np.float32),
        labeled_targets=y_lab,
    )


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class FeatureLearner:
    """A :class:`~autoal.models.Learner` whose every evidence field is a fixed function of a
    sample's features (equal rows get equal evidence): cheap, and it gives every field a
    strategy can ask for (probabilities, MC samples, embeddings, predicted loss, inputs)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, X: np.ndarray, y: np.ndarray, n_classes: int | None = None) -> FeatureLearner:
        flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
        self.n_classes_ = int(n_classes or np.max(y) + 1)
        rng = np.random.default_rng(self.seed)
        d = flat.shape[1]
        self.W_ = rng.normal(size=(d, self.n_classes_))
        self.V_ = rng.normal(size=(32, d, self.n_classes_)) * 0.5
        self.P_ = rng.normal(size=(d, D))
        self.u_ = rng.normal(size=d)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return _softmax(np.asarray(X, dtype=np.float64).reshape(len(X), -1) @ self.W_)

    def evidence(self, X_pool: np.ndarray, X_labeled: np.ndarray | None = None,
                 y_labeled: np.ndarray | None = None, *,
                 request: EvidenceRequest | None = None) -> Evidence:
        request = request or EvidenceRequest()
        xp = np.asarray(X_pool, dtype=np.float64).reshape(len(X_pool), -1)
        fields = {
            "probs": self.predict_proba(X_pool),
            "embeddings": xp @ self.P_,
            "predicted_loss": np.log1p(np.exp(xp @ self.u_)),
        }
        if request.mc_samples:
            fields["mc_probs"] = np.stack(
                [_softmax(xp @ (self.W_ + v)) for v in self.V_[: request.mc_samples]]
            )
        if X_labeled is not None and len(X_labeled):
            xl = np.asarray(X_labeled, dtype=np.float64).reshape(len(X_labeled), -1)
            fields["labeled_embeddings"] = xl @ self.P_
            fields["labeled_probs"] = self.predict_proba(X_labeled)
            if request.with_inputs:
                fields.update(inputs=np.asarray(X_pool, dtype=np.float32),
                              labeled_inputs=np.asarray(X_labeled, dtype=np.float32),
                              labeled_targets=np.asarray(y_labeled, dtype=np.int64))
        return Evidence(**fields)


def tiny_bench_config(variants: str, seeds: str = "0", rounds: int = 1) -> str:
    """A bench config of one digits regime (10 + rounds x 10 labels, 1 epoch, T = 5) with
    the given ``[variants]`` lines: the smallest grid the bench tests run."""
    return f"""
[protocol]
seeds = [{seeds}]
epochs = 1
mc_samples = 5
device = "cpu"
[regimes.low]
init = 10
budget = 10
rounds = {rounds}
[datasets.digits]
regimes = ["low"]
[variants]
{variants}
"""
