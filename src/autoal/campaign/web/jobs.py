"""The page's query runs in the background: one :class:`QueryJob` at a time, in a thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from autoal.campaign.errors import CampaignError
from autoal.campaign.workflow import Campaign

__all__ = ["QueryJob", "QueryRunner"]


@dataclass
class QueryJob:
    """A query running (or run) in the server's background thread.

    Attributes
    ----------
    id : int
        Counts the jobs this server started (1, 2, ...).
    n : int
        Batch size asked for.
    refresh : bool
        Whether a new batch was asked for although the labels did not change.
    state : str
        ``"running"``, ``"done"`` or ``"error"``.
    started_at, finished_at : float
        Unix times (``finished_at`` is None while running).
    round : int or None
        The round the query stored (or reused).
    method : str or None
        How the batch was picked.
    reused : bool
        True when the query returned the pending batch unchanged.
    message : str or None
        The error, for ``state == "error"``.
    notes : list of str
        The query's notes for the user.
    """

    id: int
    n: int
    refresh: bool
    state: str = "running"
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    round: int | None = None
    method: str | None = None
    reused: bool = False
    message: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict, with ``elapsed`` seconds."""
        out = asdict(self)
        end = self.finished_at if self.finished_at is not None else time.time()
        out["elapsed"] = round(end - self.started_at, 1)
        return out


class QueryRunner:
    """Runs at most one query at a time in a daemon thread (its own campaign connection).

    Parameters
    ----------
    open_campaign : callable
        Opens the campaign (a new connection, used by the job's thread only).
    """

    def __init__(self, open_campaign: Callable[[], Campaign]) -> None:
        self._open = open_campaign
        self._lock = threading.Lock()
        self._job: QueryJob | None = None
        self._count = 0
        self._thread: threading.Thread | None = None

    @property
    def job(self) -> QueryJob | None:
        """The running or last job (None before the first)."""
        with self._lock:
            return self._job

    def start(self, n: int, refresh: bool) -> tuple[QueryJob, bool]:
        """Start a query unless one is running; returns (job, started)."""
        with self._lock:
            if self._job is not None and self._job.state == "running":
                return self._job, False
            self._count += 1
            job = QueryJob(id=self._count, n=n, refresh=refresh)
            self._job = job
            self._thread = threading.Thread(target=self._run, args=(job,),
                                            name=f"autoal-query-{job.id}", daemon=True)
            self._thread.start()
            return job, True

    def join(self, timeout: float | None = None) -> None:
        """Wait for the current job's thread (tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, job: QueryJob) -> None:
        try:
            with self._open() as c:
                result = c.query(job.n, refresh=job.refresh)
            job.round, job.method, job.reused = result.round, result.method, result.reused
            job.notes = list(result.notes)
            job.state = "done"
        except CampaignError as err:
            job.message, job.state = str(err), "error"
        except Exception as err:  # noqa: BLE001  (reported to the page, not lost in a thread)
            job.message, job.state = f"the query failed: {type(err).__name__}: {err}", "error"
        finally:
            job.finished_at = time.time()
