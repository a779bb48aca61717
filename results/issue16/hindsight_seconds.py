"""Seconds of the hindsight reward at Fashion-MNIST low and mid sizes (2 folds x 2 resplits).

    PYTHONPATH=src python results/issue16/hindsight_seconds.py \\
        results/issue16/hindsight-reward-seconds.json
"""

import json
import sys
import time

import numpy as np
import torch

from autoal.data import load_dataset
from autoal.search.hindsight import hindsight_rewards

torch.set_num_threads(1)
data = load_dataset("fashion-mnist")
rng = np.random.default_rng(0)
out = {}
for name, before, batch in (("low", 100, 100), ("mid", 1000, 500)):
    idx = rng.permutation(len(data.X_train))[: before + batch]
    X, y = data.X_train[idx], data.y_train[idx]
    scores = rng.random((batch, 7))
    t0 = time.perf_counter()
    hindsight_rewards(X[:before], y[:before], X[before:], y[before:], scores, 10,
                      n_folds=2, n_resplits=2)
    out[name] = time.perf_counter() - t0
    print(name, f"{out[name]:.2f} s", flush=True)
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
