"""Two small helpers every campaign command uses: the time stamp and the test pause hook."""

from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timezone

__all__ = ["now", "pause_point"]


def now() -> str:
    """The current UTC time as an ISO-8601 string with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def pause_point(name: str) -> None:
    """Test hook: sleep at the named point when ``AUTOAL_TEST_PAUSE_AT`` equals ``name``.

    Prints ``PAUSED <name>`` to standard error first, so a test can wait for that line and
    then ``kill -9`` the process at a known moment (inside or outside a transaction).
    ``AUTOAL_TEST_PAUSE_SECONDS`` sets the sleep (default 60). A no-op otherwise.
    """
    if os.environ.get("AUTOAL_TEST_PAUSE_AT") != name:
        return
    sys.stderr.write(f"PAUSED {name}\n")
    sys.stderr.flush()
    time.sleep(float(os.environ.get("AUTOAL_TEST_PAUSE_SECONDS", "60")))
