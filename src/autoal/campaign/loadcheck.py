"""Drive a running labeling server with concurrent clients, then check the database.

Used by ``benchmarks/server_load.py`` (the figures) and the load test. Each client sends a
random mix of requests (labels of its own items, undo, status, batch, next-batch queries and
deliberately bad labels) over loopback and records every answer; :func:`verify` then checks
the campaign's database against what the server (and the CLI teaches that ran meanwhile)
accepted: every accepted label is logged exactly once, every accepted undo is recorded,
nothing rejected left a trace, and ``PRAGMA integrity_check`` is ok.
"""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_MIX", "Outcome", "drive", "start_server", "summarize", "teach_files",
           "verify"]

#: Share of each kind of request a client sends.
DEFAULT_MIX: dict[str, float] = {"label": 0.45, "status": 0.2, "batch": 0.2, "undo": 0.04,
                                 "query": 0.03, "bad_label": 0.08}


@dataclass
class Outcome:
    """One request and its answer.

    Attributes
    ----------
    kind : str
        A key of the mix (``"label"``, ``"undo"``, ...).
    status : int
        HTTP status (0: no answer, e.g. the connection failed).
    seconds : float
        From sending to the end of the answer.
    sent : dict
        The JSON body sent (empty for GET).
    answer : dict or None
        The JSON answer, if it was JSON.
    retry_after : str or None
        The ``Retry-After`` header of the answer.
    """

    kind: str
    status: int
    seconds: float
    sent: dict[str, Any] = field(default_factory=dict)
    answer: dict[str, Any] | None = None
    retry_after: str | None = None


def _request(url: str, kind: str, method: str, body: dict[str, Any] | None,
             timeout: float) -> Outcome:
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    t0 = time.perf_counter()
    status, raw, retry = 0, b"", None
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw, retry = err.code, err.read(), err.headers.get("Retry-After")
    except OSError:
        pass
    seconds = time.perf_counter() - t0
    try:
        answer = json.loads(raw) if raw else None
    except ValueError:
        answer = None
    return Outcome(kind, status, seconds, body or {}, answer if isinstance(answer, dict)
                   else None, retry)


def _client(base: str, ids: list[str], classes: Sequence[str], n: int, rng: random.Random,
            mix: dict[str, float], timeout: float, out: list[Outcome]) -> None:
    kinds, weights = list(mix), list(mix.values())
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        if kind in ("label", "bad_label") and not ids:
            kind = "status"
        if kind == "label":
            body = {"id": ids.pop(), "label": rng.choice(list(classes))}
            out.append(_request(base + "api/label", kind, "POST", body, timeout))
        elif kind == "bad_label":
            body = {"id": ids.pop(), "label": "no-such-class"}
            out.append(_request(base + "api/label", kind, "POST", body, timeout))
        elif kind == "undo":
            out.append(_request(base + "api/undo", kind, "POST", {}, timeout))
        elif kind == "query":
            out.append(_request(base + "api/query", kind, "POST", {"n": 5}, timeout))
        elif kind == "batch":
            out.append(_request(base + "api/batch", kind, "GET", None, timeout))
        else:
            out.append(_request(base + "api/status", kind, "GET", None, timeout))


def drive(base: str, item_ids: Sequence[str], classes: Sequence[str], *, clients: int,
          requests_per_client: int, mix: dict[str, float] | None = None, seed: int = 0,
          timeout: float = 60.0) -> tuple[list[Outcome], float]:
    """Run ``clients`` threads of ``requests_per_client`` requests each against ``base``.

    Parameters
    ----------
    base : str
        The server's URL, ending in ``/``.
    item_ids : sequence of str
        Unlabeled items; each client labels (or mislabels) its own share, never another's.
    classes : sequence of str
        The campaign's classes.
    clients, requests_per_client : int
        How many threads and how many requests each sends.
    mix : dict, optional
        Share of each kind of request (default :data:`DEFAULT_MIX`).
    seed : int
        Seeds each client's choices.
    timeout : float
        Seconds a request may take before it counts as unanswered.

    Returns
    -------
    outcomes : list of Outcome
        Every request, in no particular order.
    seconds : float
        Wall-clock time of the whole run.
    """
    mix = mix or DEFAULT_MIX
    shares = [list(item_ids[k::clients]) for k in range(clients)]
    results: list[list[Outcome]] = [[] for _ in range(clients)]
    threads = [threading.Thread(target=_client, args=(
        base, shares[k], classes, requests_per_client, random.Random(seed * 1000 + k), mix,
        timeout, results[k])) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [o for r in results for o in r], time.perf_counter() - t0


def start_server(directory: str | Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    """Start ``autoal campaign serve DIRECTORY --port 0`` (loopback, a free port).

    Returns the process (stop it with ``terminate``) and the page's URL, ending in ``/``.

    Raises
    ------
    RuntimeError
        The server did not start (with its error output).
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "autoal.cli", "campaign", "serve", str(directory), "--port", "0",
         *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "serving campaign" not in line:
        proc.kill()
        raise RuntimeError(f"the server did not start: {line!r}")
    return proc, line.rsplit(" at ", 1)[1].strip()


def teach_files(directory: str | Path, batches: Sequence[dict[str, str]], folder: Path,
                ) -> list[tuple[dict[str, str], str, bool]]:
    """Run ``autoal campaign teach`` once per batch (a CSV written to ``folder``), in turn.

    Returns, per batch, what :func:`verify` takes: the labels, the file name recorded as the
    teach's source, and whether the command succeeded (exit 0).
    """
    done = []
    for k, labels in enumerate(batches):
        path = folder / f"teach-{k}.csv"
        path.write_text("id,label\n" + "".join(f"{i},{v}\n" for i, v in labels.items()))
        rc = subprocess.run([sys.executable, "-m", "autoal.cli", "campaign", "teach",
                             str(directory), str(path)], capture_output=True).returncode
        done.append((labels, str(path), rc == 0))
    return done


def summarize(outcomes: Sequence[Outcome], seconds: float) -> dict[str, Any]:
    """Requests per second, latency percentiles (ms) and answers by kind and status."""
    import numpy as np

    lat = np.array([o.seconds for o in outcomes]) * 1000.0
    by_kind: dict[str, dict[str, int]] = {}
    for o in outcomes:
        by_kind.setdefault(o.kind, Counter())[str(o.status)] += 1
    errors = Counter(f"{o.kind} {o.status}" for o in outcomes
                     if o.status == 0 or o.status >= 500)
    return {
        "requests": len(outcomes),
        "seconds": round(seconds, 2),
        "requests_per_second": round(len(outcomes) / seconds, 1) if seconds > 0 else None,
        "latency_ms": {"p50": round(float(np.percentile(lat, 50)), 1),
                       "p99": round(float(np.percentile(lat, 99)), 1),
                       "max": round(float(lat.max()), 1)} if len(lat) else {},
        "by_kind": {k: dict(sorted(v.items())) for k, v in sorted(by_kind.items())},
        "server_errors": dict(errors),
    }


def verify(db_path: str | Path, outcomes: Sequence[Outcome],
           cli_teaches: Sequence[tuple[dict[str, str], str, bool]] = ()) -> list[str]:
    """Check the database against the answers; return the problems found (empty: all good).

    Parameters
    ----------
    db_path : path
        The campaign's ``campaign.db`` (opened read-only).
    outcomes : sequence of Outcome
        What :func:`drive` recorded.
    cli_teaches : sequence of (labels, source, accepted)
        Teaches run by the CLI meanwhile: item id -> label, the file name recorded as their
        source, and whether the command succeeded.
    """
    problems: list[str] = []
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            problems.append(f"integrity_check: {check}")
        events: dict[str, list[tuple[int, str]]] = {}
        for teach_id, item_id, new in conn.execute(
                "SELECT teach_id, item_id, new_label FROM label_events"):
            events.setdefault(item_id, []).append((teach_id, new))
        teaches = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT teach_id, source, undone_at FROM teaches WHERE kind = 'teach'")}
        labels = dict(conn.execute("SELECT item_id, label FROM labels").fetchall())
    finally:
        conn.close()

    for o in outcomes:
        if o.status == 0 or (o.status >= 500 and o.status != 503):
            problems.append(f"{o.kind} {o.sent} answered {o.status}: {o.answer}")
        elif o.status >= 400 and not (o.answer or {}).get("error"):
            problems.append(f"{o.kind} {o.sent} answered {o.status} without a message")
        if o.status == 503 and not o.retry_after:
            problems.append(f"{o.kind} answered 503 without Retry-After")

    undone = {int(o.answer["result"]["teach_id"]) for o in outcomes
              if o.kind == "undo" and o.status == 200 and o.answer}
    n_undos = sum(1 for o in outcomes if o.kind == "undo" and o.status == 200)
    db_undone = {t for t, (_, when) in teaches.items() if when is not None}
    if undone != db_undone or n_undos != len(db_undone):
        problems.append(f"undos answered {sorted(undone)} but the database shows "
                        f"{sorted(db_undone)} undone")

    expected: dict[str, str] = {}
    accepted: list[tuple[str, str, int | None, str]] = []
    for o in outcomes:
        if o.kind in ("label", "bad_label"):
            item, label = o.sent["id"], o.sent["label"]
            if o.status == 200 and o.answer:
                accepted.append((item, label, o.answer["result"]["teach_id"], "web page"))
            elif events.get(item):
                problems.append(f"rejected {o.kind} of {item} ({o.status}) left {events[item]}")
    for pairs, source, ok in cli_teaches:
        for item, label in pairs.items():
            if ok:
                accepted.append((item, label, None, source))
            elif events.get(item):
                problems.append(f"failed CLI teach of {item} left {events[item]}")
    web_teaches = sum(1 for _, (src, _) in teaches.items() if src == "web page")
    if web_teaches != sum(1 for a in accepted if a[3] == "web page"):
        problems.append(f"{web_teaches} web teaches in the database, "
                        f"{sum(1 for a in accepted if a[3] == 'web page')} answered 200")
    for item, label, teach_id, source in accepted:
        log = events.get(item, [])
        if len(log) != 1 or log[0][1] != label:
            problems.append(f"accepted label {item}={label} is logged {log}")
            continue
        tid = log[0][0]
        if (teach_id is not None and tid != teach_id) or teaches.get(tid, ("",))[0] != source:
            problems.append(f"accepted label {item}={label} is in teach {tid}, "
                            f"answered {teach_id} from {source}")
        if tid not in db_undone:
            expected[item] = label
    if labels != expected:
        extra = {k: v for k, v in labels.items() if expected.get(k) != v}
        missing = {k: v for k, v in expected.items() if labels.get(k) != v}
        problems.append(f"labels differ from the accepted ones: extra {extra}, "
                        f"missing {missing}")
    return problems
