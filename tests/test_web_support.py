"""Helpers for the labeling-page tests: tiny campaigns (no tests here)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from autoal.campaign import Campaign

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
