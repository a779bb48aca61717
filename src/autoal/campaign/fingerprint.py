"""The data's content hash, verified by the files' stat signatures where possible.

Every command that uses the data compares its content hash with the one stored in the
campaign. Hashing every byte of a folder of tens of thousands of images on every command
(every click of the labeling page) is slow, so each file's hash is remembered with its *stat
signature* ``(size, mtime_ns, ctime_ns)``: a file whose signature is unchanged is taken as
unchanged and not read again; only new files and files whose signature changed are hashed.
The same holds for a CSV or ``.npz`` file (one file).

Detected: a file whose content, size, modification time or inode change time changed, an added
file, a removed or renamed file. ``ctime`` changes with every write and cannot be set by
programs (``touch -d`` and ``os.utime`` set ``mtime`` only), so a same-size rewrite whose
``mtime`` was put back is caught too. As for ``git`` and ``rsync``, a change that keeps all of
size, ``mtime`` and ``ctime`` (possible only by resetting the system clock or editing the
device) is not.

A file modified less than :data:`RACY_SECONDS` before it was hashed is hashed again next time
(its signature is not trusted): on a file system with coarse timestamps a second write in the
same tick would otherwise keep the signature ("racily clean" files, as in ``git``).

Hash formats (the prefix tells which):

* ``sha256:HEX`` for a CSV / ``.npz`` file: SHA-256 of ``"<size>\\0"`` and the file's bytes;
* ``sha256-tree:HEX`` for a folder of images: SHA-256 over every image, in reading order, of
  ``"<relative path>\\0<file hash>\\n"``, where the file hash is the one above;
* ``sha256:HEX`` for a folder (written by autoal before the cache existed): SHA-256 over every
  image of ``"<relative path>\\0<size>\\0"`` and its bytes. :func:`legacy_folder_hash`
  computes it, so that campaigns made then are checked (once, in full) and upgraded.
"""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

__all__ = [
    "RACY_SECONDS",
    "FileRecord",
    "Scan",
    "data_files",
    "file_digest",
    "is_legacy_hash",
    "legacy_folder_hash",
    "scan",
]

#: A file modified this recently (before hashing) is hashed again by the next scan.
RACY_SECONDS = 2.0
_BLOCK = 1 << 20


class FileRecord(NamedTuple):
    """A data file's stat signature and content hash, as remembered by the campaign.

    Attributes
    ----------
    size, mtime_ns, ctime_ns : int
        The file's stat signature when it was hashed.
    digest : str
        Hex SHA-256 of ``"<size>\\0"`` and the file's bytes (see :func:`file_digest`).
    """

    size: int
    mtime_ns: int
    ctime_ns: int
    digest: str


@dataclass
class Scan:
    """The result of :func:`scan`.

    Attributes
    ----------
    digest : str
        The data's content hash.
    records : dict
        Relative path (``""`` for a CSV / ``.npz`` file) -> :class:`FileRecord` of every
        file whose signature can be trusted next time (files changed just before the scan
        are left out).
    hashed : list of str
        The files read and hashed by this scan (the others were verified by their stat).
    """

    digest: str
    records: dict[str, FileRecord] = field(default_factory=dict)
    hashed: list[str] = field(default_factory=list)


def _image_suffixes() -> tuple[str, ...]:
    from autoal.data.formats import IMAGE_SUFFIXES

    return tuple(IMAGE_SUFFIXES)


def data_files(path: str | os.PathLike[str], kind: str) -> list[tuple[str, Path]]:
    """The files making up the data, as ``(relative path, path)`` in reading order.

    For a folder of images: the files :func:`autoal.data.read_image_folder` reads (loose
    images, then one sub-folder per class, sorted, hidden entries left out); for a folder
    of ``.npy`` shards, the shards in name order. For a CSV, an ``.npz`` or a ``.npy``: the
    file itself, with relative path ``""``.

    Raises
    ------
    autoal.data.DatasetError
        The file or folder is missing.
    OSError
        A folder cannot be listed.
    """
    return [(rel, Path(file)) for rel, file in _list(Path(path), kind)]


def _list(path: Path, kind: str) -> list[tuple[str, str]]:
    """:func:`data_files` with plain strings (fast for tens of thousands of files)."""
    from autoal.data import DatasetError

    if kind == "array" and path.is_dir():  # a folder of .npy shards
        from autoal.data.formats.npy import shard_paths

        return [(p.name, str(p)) for p in shard_paths(path)]
    if kind != "images":
        if not path.is_file():
            raise DatasetError(f"file not found: {path}")
        return [("", str(path))]
    if not path.is_dir():
        raise DatasetError(f"folder not found: {path}")
    suffixes = _image_suffixes()

    def images(folder: str, prefix: str) -> list[tuple[str, str]]:
        with os.scandir(folder) as entries:
            names = sorted(
                e.name for e in entries
                if not e.name.startswith(".") and e.is_file()
                and os.path.splitext(e.name)[1].lower() in suffixes
            )
        return [(prefix + n, os.path.join(folder, n)) for n in names]

    top = str(path)
    files = images(top, "")
    with os.scandir(top) as entries:
        subs = sorted(e.name for e in entries if e.is_dir() and not e.name.startswith("."))
    for sub in subs:
        files += images(os.path.join(top, sub), sub + "/")
    return files


def file_digest(path: str | os.PathLike[str]) -> tuple[str, tuple[int, int, int] | None]:
    """Hex SHA-256 of ``"<size>\\0"`` and the file's bytes, and its stat signature.

    Returns
    -------
    digest : str
        The file's hash.
    signature : tuple of int or None
        ``(size, mtime_ns, ctime_ns)`` of the file that was read; None when the file
        changed while it was being read (its hash is then not to be remembered).

    Raises
    ------
    OSError
        The file cannot be read.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        before = _signature(os.fstat(fh.fileno()))
        digest.update(str(before[0]).encode("ascii") + b"\0")
        for block in iter(lambda: fh.read(_BLOCK), b""):
            digest.update(block)
        after = _signature(os.fstat(fh.fileno()))
    return digest.hexdigest(), (before if before == after else None)


def _signature(st: os.stat_result) -> tuple[int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


def scan(
    path: str | os.PathLike[str],
    kind: str,
    known: Mapping[str, Sequence[int | str]] | None = None,
    *,
    files: Sequence[str | os.PathLike[str]] | None = None,
) -> Scan:
    """The data's content hash, re-reading only files whose stat signature changed.

    Parameters
    ----------
    path : path
        The data: a CSV or ``.npz`` file, or a folder of images.
    kind : str
        ``"table"``, ``"npz"``, ``"images"`` or ``"array"``.
    known : mapping, optional
        Relative path -> :class:`FileRecord` (or an equal tuple) from an earlier scan (the
        campaign's cache). A file whose ``(size, mtime_ns, ctime_ns)`` equal its record's
        is not read.
    files : sequence of path, optional
        The image files in reading order (as :func:`autoal.data.read_image_folder` returned
        them), instead of listing the folder again.

    Returns
    -------
    Scan

    Raises
    ------
    autoal.data.DatasetError
        The data is missing or a file cannot be read.
    """
    from autoal.data import DatasetError

    path = Path(path)
    known = known or {}
    trust_before = time.time_ns() - int(RACY_SECONDS * 1e9)
    try:
        if files is None:
            listed = _list(path, kind)
        else:
            listed = [(Path(f).relative_to(path).as_posix(), str(f)) for f in files]
        out = Scan(digest="")
        tree = hashlib.sha256()
        hexdigest = ""
        for rel, file in listed:
            rec = known.get(rel)
            if rec is not None and tuple(rec[:3]) == _signature(os.stat(file)):
                hexdigest = str(rec[3])
                rec = FileRecord(*rec)  # type: ignore[arg-type]
            else:
                hexdigest, sig = file_digest(file)
                out.hashed.append(rel)
                rec = None if sig is None else FileRecord(*sig, hexdigest)
            if rec is not None and max(rec.mtime_ns, rec.ctime_ns) < trust_before:
                out.records[rel] = rec
            tree.update(rel.encode("utf-8") + b"\0" + hexdigest.encode("ascii") + b"\n")
    except OSError as err:
        raise DatasetError(f"cannot read {path}: {err}") from None
    if kind == "images" or path.is_dir():
        out.digest = "sha256-tree:" + tree.hexdigest()
    else:
        out.digest = "sha256:" + hexdigest
    return out


def is_legacy_hash(digest: str | None, kind: str) -> bool:
    """Whether ``digest`` is a folder hash in the format written before the cache existed."""
    return kind == "images" and digest is not None and digest.startswith("sha256:")


def legacy_folder_hash(path: str | os.PathLike[str]) -> str:
    """A folder's content hash in the format written before the cache existed (reads all).

    Raises
    ------
    autoal.data.DatasetError
        The folder is missing or a file cannot be read.
    """
    from autoal.data import DatasetError

    path = Path(path)
    digest = hashlib.sha256()
    try:
        for rel, file in _list(path, "images"):
            digest.update(rel.encode("utf-8") + b"\0")
            with open(file, "rb") as fh:
                digest.update(str(os.fstat(fh.fileno()).st_size).encode("ascii") + b"\0")
                for block in iter(functools.partial(fh.read, _BLOCK), b""):
                    digest.update(block)
    except OSError as err:
        raise DatasetError(f"cannot read {path}: {err}") from None
    return "sha256:" + digest.hexdigest()
