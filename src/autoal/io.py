"""Atomic file writes: a reader sees the old file or the new one, never a partial one.

The new content goes to a temporary file beside the target, ``.<name>.<12 hex>.tmp``, which
is renamed over it. The writer holds an ``flock`` on its temporary file until after the
rename, so a writer killed mid-write (SIGKILL, the out-of-memory killer) leaves a file that
nobody holds: the next process to write the same target removes it (on its first write of
that target), and never another live writer's.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import string
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # not POSIX: no locks, so no clean-up of other writers' files either
    fcntl = None  # type: ignore[assignment]

__all__ = ["write_bytes_atomic", "write_text_atomic", "write_json_atomic"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(
    os, "O_BINARY", 0
)


_TOKEN_CHARS = 12


def _lock(fd: int, wait: bool) -> bool:
    """Take the ``flock`` of ``fd``, waiting for it (a writer) or not (a clean-up: False when
    another holds it). Where the file system has no locks a writer goes on unlocked and a
    clean-up removes nothing."""
    if fcntl is None:
        return wait
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError:  # e.g. ENOLCK
        return wait
    return True


def _still_named(fd: int, name: Path) -> bool:
    """True when ``name`` is still the file open as ``fd`` (not removed or replaced)."""
    try:
        here, there = os.fstat(fd), os.stat(name)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _create_temp(path: Path) -> tuple[int, Path]:
    # Created like a plain open() would create the file (0666 less the umask, default ACLs
    # applied by the kernel), unlike tempfile.mkstemp's 0600.
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(_TOKEN_CHARS // 2)}.tmp")
        try:
            fd = os.open(tmp, _FLAGS, 0o666)
        except FileExistsError:
            continue
        if _lock(fd, wait=True) and _still_named(fd, tmp):
            return fd, tmp
        os.close(fd)  # a clean-up took it for a dead writer's before we locked it


#: Targets whose dead writers' files this process has looked for already. Once per target
#: is enough: a writer killed later was another process, whose files the next process to
#: write the target removes; looking on every write would list the folder every time.
_LOOKED_AFTER: set[str] = set()


def _remove_dead_writers_temps(path: Path) -> None:
    """Remove the temporary files of ``path`` that no live writer holds: a writer killed
    mid-write left them. Once per target and process (see ``_LOOKED_AFTER``). Best effort:
    what cannot be opened or removed is left."""
    if fcntl is None or str(path) in _LOOKED_AFTER:
        return
    _LOOKED_AFTER.add(str(path))
    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        token = name[len(prefix):-len(".tmp")]
        if not (name.startswith(prefix) and name.endswith(".tmp") and len(token) == _TOKEN_CHARS
                and all(c in string.hexdigits for c in token)):
            continue
        stale = path.parent / name
        try:
            fd = os.open(stale, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            continue
        try:
            if _lock(fd, wait=False) and _still_named(fd, stale):
                stale.unlink()
        except OSError:
            pass
        finally:
            os.close(fd)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename over ``path``;
    on this process's first write of ``path``, first remove what writers killed mid-write
    left (see the module docstring).

    A new file gets the permissions a plain ``open()`` would give it; a replaced file keeps
    its own. On any error (a full disk, a read-only file system) the temporary file is
    removed and ``path`` is left as it was; the OSError keeps its errno and names ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_dead_writers_temps(path)  # first: on a full disk they may be the room we need
        fd, tmp = _create_temp(path)
    except OSError as err:
        raise _naming(err, path) from err
    fh = os.fdopen(fd, "wb")
    try:
        try:
            old_mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            old_mode = None
        if old_mode is not None and hasattr(os, "fchmod"):  # POSIX
            os.fchmod(fd, old_mode)
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
    finally:
        with contextlib.suppress(OSError):  # flushed and synced already, or failed above
            fh.close()  # only now: the lock marks the temporary file live until the rename
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
