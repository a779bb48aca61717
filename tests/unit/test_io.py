"""Atomic writes: whole content, a plain file's permissions, no debris on failure."""

from __future__ import annotations

import json
import os
import stat

import pytest

from autoal.io import write_bytes_atomic, write_json_atomic, write_text_atomic


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
