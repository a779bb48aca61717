"""The database file on disk during init: a temporary name, then linked into place.

:meth:`~autoal.campaign.store.Store.create` builds a new database under a temporary name
(rollback-journal mode), then hard-links it to the final name, which fails if that name
exists: init is atomic, and two concurrent inits cannot overwrite each other. Temporaries of
inits that were killed are removed by the next command that opens the folder.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

from autoal.campaign.errors import CampaignExistsError
from autoal.campaign.hooks import pause_point
from autoal.campaign.store_schema import DB_NAME

__all__ = ["discard", "publish", "remove_stale_temps", "temp_path"]

_TMP_PREFIX = f".{DB_NAME}.init-"


def temp_path(directory: Path) -> Path:
    """A fresh temporary database name in ``directory``, tagged with this process's id."""
    return directory / f"{_TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"


def publish(tmp: Path, db_path: Path, check_absent: Callable[[Path], None]) -> None:
    """Flush the complete database at ``tmp`` and give it the name ``db_path`` atomically.

    Raises
    ------
    CampaignExistsError
        Something appeared at ``db_path`` meanwhile (it is left untouched).
    """
    with tmp.open("rb+") as fh:
        os.fsync(fh.fileno())
    pause_point("init:before-link")
    try:
        os.link(tmp, db_path)  # fails if the name exists: never overwrites
    except FileExistsError:
        raise CampaignExistsError(
            f"{db_path.parent} already holds a campaign (created by another command just now)"
        ) from None
    except OSError:  # a file system without hard links: check, then rename
        check_absent(db_path)
        os.replace(tmp, db_path)
    dir_fd = os.open(db_path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def discard(tmp: Path) -> None:
    """Remove a temporary database and its journal (after linking, or on failure)."""
    for leftover in (tmp, Path(f"{tmp}-journal")):
        leftover.unlink(missing_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temps(directory: Path) -> None:
    """Delete temporary databases of inits that were killed (their process is gone)."""
    for path in directory.glob(f"{_TMP_PREFIX}*"):
        try:
            pid = int(path.name[len(_TMP_PREFIX):].split("-")[0])
        except ValueError:
            continue
        if not _pid_alive(pid):
            path.unlink(missing_ok=True)
