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
