"""The campaign's data check: file hashes cached by stat signature, every change still found.

``file_digest`` is wrapped to count the files read: an unchanged folder must be verified by
``stat`` alone, and only new or changed files may be read again.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from autoal.campaign import (
    SCHEMA_VERSION,
    Campaign,
    DataChangedError,
    fingerprint,
)
from autoal.campaign.items import content_hash
from autoal.campaign.store import DB_NAME, Store

N = 12


@pytest.fixture()
def trusted(monkeypatch) -> None:
    """Trust files written just now (by default they are re-hashed for 2 seconds)."""
    monkeypatch.setattr(fingerprint, "RACY_SECONDS", 0.0)


@pytest.fixture()
def reads(monkeypatch) -> list[str]:
    """The names of the files whose bytes are hashed, in order."""
    calls: list[str] = []
    real = fingerprint.file_digest

    def counting(path: Path):
        calls.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(fingerprint, "file_digest", counting)
    return calls


def bmp(path: Path, seed: int, size: int = 6) -> None:
    """An uncompressed greyscale BMP: every ``size`` x ``size`` one has the same file size."""
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size, size), dtype=np.uint8), mode="L").save(path)


def image_folder(root: Path) -> Path:
    folder = root / "images"
    (folder / "cat").mkdir(parents=True)
    for i in range(N):
        bmp((folder / "cat" if i < 2 else folder) / f"{i:02d}.bmp", i)
    return folder


def cached_rows(camp: Path) -> int:
    conn = sqlite3.connect(f"file:{camp / DB_NAME}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM file_hashes").fetchone()[0]
    finally:
        conn.close()


def settle() -> None:
    """Let the file system clock tick, so that a rewrite gets a new ctime."""
    time.sleep(0.05)


@pytest.fixture()
def folder_campaign(tmp_path: Path, trusted) -> tuple[Path, Path]:
    folder = image_folder(tmp_path)
    camp = tmp_path / "camp"
    Campaign.init(camp, folder, "cat,dog", strategy="margin", model="mlp", epochs=1,
                  min_steps=0).close()
    return camp, folder


def test_unchanged_folder_is_verified_by_stat_alone(folder_campaign, reads) -> None:
    camp, _ = folder_campaign
    assert cached_rows(camp) == N  # init remembered every file's hash
    with Campaign.open(camp) as c:
        c.status()
        c.teach({"02.bmp": "dog"})
        c.query(2)  # reads the images, but hashes none of them
        c.status()
    with Campaign.open(camp) as c:
        c.teach({"03.bmp": "dog"})
    assert reads == []


def _same_size_rewrite(path: Path) -> None:
    st = path.stat()
    bmp(path, 99)
    assert path.stat().st_size == st.st_size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with its mtime put back


@pytest.mark.parametrize(
    ("change", "read", "changed"),
    [
        ("content", ["05.bmp"], True),
        ("size", ["05.bmp"], True),
        ("mtime", ["05.bmp"], False),  # re-read; same bytes, so the data did not change
        ("added", ["new.bmp"], True),
        ("added-in-class-folder", ["new.bmp"], True),
        ("removed", [], True),
        ("renamed", ["renamed.bmp"], True),
    ],
)
def test_every_change_is_found_reading_only_changed_files(
    folder_campaign, reads, change: str, read: list[str], changed: bool
) -> None:
    camp, folder = folder_campaign
    target = folder / "05.bmp"
    settle()
    if change == "content":
        _same_size_rewrite(target)
    elif change == "size":
        bmp(target, 5, size=7)
    elif change == "mtime":
        st = target.stat()
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))
    elif change == "added":
        bmp(folder / "new.bmp", 50)
    elif change == "added-in-class-folder":
        bmp(folder / "cat" / "new.bmp", 50)
    elif change == "removed":
        target.unlink()
    else:
        target.rename(folder / "renamed.bmp")
    with Campaign.open(camp) as c:
        if changed:
            with pytest.raises(DataChangedError, match="changed"):
                c.status()
            with pytest.raises(DataChangedError):
                c.teach({"02.bmp": "dog"})
        else:
            c.status()
            c.teach({"02.bmp": "dog"})
    assert reads == read  # once: the new hash was remembered even though the check failed
    reads.clear()
    if changed:
        with Campaign.open(camp, accept_changed_data=True) as c:
            c.status()
    with Campaign.open(camp) as c:  # accepted: checked by stat alone again
        c.status()
    assert reads == []
    assert cached_rows(camp) == N + (change.startswith("added")) - (change == "removed")


def test_table_and_npz_are_hashed_only_when_their_stat_changes(tmp_path: Path, trusted,
                                                               reads) -> None:
    data = tmp_path / "d.csv"
    data.write_text("id,a,b\n" + "".join(f"x{i},{i},{i % 3}\n" for i in range(20)))
    rng = np.random.default_rng(0)
    npz = tmp_path / "d.npz"
    np.savez(npz, X=rng.normal(size=(20, 3)))
    for path in (data, npz):
        camp = tmp_path / f"camp-{path.suffix[1:]}"
        Campaign.init(camp, path, "u,v", strategy="margin", epochs=1, min_steps=0).close()
        reads.clear()
        with Campaign.open(camp) as c:
            c.status()
            c.teach({"x1" if path == data else "1": "u"})
            c.query(2)
        assert reads == []
        settle()
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))  # touched, not changed
        with Campaign.open(camp) as c:
            c.status()
            c.status()
        assert reads == [path.name]  # once
        reads.clear()
        settle()
        blob = bytearray(path.read_bytes())
        blob[-3] ^= 1  # same size, different bytes, mtime put back
        st = path.stat()
        path.write_bytes(bytes(blob))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        with Campaign.open(camp) as c, pytest.raises(DataChangedError):
            c.status()
        assert reads == [path.name]


def test_table_hash_format_is_unchanged(tmp_path: Path) -> None:
    """Campaigns made before the cache stored this hash for a CSV / .npz: it must still match."""
    data = tmp_path / "d.csv"
    data.write_text("id,a\nx,1\ny,2\n")
    raw = data.read_bytes()
    old = "sha256:" + hashlib.sha256(f"{len(raw)}\0".encode() + raw).hexdigest()
    assert content_hash(data, "table") == old


def _as_schema_1(camp: Path, data_hash: str) -> None:
    """Turn the campaign's database into one written before the cache (schema version 1)."""
    conn = sqlite3.connect(camp / DB_NAME)
    for table in ("file_hashes", "audit_items", "audit_predictions", "round_predictions"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("UPDATE autoal_meta SET value = '1' WHERE key = 'schema_version'")
    conn.execute("UPDATE autoal_meta SET value = ? WHERE key = 'data_hash'", (data_hash,))
    conn.commit()
    conn.close()


@pytest.mark.parametrize("changed", [False, True])
def test_campaign_from_before_the_cache_is_upgraded(folder_campaign, reads,
                                                    changed: bool) -> None:
    camp, folder = folder_campaign
    legacy = fingerprint.legacy_folder_hash(folder)
    assert legacy.startswith("sha256:") and fingerprint.is_legacy_hash(legacy, "images")
    _as_schema_1(camp, legacy)
    if changed:
        settle()
        _same_size_rewrite(folder / "05.bmp")
    with Campaign.open(camp) as c:  # migrates to the current schema
        if changed:
            with pytest.raises(DataChangedError):
                c.status()
        else:
            assert c.status().items == N
    conn = sqlite3.connect(camp / DB_NAME)
    meta = dict(conn.execute("SELECT key, value FROM autoal_meta"))
    conn.close()
    assert int(meta["schema_version"]) == SCHEMA_VERSION >= 2
    assert cached_rows(camp) == N
    if changed:
        assert meta["data_hash"] == legacy  # not upgraded: the data is not the same
    else:
        assert meta["data_hash"].startswith("sha256-tree:")
        reads.clear()
        with Campaign.open(camp) as c:
            c.status()
        assert reads == []


def test_files_changed_just_now_are_not_trusted(tmp_path: Path, reads, monkeypatch) -> None:
    """Within RACY_SECONDS of a file's last change its stat is not trusted: re-read it."""
    monkeypatch.setattr(fingerprint, "RACY_SECONDS", 3600.0)
    folder = image_folder(tmp_path)
    camp = tmp_path / "camp"
    Campaign.init(camp, folder, "cat,dog", strategy="margin").close()
    assert cached_rows(camp) == 0
    reads.clear()
    with Campaign.open(camp) as c:
        c.status()
    assert len(reads) == N
    monkeypatch.setattr(fingerprint, "RACY_SECONDS", 0.0)
    with Campaign.open(camp) as c:
        c.status()
    assert cached_rows(camp) == N


def test_a_file_written_while_hashed_is_not_remembered(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(fingerprint, "RACY_SECONDS", 0.0)
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 1000)
    real_fstat = os.fstat
    calls = []

    def fstat_then_append(fd: int) -> os.stat_result:
        calls.append(fd)
        result = real_fstat(fd)
        if len(calls) == 1:
            settle()
            with path.open("ab") as fh:
                fh.write(b"more")
        return result

    monkeypatch.setattr(fingerprint.os, "fstat", fstat_then_append)
    scanned = fingerprint.scan(path, "table")
    monkeypatch.setattr(fingerprint.os, "fstat", real_fstat)
    assert scanned.hashed == [""] and scanned.records == {}
    assert fingerprint.scan(path, "table").records[""].size == 1004


def test_the_cache_is_skipped_while_another_command_writes(folder_campaign, reads) -> None:
    camp, folder = folder_campaign
    settle()
    st = (folder / "05.bmp").stat()
    os.utime(folder / "05.bmp", ns=(st.st_atime_ns, st.st_mtime_ns - 10**9))
    holder = Store.open(camp)
    try:
        with holder.write(), Campaign.open(camp, busy_timeout=0.1) as c:
            assert c.status().items == N  # answers; caches nothing
    finally:
        holder.close()
    assert reads == ["05.bmp"]
    with Campaign.open(camp) as c:
        c.status()
        c.status()
    assert reads == ["05.bmp", "05.bmp"]  # cached by the first status after the writer


def test_a_click_in_the_page_reads_no_data_file(folder_campaign, reads) -> None:
    pytest.importorskip("flask")
    from autoal.campaign.web import create_app

    camp, _ = folder_campaign
    with Campaign.open(camp) as c:
        c.query(3)
    client = create_app(camp).test_client()
    item = client.get("/api/batch").get_json()["items"][0]
    reads.clear()
    r = client.post("/api/label", json={"id": item["id"], "label": "dog"})
    assert r.status_code == 200, r.get_json()
    assert client.get("/api/status").status_code == 200
    assert reads == []
