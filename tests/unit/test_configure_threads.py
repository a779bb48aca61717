"""configure_threads limits torch and the native BLAS/OpenMP pools (in a fresh process: the
limits are process-wide)."""

from __future__ import annotations

import json
import subprocess
import sys

CHECK = """
import json, torch
from threadpoolctl import threadpool_info
from autoal.models.device import configure_threads
import sklearn.cluster  # scikit-learn's OpenMP runtime, which k-means uses
configure_threads({n})
print(json.dumps({{"torch": torch.get_num_threads(),
                   "pools": sorted({{p["internal_api"]: p["num_threads"]
                                     for p in threadpool_info()}}.items())}}))
"""


def _threads(n: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHECK.format(n=n)], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_one_thread_everywhere():
    got = _threads(1)
    assert got["torch"] == 1
    pools = dict(got["pools"])
    assert "openmp" in pools  # scikit-learn's k-means runtime, the one that oversubscribed
    assert set(pools.values()) == {1}  # and BLAS, whichever build numpy has

