"""The labeling server under load, and the cause of its old "disk I/O error" (issue 19).

Cause: opening a campaign read the database file's 16-byte header with a plain ``open``; its
``close`` dropped every POSIX lock this process's other SQLite connections held on the file,
so another process (``autoal campaign teach``) could take the file as unused, checkpoint and
reset the WAL under the server's open connections: answers 500 "disk I/O error".
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from autoal.campaign.loadcheck import drive, start_server, summarize, teach_files, verify
from autoal.campaign.store import DB_NAME, Store

from support import CLASSES, csv_campaign

# Another process asks, without waiting, for SQLite's SHARED byte range of the database
# file exclusively: it gets it only if no connection of ours holds a lock there.
_PROBE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 510, 0x40000002, 0)
    print("free")
except OSError:
    print("held")
"""


def _locks(db: Path) -> str:
    return subprocess.run([sys.executable, "-c", _PROBE, str(db)], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_opening_a_campaign_keeps_the_locks_of_other_connections(tmp_path: Path) -> None:
    directory, _, _ = csv_campaign(tmp_path, n=12)
    db = directory / DB_NAME
    held = Store.open(directory)
    try:
        held.get_meta("config")
        assert _locks(db) == "held"
        for _ in range(3):  # what every web request does, in other threads
            Store.open(directory).close()
        assert _locks(db) == "held"
    finally:
        held.close()
    assert _locks(db) == "free"  # the probe can tell


def test_opening_still_refuses_foreign_and_empty_files(tmp_path: Path) -> None:
    from autoal.campaign import CorruptCampaignError

    for name, content in (("empty", b""), ("text", b"my thesis, do not delete" * 40)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / DB_NAME).write_bytes(content)
        with pytest.raises(CorruptCampaignError, match="nothing was changed") as err:
            Store.open(folder)
        assert ("empty file" if name == "empty" else "not an SQLite database") in str(err.value)
        assert (folder / DB_NAME).read_bytes() == content
        assert sorted(p.name for p in folder.iterdir()) == [DB_NAME]


def test_server_under_concurrent_clients_and_cli_teaches(tmp_path: Path) -> None:
    """4 clients (labels, undo, status, batch, next-batch, bad labels) while the CLI teaches
    two files: every accepted label is logged once, rejections are 4xx or 503 with a
    message and left nothing, integrity_check is ok, the server still answers."""
    directory, _, truth = csv_campaign(tmp_path, n=120)
    ids = sorted(truth)
    cli_ids, web_ids = ids[:16], ids[16:]
    batches = [{i: CLASSES[k % 3] for k, i in enumerate(cli_ids[b * 8:(b + 1) * 8])}
               for b in range(2)]
    proc, url = start_server(directory)
    try:
        cli: list = []
        teacher = threading.Thread(target=lambda: cli.extend(teach_files(directory, batches,
                                                                         tmp_path)))
        teacher.start()
        t0 = time.monotonic()
        outcomes, seconds = drive(url, web_ids, CLASSES, clients=4, requests_per_client=30,
                                  seed=1)
        teacher.join(timeout=120)
        assert time.monotonic() - t0 < 120
        deadline = time.monotonic() + 60  # let a next-batch query finish
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url + "api/query", timeout=30) as resp:
                job = json.load(resp)["job"]
            if job is None or job["state"] != "running":
                break
            time.sleep(0.2)
        with urllib.request.urlopen(url + "api/status", timeout=30) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    report = summarize(outcomes, seconds)
    assert report["requests"] == 120 and report["server_errors"] == {}, report
    kinds = report["by_kind"]
    assert kinds["label"].get("200", 0) > 10 and kinds["bad_label"] == {"400": sum(
        kinds["bad_label"].values())}, kinds
    assert all(ok for *_, ok in cli), cli
    assert verify(directory / DB_NAME, outcomes, cli) == []
