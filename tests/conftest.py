"""Test-wide settings: one torch thread.

Tiny tensors gain nothing from more threads, and with other processes on the machine
OpenMP's spinning threads can slow small ops tenfold. One thread also keeps CPU results
bit-for-bit reproducible across machines with different core counts.
"""

import torch

torch.set_num_threads(1)
