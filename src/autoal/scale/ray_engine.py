"""Connecting to Ray: a guarded import and a clear error for an address that cannot be reached."""

from __future__ import annotations

import socket
from typing import Any

__all__ = ["RayUnavailableError", "RayUnreachableError", "connect", "import_ray"]


class RayUnavailableError(ImportError):
    """Ray is not installed: ``pip install 'autoal[ray]'``."""


class RayUnreachableError(ValueError):
    """No Ray cluster answers at the given address; the message names the address."""


def import_ray() -> Any:
    """The ``ray`` module, or :class:`RayUnavailableError` saying how to install it."""
    try:
        import ray
    except ImportError as err:
        raise RayUnavailableError(
            "Ray is not installed; install the extra: pip install 'autoal[ray]'"
        ) from err
    return ray


def _host_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of a ``host:port`` or ``ray://host:port`` address, else None."""
    bare = address.split("://", 1)[-1]
    host, sep, port = bare.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]") or "127.0.0.1", int(port)


def connect(address: str | None = None, timeout_s: float = 5.0, **init_kwargs: Any) -> Any:
    """Join the Ray cluster at ``address`` (``host:port`` of its head), or start a local
    one when ``address`` is None; reuse a connection already made (once ``address``
    answers). Returns ``ray``.

    A ``host:port`` that refuses a TCP connection within ``timeout_s`` raises
    :class:`RayUnreachableError` naming it, before Ray tries (and retries) for minutes.
    """
    ray = import_ray()
    if address is not None and address != "auto":
        target = _host_port(address)
        if target is None:
            raise RayUnreachableError(f"Ray address {address!r} is not of the form host:port")
        try:
            socket.create_connection(target, timeout=timeout_s).close()
        except OSError as err:
            raise RayUnreachableError(
                f"cannot reach a Ray cluster at {address}: {err.strerror or err}"
            ) from None
    if ray.is_initialized():
        return ray
    init_kwargs.setdefault("include_dashboard", False)
    init_kwargs.setdefault("log_to_driver", False)
    try:
        ray.init(address=address, **init_kwargs)
    except ConnectionError as err:
        raise RayUnreachableError(f"cannot join the Ray cluster at {address}: {err}") from None
    return ray
