"""Atomic file writes: a reader sees the old file or the new one, never a partial one."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

__all__ = ["write_bytes_atomic", "write_text_atomic", "write_json_atomic"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(
    os, "O_BINARY", 0
)


def _create_temp(path: Path) -> tuple[int, Path]:
    # Created like a plain open() would create the file (0666 less the umask, default ACLs
    # applied by the kernel), unlike tempfile.mkstemp's 0600.
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, _FLAGS, 0o666), tmp
        except FileExistsError:
            continue


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename over ``path``.

    A new file gets the permissions a plain ``open()`` would give it; a replaced file keeps
    its own. On any error (a full disk, a read-only file system) the temporary file is
    removed and ``path`` is left as it was; the OSError keeps its errno and names ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create_temp(path)
    except OSError as err:
        raise _naming(err, path) from err
    try:
        try:
            old_mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            old_mode = None
        if old_mode is not None and hasattr(os, "fchmod"):  # POSIX
            os.fchmod(fd, old_mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _naming(err, path) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _naming(err: OSError, path: Path) -> OSError:
    """The same error (same class and errno) naming the file we meant to write, ``path``:
    a full disk fails in ``write``/``fsync``, whose errors name no file."""
    if err.errno is None:
        return err
    return type(err)(err.errno, f"cannot write {path}: {err.strerror}")


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Atomically write UTF-8 ``text`` to ``path``."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike[str], obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON to ``path``."""
    return write_text_atomic(path, json.dumps(obj, indent=1, sort_keys=False) + "\n")
