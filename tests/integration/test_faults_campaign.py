"""SIGKILL of every campaign command, and of the labeling server, at random moments.

The campaign is used as a black box: its CLI (``python -m autoal.cli campaign ...``) and
its web API over loopback; its database is only opened for SQLite's integrity check. After
every kill: ``PRAGMA integrity_check`` is ok, ``status`` answers and agrees with an export,
and the label count is what was accepted (a teach or undo wholly in or wholly out, every
label the server answered 200 for still there). ``AUTOAL_FAULT_ROUNDS`` kills per command.
"""

from __future__ import annotations

import csv
import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from support import write_blob_csv, write_blob_labels

CMD = [sys.executable, "-m", "autoal.cli", "campaign"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
ROUNDS = int(os.environ.get("AUTOAL_FAULT_ROUNDS", "2"))
N_ITEMS = 120

pytestmark = pytest.mark.slow


def run(*args: object, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CMD, *map(str, args)], capture_output=True, text=True, env=ENV,
                          timeout=timeout)


def start(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen([*CMD, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)


def kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)


@pytest.fixture
def camp(tmp_path: Path) -> Path:
    """A campaign on 120 points in 3 blobs, 30 of them labeled."""
    data = write_blob_csv(tmp_path / "blobs.csv", N_ITEMS, labeled=30)
    directory = tmp_path / "camp"
    res = run("init", directory, "--data", data, "--classes", "x,y,z", "--strategy", "margin",
              "--epochs", "10")
    assert res.returncode == 0, res.stderr
    return directory


def check(directory: Path, tmp_path: Path) -> int:
    """Integrity ok, status answers and agrees with an export; returns the label count."""
    (db,) = directory.glob("*.db")
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    status = run("status", directory, "--no-estimate")
    assert status.returncode == 0, status.stderr
    counts = dict(re.findall(r"(labeled|skipped|unlabeled|pending) (\d+)", status.stdout))
    labeled = int(counts["labeled"])
    assert labeled + int(counts["skipped"]) + int(counts["unlabeled"]) == N_ITEMS
    out = tmp_path / "check-export.csv"
    res = run("export", directory, "--out", out)
    assert res.returncode == 0, res.stderr
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == labeled and len({r["id"] for r in rows}) == labeled
    return labeled


def kill_at_random(args: list[object], seconds: float, rng: np.random.Generator) -> bool:
    """Start a command, SIGKILL it at a random moment of its usual run time; True if it
    finished before the kill."""
    proc = start(*args)
    time.sleep(float(rng.uniform(0.0, seconds)))
    finished = proc.poll() is not None
    kill(proc)
    return finished


def timed(*args: object) -> float:
    t0 = time.perf_counter()
    res = run(*args)
    assert res.returncode == 0, res.stderr
    return time.perf_counter() - t0


# ----------------------------------------------------------------------------- commands
def test_sigkill_of_query_while_training(camp, tmp_path):
    rng = np.random.default_rng(11)
    seconds = timed("query", camp, "-n", "5")
    finished = 0
    for _ in range(ROUNDS):
        finished += kill_at_random(["query", camp, "-n", "5", "--refresh"], seconds, rng)
        assert check(camp, tmp_path) == 30  # a query changes no label
    print(f"FAULTS query: {ROUNDS} SIGKILLs ({finished} after the command ended), 0 lost")
    res = run("query", camp, "-n", "5", "--refresh")
    assert res.returncode == 0, res.stderr


def test_sigkill_of_teach_and_undo(camp, tmp_path):
    rng = np.random.default_rng(12)
    labeled = check(camp, tmp_path)
    seconds = timed("status", camp, "--no-estimate") + 1.0  # start-up, then the work
    kills = {"teach": [0, 0], "undo": [0, 0]}  # [killed, landed]
    for attempt in range(ROUNDS):
        ids = range(30 + 20 * (attempt % 4), 50 + 20 * (attempt % 4))
        kill_at_random(["teach", camp, write_blob_labels(tmp_path / f"t{attempt}.csv", ids)],
                       seconds, rng)
        now = check(camp, tmp_path)
        assert now - labeled in (0, len(ids)), (labeled, now)  # wholly in or wholly out
        kills["teach"][0] += 1
        kills["teach"][1] += now != labeled
        labeled = now
        if labeled == 30:
            continue  # nothing of ours to undo
        kill_at_random(["undo", camp], seconds, rng)
        now = check(camp, tmp_path)
        assert labeled - now in (0, 20), (labeled, now)
        kills["undo"][0] += 1
        kills["undo"][1] += now != labeled
        labeled = now
    print(f"FAULTS teach/undo: [killed, landed wholly] {kills}; none half-applied")


def test_sigkill_of_export_leaves_the_old_file_or_the_new_one(camp, tmp_path):
    rng = np.random.default_rng(13)
    out = tmp_path / "labels.csv"
    seconds = timed("export", camp, "--out", out)
    old = out.read_bytes()
    more = write_blob_labels(tmp_path / "more.csv", range(30, 45))
    assert run("teach", camp, more).returncode == 0
    for _ in range(ROUNDS):
        kill_at_random(["export", camp, "--out", out], seconds, rng)
        with out.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert out.read_bytes() == old or len(rows) == 45  # never a part of a file
    assert check(camp, tmp_path) == 45

    # Killed between writing its temporary file and the rename: the file stays behind,
    # until the next export of the same target removes it.
    proc = subprocess.Popen([sys.executable, "-c", EXPORT_PAUSED_AT_RENAME, "export", camp,
                             "--out", out], stdout=subprocess.PIPE, text=True, env=ENV)
    assert proc.stdout is not None and proc.stdout.readline() == "RENAMING\n"
    kill(proc)
    (left,) = out.parent.glob(f".{out.name}.*.tmp")
    assert left.read_bytes().count(b"\n") == 46  # the new export, whole, never published
    assert run("export", camp, "--out", out).returncode == 0
    assert not list(out.parent.glob("*.tmp")) and len(out.read_text().splitlines()) == 46
    print(f"FAULTS export: {ROUNDS + 1} SIGKILLs, the file always whole, no file left behind")


# ``autoal campaign ARGS`` that prints RENAMING and waits there before its atomic rename.
EXPORT_PAUSED_AT_RENAME = """
import os, sys, time
from autoal.cli import main
def paused(src, dst):
    print("RENAMING", flush=True)
    time.sleep(120)
os.replace = paused
main(["campaign", *sys.argv[1:]])
"""


# ----------------------------------------------------------------------------- web server
def post(url: str, path: str, payload: dict) -> tuple[int, dict]:
    req = urllib.request.Request(f"{url}{path}", data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def exported_labels(directory: Path, tmp_path: Path) -> dict[str, str]:
    check(directory, tmp_path)
    with (tmp_path / "check-export.csv").open(newline="") as fh:
        return {r["id"]: r["label"] for r in csv.DictReader(fh)}


def test_sigkill_of_the_labeling_server_loses_no_accepted_label(camp, tmp_path):
    """Two clients relabel their own items over and over until the server is killed: each
    item then holds the last label answered 200, or the one in flight at the kill."""
    pytest.importorskip("flask")
    rng = np.random.default_rng(14)
    allowed = {item: {label} for item, label in exported_labels(camp, tmp_path).items()}
    totals = {"sent": 0, "accepted": 0, "in_flight": 0}
    for _ in range(ROUNDS):
        server = start("serve", camp, "--port", "0")
        assert server.stdout is not None
        line = server.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, line
        url = match.group(1)
        stop = threading.Event()
        history: dict[str, list[tuple[str, int | None]]] = {}

        def click(client: int, url: str = url, stop: threading.Event = stop,
                  history: dict = history) -> None:
            ids = [f"i{k}" for k in range(30 + client, N_ITEMS, 2)]
            for n in range(10**6):
                if stop.is_set():
                    return
                item, label = ids[n % len(ids)], "xyz"[(n // len(ids)) % 3]
                history.setdefault(item, []).append((label, None))
                try:
                    code, _ = post(url, "/api/label", {"id": item, "label": label,
                                                       "relabel": True})
                except (OSError, http.client.HTTPException):
                    return  # the server is gone (maybe mid-answer): the request stays unknown
                history[item][-1] = (label, code)

        clients = [threading.Thread(target=click, args=(c,)) for c in range(2)]
        for t in clients:
            t.start()
        time.sleep(float(rng.uniform(0.5, 2.0)))
        kill(server)
        stop.set()
        for t in clients:
            t.join(timeout=60)
        for item, sends in history.items():
            answered = [k for k, (_, code) in enumerate(sends) if code == 200]
            if answered:
                allowed[item] = {sends[answered[-1]][0]}
            last_label, last_code = sends[-1]
            if last_code is None:  # in flight at the kill: committed or not
                allowed.setdefault(item, {None}).add(last_label)  # None: still unlabeled
                totals["in_flight"] += 1
            totals["sent"] += len(sends)
            totals["accepted"] += len(answered)
        labels = exported_labels(camp, tmp_path)
        for item, values in allowed.items():
            assert labels.get(item) in values, (item, labels.get(item), values)
        assert set(labels) <= set(allowed)  # nothing labeled that was never sent
        allowed = {item: {label} for item, label in labels.items()}
    print(f"FAULTS web: {ROUNDS} server SIGKILLs under 2 clients; {totals['sent']} label "
          f"requests, {totals['accepted']} answered 200 (all kept), {totals['in_flight']} in "
          "flight at a kill")
