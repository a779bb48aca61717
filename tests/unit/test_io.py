"""Atomic writes: whole content, a plain file's permissions, no debris on failure, and what
a writer killed mid-write left removed by the next write (a live writer's file kept)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from autoal.io import write_bytes_atomic, write_json_atomic, write_text_atomic

SRC = Path(__file__).resolve().parents[2] / "src"


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set a umask for the test and restore the old one."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_gets_the_mode_a_plain_open_gives(tmp_path, umask, mask, expected):
    umask(mask)
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = write_text_atomic(tmp_path / "sub" / "atomic.txt", "héllo")
    assert atomic.read_text(encoding="utf-8") == "héllo"
    assert _mode(plain) == expected
    assert _mode(atomic) == expected


def test_replacing_keeps_the_old_files_mode_and_leaves_no_temp(tmp_path, umask):
    umask(0o022)
    target = tmp_path / "state.json"
    target.write_text("{}")
    os.chmod(target, 0o640)
    write_json_atomic(target, {"a": [1, 2]})
    assert json.loads(target.read_text()) == {"a": [1, 2]}
    assert _mode(target) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_a_failed_write_keeps_the_old_content_and_leaves_no_temp(tmp_path):
    target = tmp_path / "runs.json"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_bytes_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs.json"]


# A writer paused after its temporary file is written and before the rename, until a line
# arrives on its standard input (then it renames) or it is SIGKILLed.
PAUSED_WRITER = """
import os, sys
import autoal.io
rename = os.replace
def paused(src, dst):
    print("WRITING", flush=True)
    sys.stdin.readline()
    rename(src, dst)
os.replace = paused
autoal.io.write_text_atomic(sys.argv[1], sys.argv[2])
"""


def _paused_writer(target, text: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.Popen([sys.executable, "-c", PAUSED_WRITER, str(target), text],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None and proc.stdout.readline() == "WRITING\n"
    return proc


def _temps(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.skipif(os.name != "posix", reason="the writers' locks are flock(2)")
def test_the_next_write_removes_what_a_killed_writer_left_and_nothing_else(tmp_path):
    target = tmp_path / "labels.csv"
    target.write_text("old\n")
    proc = _paused_writer(target, "killed\n")
    proc.kill()
    proc.wait(timeout=30)
    (left,) = _temps(tmp_path)
    assert left.startswith(".labels.csv.") and target.read_text() == "old\n"
    others = [".other.csv.0123456789ab.tmp", ".labels.csv.notours.tmp", ".labels.csv.tmp"]
    for name in others:  # another target's, and names this module never makes
        (tmp_path / name).write_text("x")
    write_text_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert _temps(tmp_path) == sorted(others)


@pytest.mark.skipif(os.name != "posix", reason="the writers' locks are flock(2)")
def test_a_live_writers_temporary_file_is_left_to_it(tmp_path):
    target = tmp_path / "labels.csv"
    proc = _paused_writer(target, "theirs\n")
    try:
        (theirs,) = _temps(tmp_path)
        write_text_atomic(target, "mine\n")
        assert target.read_text() == "mine\n" and _temps(tmp_path) == [theirs]
        _, err = proc.communicate("go\n", timeout=30)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
    assert target.read_text() == "theirs\n" and _temps(tmp_path) == []


def test_dead_writers_files_are_looked_for_once_per_target(tmp_path, monkeypatch):
    listed = []
    real = os.listdir
    monkeypatch.setattr(os, "listdir", lambda p: listed.append(p) or real(p))
    for i in range(3):
        write_text_atomic(tmp_path / "a.csv", f"{i}\n")
    write_text_atomic(tmp_path / "b.csv", "b\n")
    assert len(listed) == 2  # once for a.csv, once for b.csv: not once per write
    assert (tmp_path / "a.csv").read_text() == "2\n"
