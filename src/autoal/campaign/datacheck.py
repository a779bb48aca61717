"""Checking a campaign's data against the hash stored in the campaign, and adopting changes.

:class:`DataCheck` compares the data's content hash (computed through the campaign's cache of
file hashes, see :mod:`autoal.campaign.fingerprint`) with the one stored at init or at the
last accepted change; it raises :class:`~autoal.campaign.errors.DataChangedError` or, when
told to accept the change, adopts the new content in one transaction (new items join, items
gone are set aside, labels found in the data are imported).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from autoal.campaign.config import CampaignConfig
from autoal.campaign.errors import CampaignBusyError, DataChangedError, DataError
from autoal.campaign.fingerprint import FileRecord, is_legacy_hash, legacy_folder_hash, scan
from autoal.campaign.hooks import now
from autoal.campaign.items import Items, file_digest, load_items
from autoal.campaign.store import Store

__all__ = ["DataCheck", "initial_labels", "item_rows"]


class DataCheck:
    """A campaign's data: verified against the stored hash, loaded when needed.

    Keeps the last loaded :class:`~autoal.campaign.items.Items` in memory and reuses them
    while the data's hash is unchanged.

    Parameters
    ----------
    store : Store
        The campaign's database.
    config : CampaignConfig
        The campaign's settings (where the data is, what kind).
    items : Items, optional
        The data as just read (by init).
    """

    def __init__(self, store: Store, config: CampaignConfig, items: Items | None = None) -> None:
        self._store = store
        self._config = config
        self._cached = items

    def verify(self, accept_changed: bool) -> None:
        """Check the data's hash without reading the data (unless a change is accepted).

        Parameters
        ----------
        accept_changed : bool
            Adopt changed data instead of raising :class:`DataChangedError`.

        Raises
        ------
        DataChangedError
            The data changed and ``accept_changed`` is false.
        DataError
            The data cannot be read.
        """
        self._check(load=False, accept_changed=accept_changed)

    def items(self, accept_changed: bool) -> Items:
        """The data, read now (or reused from memory while its hash is unchanged), checked.

        Raises
        ------
        DataChangedError, DataError
            As :meth:`verify`.
        """
        items = self._check(load=True, accept_changed=accept_changed)
        assert items is not None
        return items

    def _check(self, load: bool, accept_changed: bool) -> Items | None:
        """Compare the data's hash with the stored one; load the data if ``load``.

        The hash comes from :func:`~autoal.campaign.fingerprint.scan` with the campaign's
        cache of file hashes: unchanged files are verified by their stat signature, only
        new or changed ones are read. The cache is updated when it can be without waiting.
        """
        from autoal.data import DatasetError

        cfg = self._config
        store = self._store
        stored = store.get_meta("data_hash")
        known = store.file_hashes()
        items: Items | None = None
        try:
            if load and self._cached is None:
                items = self._load(known)
                digest, records = items.content_hash, items.file_records or {}
            else:
                hashed = scan(cfg.data_path, cfg.data_kind, known)
                digest, records = hashed.digest, hashed.records
                if load:
                    assert self._cached is not None
                    items = self._cached
                    if items.content_hash != digest:
                        items = self._load(known)
                        digest, records = items.content_hash, items.file_records or {}
            # a campaign made before the cache: its folder hash has the old format
            legacy_same = (digest != stored and is_legacy_hash(stored, cfg.data_kind)
                           and legacy_folder_hash(cfg.data_path) == stored)
        except DatasetError as err:
            raise DataError(
                f"cannot read the campaign's data: {err} (the campaign uses {cfg.data_path})"
            ) from None
        self._remember_hashes(known, records, (stored, digest) if legacy_same else None)
        if digest != stored and not legacy_same:
            if not accept_changed:
                raise DataChangedError(
                    f"the data at {cfg.data_path} changed since the campaign last used it "
                    f"({stored} -> {digest}); pass --accept-changed-data (Python: "
                    "accept_changed_data=True) to continue with the new content; labels "
                    "are kept by item id"
                )
            if items is None:
                try:
                    items = self._load(known)
                except DatasetError as err:
                    raise DataError(f"cannot read the campaign's data: {err}") from None
            self._sync(items)
        if items is not None:
            self._cached = items
        return items

    def _load(self, known: Mapping[str, tuple[Any, ...]]) -> Items:
        cfg = self._config
        if cfg.features_path is not None:
            self._check_features(cfg.features_path)
        # the stored hash is that of data checked at init or when a change was accepted
        return load_items(cfg.data_path, cfg.data_kind, label_column=cfg.label_column,
                          id_column=cfg.id_column, known=known, features=cfg.features_path,
                          checked_hash=self._store.get_meta("data_hash"))

    def _check_features(self, path: str) -> None:
        """The features file must be the one given at init (it is not adopted like data)."""
        try:
            digest = file_digest(path)
        except OSError as err:
            raise DataError(f"cannot read the campaign's features {path}: {err}") from None
        if digest != self._store.get_meta("features_hash"):
            raise DataError(f"the features {path} changed since the campaign started; put "
                            "the original file back, or start a new campaign with the new "
                            "features (its labels can be taught from an export)")

    def _remember_hashes(self, known: Mapping[str, tuple[Any, ...]],
                         records: Mapping[str, FileRecord],
                         upgrade: tuple[str | None, str] | None = None) -> None:
        """Store new file hashes (and a folder hash upgraded from the old format).

        Optional: skipped, without waiting, while another command holds the write lock.
        """
        changed = [(rel, *r) for rel, r in records.items() if known.get(rel) != r]
        removed = [rel for rel in known if rel not in records]
        if not changed and not removed and upgrade is None:
            return
        store = self._store
        try:
            with store.write(busy_timeout=0):
                store.put_file_hashes(changed, removed)
                if upgrade is not None and store.get_meta("data_hash") == upgrade[0]:
                    store.set_meta("data_hash", upgrade[1])
        except CampaignBusyError:
            pass

    def _sync(self, items: Items) -> None:
        """Adopt changed data: add new items, set aside vanished ones, import new labels."""
        store = self._store
        labels = initial_labels(items, self._config.classes)
        with store.write() as conn:
            conn.execute("UPDATE items SET present = 0")
            conn.executemany(
                "INSERT INTO items (item_id, pos, source, present) VALUES (?, ?, ?, 1) "
                "ON CONFLICT(item_id) DO UPDATE SET pos = excluded.pos, "
                "source = excluded.source, present = 1",
                item_rows(items),
            )
            have = {r[0] for r in conn.execute("SELECT item_id FROM labels")}
            new = {k: v for k, v in labels.items() if k not in have}
            if new:
                store.apply_labels(new, kind="sync", source=self._config.data_path)
            store.set_meta("data_hash", items.content_hash)
            store.set_meta("data_synced_at", now())


def item_rows(items: Items) -> Iterator[tuple[str, int, str]]:
    """``(item_id, pos, source)`` rows for the ``items`` table, one at a time (a million
    items are inserted without a list of a million tuples)."""
    for p, (i, s) in enumerate(zip(items.ids, items.sources, strict=True)):
        yield i, p, s


def initial_labels(items: Items, classes: tuple[str, ...]) -> dict[str, str]:
    """Labels found in the data, as class names (item id -> class).

    Raises
    ------
    DataError
        Listing the labels that are not among ``classes`` (and some of their ids).
    """
    out: dict[str, str] = {}
    bad: dict[str, list[str]] = {}
    for item_id, lab in zip(items.ids, items.labels, strict=True):
        if lab is None:
            continue
        if isinstance(lab, int):
            name = classes[lab] if 0 <= lab < len(classes) else None
            key = f"class index {lab}"
        else:
            name = lab if lab in classes else None
            key = repr(lab)
        if name is None:
            bad.setdefault(key, []).append(item_id)
        else:
            out[item_id] = name
    if bad:
        parts = [f"{k} (ids {', '.join(v[:3])}{', ...' if len(v) > 3 else ''})"
                 for k, v in list(bad.items())[:10]]
        raise DataError(
            f"the data holds labels that are not among the classes ({', '.join(classes)}): "
            + "; ".join(parts)
        )
    return out
