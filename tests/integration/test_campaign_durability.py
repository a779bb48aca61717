"""Campaign durability, done for real: ``kill -9`` of running commands and concurrent commands.

Commands run as subprocesses (``python -m autoal.cli campaign ...``). To kill one at a known
moment the test sets ``AUTOAL_TEST_PAUSE_AT=<point>``: the command prints ``PAUSED <point>``
and sleeps there (see :func:`autoal.campaign.store.pause_point`), and the test sends SIGKILL.
After every kill the database must pass SQLite's integrity check, ``status`` must agree with
itself, the labels must equal a replay of the label history, and a teach must be wholly in or
wholly out.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from autoal.campaign import Campaign, CampaignBusyError
from autoal.campaign.store import DB_NAME

from support import blob_label, write_blob_csv, write_blob_labels

CMD = [sys.executable, "-m", "autoal.cli", "campaign"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
       "AUTOAL_TEST_PAUSE_SECONDS": "120"}
N_ITEMS = 240


class Proc:
    """A running command whose standard error is read line by line in the background."""

    def __init__(self, args: list[str], pause_at: str | None = None) -> None:
        env = dict(ENV)
        if pause_at:
            env["AUTOAL_TEST_PAUSE_AT"] = pause_at
        self.popen = subprocess.Popen([*CMD, *map(str, args)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            self.err.append(line)
            self.lines.put(line)

    def wait_paused(self, point: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.popen.poll() is not None and self.lines.empty():
                    break
                continue
            if line.strip() == f"PAUSED {point}":
                return
        self.kill()
        raise AssertionError(f"never paused at {point}; stderr: {''.join(self.err)}")

    def kill(self) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)

    def finish(self, timeout: float = 120) -> tuple[int, str, str]:
        assert self.popen.stdout is not None
        out = self.popen.stdout.read()
        self.popen.wait(timeout=timeout)
        self.pump.join(timeout=10)
        return self.popen.returncode, out, "".join(self.err)


def run(*args: object) -> tuple[int, str, str]:
    return Proc([str(a) for a in args]).finish()


@pytest.fixture()
def camp(tmp_path: Path) -> Path:
    """A campaign on 240 points in 3 blobs, with 30 labels taught already."""
    data = write_blob_csv(tmp_path / "blobs.csv", N_ITEMS)
    directory = tmp_path / "camp"
    with Campaign.init(directory, data, "x,y,z", strategy="margin", epochs=5,
                       min_steps=0) as c:
        c.teach({f"i{k}": blob_label(k) for k in range(30)})
    return directory


def consistent(directory: Path, cli: bool = False) -> dict[str, int]:
    """Check the database after a kill (and ``autoal campaign status`` if ``cli``)."""
    db = directory / DB_NAME
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # Replaying the history of changes that are in effect gives the labels table.
        replay: dict[str, str | None] = {}
        for item_id, new in conn.execute(
            "SELECT e.item_id, e.new_label FROM label_events e JOIN teaches t "
            "USING (teach_id) WHERE t.undone_at IS NULL ORDER BY e.event_id"
        ):
            replay[item_id] = new
        table = dict(conn.execute("SELECT item_id, label FROM labels"))
        assert table == replay
        n_changes = conn.execute(
            "SELECT t.teach_id, t.n_changes, COUNT(e.event_id) FROM teaches t LEFT JOIN "
            "label_events e USING (teach_id) GROUP BY t.teach_id"
        ).fetchall()
        assert all(n == m for _, n, m in n_changes), n_changes  # no half-written teach
    finally:
        conn.close()
    with Campaign.open(directory) as c:
        st = c.status()
    assert st.labeled + st.skipped + st.unlabeled == st.items == N_ITEMS
    assert sum(st.per_class.values()) == st.labeled
    if cli:
        code, out, err = run("status", directory, "--no-estimate")
        assert code == 0 and f"labeled {st.labeled}," in out, err
    return {"labeled": st.labeled, "skipped": st.skipped, "pending": st.pending,
            "rounds": st.rounds, "teaches": st.teaches}


# -- kill -9 ----------------------------------------------------------------------------------
@pytest.mark.parametrize("point, lands", [
    ("teach:mid-transaction", False),   # half of the rows written, not committed
    ("teach:in-transaction", False),    # every row written, not committed
    ("teach:after-commit", True),       # committed, the command has not reported yet
])
def test_kill_teach(camp: Path, tmp_path: Path, point: str, lands: bool) -> None:
    before = consistent(camp)
    proc = Proc(["teach", camp, write_blob_labels(tmp_path / "l.csv", range(30, 130))], point)
    try:
        proc.wait_paused(point)
    finally:
        proc.kill()
    after = consistent(camp, cli=True)
    assert after["labeled"] == before["labeled"] + (100 if lands else 0)
    assert after["teaches"] == before["teaches"] + (1 if lands else 0)
    code, out, err = run("teach", camp, tmp_path / "l.csv")  # teaching again is fine
    assert code == 0, err
    assert consistent(camp)["labeled"] == before["labeled"] + 100


def test_kill_undo(camp: Path) -> None:
    proc = Proc(["undo", camp], "undo:mid-transaction")
    try:
        proc.wait_paused("undo:mid-transaction")
    finally:
        proc.kill()
    assert consistent(camp)["labeled"] == 30
    code, out, err = run("undo", camp)
    assert code == 0 and "30 labels reverted" in out, err
    assert consistent(camp)["labeled"] == 0


def test_kill_query_in_transaction(camp: Path) -> None:
    before = consistent(camp)
    proc = Proc(["query", camp, "-n", 7], "query:in-transaction")
    try:
        proc.wait_paused("query:in-transaction")
    finally:
        proc.kill()
    after = consistent(camp)
    assert after == before  # no round, no pending batch
    with Campaign.open(camp) as c:
        assert len(c.query(7).items) == 7
    assert consistent(camp)["pending"] == 7


def test_kill_init(tmp_path: Path) -> None:
    # The new database is complete under a temporary name but not yet published. (The
    # earlier point "init:in-transaction" leaves less behind: an uncommitted temporary file.)
    point = "init:before-link"
    data = tmp_path / "d.csv"
    data.write_text("a,b\n" + "".join(f"{k},{k % 5}\n" for k in range(20)))
    directory = tmp_path / "c"
    proc = Proc(["init", directory, "--data", data, "--classes", "p,q", "--strategy", "margin"],
                point)
    try:
        proc.wait_paused(point)
    finally:
        proc.kill()
    code, out, err = run("status", directory)
    assert code == 2 and "no campaign" in err
    # a killed init can simply be run again; its temporary file is cleaned up
    with Campaign.init(directory, data, "p,q", strategy="margin") as c:
        assert c.status().items == 20
    assert [p.name for p in directory.iterdir() if p.name.startswith(".")] == []


def test_kill_teach_at_random_moments(camp: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    expected = consistent(camp)["labeled"]
    for attempt in range(4):
        ids = range(30 + 50 * attempt, 80 + 50 * attempt)
        proc = Proc(["teach", camp, write_blob_labels(tmp_path / f"l{attempt}.csv", ids)])
        time.sleep(float(rng.uniform(0.05, 0.8)))
        proc.kill()
        labeled = consistent(camp)["labeled"]
        assert labeled in (expected, expected + 50)  # wholly in or wholly out
        expected = labeled


# -- concurrency ------------------------------------------------------------------------------
def test_writer_waiting_on_a_stuck_writer_reports_busy(camp: Path, tmp_path: Path) -> None:
    holder = Proc(["teach", camp, write_blob_labels(tmp_path / "a.csv", range(30, 60))],
                  "teach:in-transaction")
    try:
        holder.wait_paused("teach:in-transaction")
        code, out, err = run("teach", camp, write_blob_labels(tmp_path / "b.csv", range(60, 90)))
        assert code == 2
        assert f"campaign is busy: another autoal command is writing to {camp}" in err
        with Campaign.open(camp, busy_timeout=0.1) as c:
            with pytest.raises(CampaignBusyError):
                c.undo()
            assert c.status().labeled == 30  # readers are never blocked
    finally:
        holder.kill()
    assert consistent(camp)["labeled"] == 30


def test_concurrent_teaches_serialise(camp: Path, tmp_path: Path) -> None:
    files = [write_blob_labels(tmp_path / f"l{j}.csv", range(30 + 40 * j, 70 + 40 * j))
             for j in range(4)]
    procs = [Proc(["teach", camp, f]) for f in files]
    results = [p.finish() for p in procs]
    ok = 0
    for code, _, err in results:
        assert code == 0 or (code == 2 and "campaign is busy" in err), err
        ok += code == 0
    assert ok >= 1
    assert consistent(camp)["labeled"] == 30 + 40 * ok


def test_concurrent_queries_agree(camp: Path) -> None:
    """A query that trained while another committed a batch returns that same batch."""
    env_pause = ENV["AUTOAL_TEST_PAUSE_SECONDS"]
    ENV["AUTOAL_TEST_PAUSE_SECONDS"] = "2"
    try:
        proc = Proc(["query", camp, "-n", 5, "--format", "csv"], "query:trained")
    finally:
        ENV["AUTOAL_TEST_PAUSE_SECONDS"] = env_pause
    proc.wait_paused("query:trained")  # trained, about to take the lock for 2 s
    with Campaign.open(camp) as c:
        mine = [i.id for i in c.query(5).items]
    code, out, err = proc.finish()
    assert code == 0, err
    theirs = [line.split(",")[0] for line in out.strip().splitlines()[1:]]
    assert theirs == mine and len(mine) == 5
    st = consistent(camp)
    assert st["rounds"] == 1 and st["pending"] == 5
