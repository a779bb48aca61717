"""A local two-worker Ray cluster for the tests marked ``ray``, or a skip that says why.

Ray's agents bind to the machine's interface address, so on shared machines these tests
run only inside a network namespace that has nothing but loopback
(``scripts/netns-pytest.sh``); elsewhere they are skipped with that command in the reason.
Set ``AUTOAL_RAY_ANY_NETWORK=1`` to run them on a machine where Ray may use its network.
"""

from __future__ import annotations

import os
import socket

import pytest

HOW = "run them with: scripts/netns-pytest.sh -m ray"


def loopback_only() -> bool:
    """True when the only network interface is ``lo`` (a fresh ``unshare -n`` namespace)."""
    try:
        return [name for _, name in socket.if_nameindex()] == ["lo"]
    except OSError:
        return False


def start_two_node_cluster():
    """``(ray, cluster)``: a head without CPUs and two 1-CPU worker nodes, connected; or a
    ``pytest.skip`` naming why Ray cannot start here."""
    if not (loopback_only() or os.environ.get("AUTOAL_RAY_ANY_NETWORK") == "1"):
        pytest.skip(f"Ray tests skipped: not in a loopback-only network namespace; {HOW}")
    try:
        import ray
        from ray.cluster_utils import Cluster
    except ImportError:
        pytest.skip("Ray tests skipped: ray is not installed (pip install 'autoal[ray]')")
    try:
        cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": 0, "include_dashboard": False},
        )
        for _ in range(2):
            cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, log_to_driver=False)
        cluster.wait_for_nodes()
    except Exception as err:  # any failure to start is a reason to skip, stated
        pytest.skip(f"Ray tests skipped: a local Ray cluster could not start ({err}); {HOW}")
    return ray, cluster
