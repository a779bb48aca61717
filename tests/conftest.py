"""Test-wide settings: one torch thread, before every test.

Tiny tensors gain nothing from more threads, and with other processes on the machine
OpenMP's spinning threads can slow small ops tenfold. One thread also keeps CPU results
bit-for-bit reproducible across machines with different core counts. The fixture re-applies
it per test because commands under test (``autoal run``) set threads to the core count.
"""

import _hypothesis_profiles  # noqa: F401  (registers and loads the hypothesis profile)
import pytest
import torch

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(1)


# -- shared data (helpers in support.py) --------------------------------------------------------
@pytest.fixture(scope="session")
def digits_dataset():
    """autoal's built-in ``digits`` :class:`~autoal.data.Dataset` (loaded once)."""
    from autoal.data import load_dataset

    return load_dataset("digits")


@pytest.fixture()
def digits_csv(tmp_path):
    """The first 500 digits as a CSV with ids ``d0..d499`` (no labels): (path, id -> class)."""
    from support import load_digits, write_digits_csv

    d = load_digits()
    path = tmp_path / "digits.csv"
    return path, write_digits_csv(path, d.data[:500], d.target)


@pytest.fixture()
def digits_npz(tmp_path):
    """The first 600 digits as an ``.npz`` of features only: (path, id -> class)."""
    from support import load_digits, write_npz

    d = load_digits()
    path = write_npz(tmp_path / "digits.npz", d.data[:600])
    return path, {str(i): str(t) for i, t in enumerate(d.target[:600])}


@pytest.fixture(scope="session")
def ray_cluster():
    """``ray`` connected to a local cluster of two worker nodes (tests/ray_support.py), shared
    by every test marked ``ray``; skipped with the reason where Ray cannot start."""
    from ray_support import start_two_node_cluster

    ray, cluster = start_two_node_cluster()
    yield ray
    ray.shutdown()
    cluster.shutdown()
