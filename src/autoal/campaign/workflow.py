"""The labeling workflow: :class:`Campaign` with init, query, teach, status, undo and export.

Every method returns plain data (dataclasses with ``to_dict``, see
:mod:`~autoal.campaign.results`) and raises a :class:`~autoal.campaign.store.CampaignError`
subclass with a message meant for the user; :mod:`autoal.campaign.cli` and
:mod:`autoal.campaign.web` only format them. State lives in the campaign folder's SQLite
database (see :mod:`autoal.campaign.store` for the durability and concurrency model); the
data stays where it is and is re-read (and its hash checked) by the commands that need it.

A :class:`Campaign` holds one SQLite connection: use it from one thread (open one per thread
or per request; opening is cheap).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from autoal.campaign import export as _export
from autoal.campaign import query as _query
from autoal.campaign import start as _start
from autoal.campaign import state as _state
from autoal.campaign import status as _status
from autoal.campaign import teach as _teach
from autoal.campaign.audit import DEFAULT_AUDIT
from autoal.campaign.config import DEFAULT_STRATEGY, CampaignConfig
from autoal.campaign.config import SKIP as SKIP
from autoal.campaign.datacheck import DataCheck
from autoal.campaign.errors import DataChangedError as DataChangedError
from autoal.campaign.errors import DataError as DataError
from autoal.campaign.errors import TeachValidationError as TeachValidationError
from autoal.campaign.results import (
    Batch,
    CampaignStatus,
    ExportResult,
    QueryResult,
    RoundWeights,
    TeachResult,
    UndoResult,
)
from autoal.campaign.results import BatchItem as BatchItem
from autoal.campaign.results import QueryItem as QueryItem
from autoal.campaign.store import DEFAULT_BUSY_TIMEOUT, Store

# The public names are listed once, in :mod:`autoal.campaign`. The ``X as X`` imports above
# are names that lived in this module before it was split: they stay importable from it.
__all__ = ["Campaign"]


class Campaign:
    """A labeling campaign stored in a folder; :meth:`close` it or use it as a context manager.

    Parameters
    ----------
    store : Store
        The campaign folder's open database: build a campaign with :meth:`init` (new) or
        :meth:`open` (existing), which open it.
    accept_changed_data : bool
        Go on when the data changed since init (see :meth:`open`).

    Examples
    --------
    >>> c = Campaign.init("my-campaign", "data.csv", ["cat", "dog"])  # doctest: +SKIP
    >>> batch = c.query(10)                                            # doctest: +SKIP
    >>> c.teach({batch.items[0].id: "cat"})                            # doctest: +SKIP
    >>> c.status().labeled                                             # doctest: +SKIP
    """

    def __init__(self, store: Store, *, accept_changed_data: bool = False) -> None:
        self._store = store
        self.accept_changed_data = accept_changed_data
        self.directory = store.path.parent
        self.config = CampaignConfig.from_json(store.get_meta("config") or "{}")
        #: Messages from :meth:`init` (e.g. a strategy fallback).
        self.notes: list[str] = []
        self._data = DataCheck(store, self.config)

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def init(
        cls,
        directory: str | os.PathLike[str],
        data: str | os.PathLike[str],
        classes: str | Iterable[str],
        *,
        strategy: str = DEFAULT_STRATEGY,
        model: str = "auto",
        seed: int = 0,
        epochs: int = 20,
        min_steps: int = 100,
        label_column: str = "label",
        id_column: str = "id",
        audit: float = DEFAULT_AUDIT,
        features: str | os.PathLike[str] | None = None,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> Campaign:
        """Start a campaign in ``directory`` on the data at ``data``.

        Parameters
        ----------
        directory : path
            The campaign folder (created if missing). It must not hold a campaign database.
        data : path
            A CSV (feature columns; ``id_column`` and ``label_column`` when present), an
            ``.npz`` (``X``, optional ``y`` with ``-1`` = unlabeled; integer labels index
            ``classes``), a folder of images (loose = unlabeled, class sub-folders =
            labeled), or a ``.npy`` of vectors or a folder of ``.npy`` shards (one
            unlabeled item per row, id = row number; memory-mapped, used as given).
        classes : str or iterable of str
            Class names (``"a,b,c"`` or a list); at least 2, unique, not ``"skip"``.
        strategy : str
            A registered query strategy (default :data:`DEFAULT_STRATEGY`, ``margin``; see
            its comment for why); ``"autoal"`` falls back to ``"margin"`` (with a
            note in :attr:`notes`) when AutoAL is not installed.
        model : str
            ``auto`` (``cnn`` for images, ``mlp`` for vectors), ``mlp``, ``cnn``,
            ``sklearn:ClassName`` (a scikit-learn classifier with ``predict_proba``) or the
            path of a pickled scikit-learn estimator (``.pkl``); see
            :mod:`autoal.campaign.estimators`. A scikit-learn model gives probabilities
            only: ``strategy="autoal"`` then becomes ``margin`` (with a note).
        seed : int
            Seeds every model, strategy and the diverse start.
        epochs : int
            Training epochs per fit.
        min_steps : int
            Minimum optimiser steps per fit: small label sets get more epochs, so that the
            first rounds' models are trained at all (``0`` makes ``epochs`` exact).
        label_column, id_column : str
            CSV columns with known labels and item ids.
        audit : float
            Share of each batch drawn at random from the unlabeled items for the accuracy
            estimate (default 0.1; 0 turns it off; below 1). Their labels train the model
            only once the strategy picks them (see :mod:`autoal.campaign.audit`).
        features : path, optional
            Your own feature vectors (e.g. a foundation model's embeddings), the model's
            input instead of the data's values: a ``.npy`` with one row per item (in the
            data's row order; for a folder of images, the images' relative paths sorted)
            or a CSV with an ``id`` column (item ids) and feature columns. The page still
            shows the images. Rows that do not match the items one to one are an error.
        busy_timeout : float
            Seconds to wait for another command's write lock.

        Returns
        -------
        Campaign
            The new campaign, open.

        Raises
        ------
        CampaignError
            Bad arguments, unreadable data, labels outside ``classes``, or an existing
            database (an autoal campaign or a foreign file, which is left untouched).
        """
        store, items, notes = _start.create(
            directory, data, classes, strategy=strategy, model=model, seed=seed, epochs=epochs,
            min_steps=min_steps, label_column=label_column, id_column=id_column, audit=audit,
            features=features, busy_timeout=busy_timeout)
        campaign = cls(store)
        campaign._data = DataCheck(store, campaign.config, items)
        campaign.notes = notes
        return campaign

    @classmethod
    def open(
        cls,
        directory: str | os.PathLike[str],
        *,
        accept_changed_data: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> Campaign:
        """Open the campaign in ``directory``.

        Parameters
        ----------
        directory : path
            A folder made by :meth:`init`.
        accept_changed_data : bool
            When the data's content changed since init (or the last accepted change),
            continue with the new content: new items are added, items gone from the data
            are set aside (their labels are kept and exported), labels are matched by id.
            Without it, commands that use the data raise :class:`DataChangedError`.
        busy_timeout : float
            Seconds to wait for another command's write lock before
            :class:`~autoal.campaign.store.CampaignBusyError`.

        Raises
        ------
        CampaignNotFoundError, CorruptCampaignError, SchemaVersionError, CampaignBusyError
            See :mod:`autoal.campaign.store`; nothing is written in these cases.
        """
        return cls(Store.open(directory, busy_timeout), accept_changed_data=accept_changed_data)

    def close(self) -> None:
        """Close the database connection."""
        self._store.close()

    def __enter__(self) -> Campaign:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Campaign({str(self.directory)!r})"

    # -- reading ----------------------------------------------------------------------------
    def batch(self) -> Batch:
        """The latest round's items with their current labels (what is left to label).

        Reads the campaign's database only: the data is neither read nor hash-checked, so
        this is cheap enough to call on every page load.

        Returns
        -------
        Batch
            Empty (``round`` None) before the first query. Items that left the data after an
            accepted change are left out; labeled and skipped items stay, with their label.

        Examples
        --------
        >>> with Campaign.open("my-campaign") as c:              # doctest: +SKIP
        ...     todo = [item.id for item in c.batch().pending]
        """
        return _state.read_batch(self._store, self.config)

    def weights_history(self) -> list[RoundWeights]:
        """The candidate weights of every round whose strategy reported them (AutoAL).

        Returns
        -------
        list of RoundWeights
            In round order; rounds without weights (other strategies, the diverse start) are
            left out, so the list is empty for strategies that report none.
        """
        return _state.weights_history(self._store)

    def item_source(self, item_id: str) -> str | None:
        """Where an item is: ``"row 12"`` or its image file's path (as in :class:`QueryItem`).

        Parameters
        ----------
        item_id : str
            An item id.

        Returns
        -------
        str or None
            None when no item of the data (as last accepted) has that id. The path is the
            one recorded for the item joined to the data folder; it is not checked against
            the file system (resolve it before opening it).
        """
        return _state.item_source(self._store, self.config, item_id)

    # -- commands ---------------------------------------------------------------------------
    def query(self, n: int, *, refresh: bool = False) -> QueryResult:
        """Pick ``n`` items to label next and store them as the pending batch.

        Trains the campaign's model on the labels so far (outside any lock) and applies the
        strategy. With fewer than two labeled classes it starts diverse: k-means on the
        features (no labels yet) or core-set from the labeled items. Asking again before
        any teach returns the same pending batch unless ``refresh``.

        Parameters
        ----------
        n : int
            Batch size (fewer when fewer items are left).
        refresh : bool
            Pick a new batch even though the labels did not change.

        Raises
        ------
        CampaignError
            ``n < 1``, nothing left to label, data changed or unreadable, busy.
        """
        return _query.run_query(self._store, self.config, self._data, n, refresh=refresh,
                                accept_changed=self.accept_changed_data)

    def teach(
        self,
        labels: str | os.PathLike[str] | Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        relabel: bool = False,
        source: str | None = None,
    ) -> TeachResult:
        """Add labels, all in one transaction, after validating every one of them.

        Parameters
        ----------
        labels : path, mapping or iterable of (id, label)
            A CSV file with columns ``id`` and ``label`` (other columns are ignored, rows
            with an empty label are skipped), a Label Studio JSON export (``.json``: the
            tasks of :meth:`export_label_studio` with their annotations; see
            :mod:`autoal.campaign.labelstudio`), a mapping id -> label, or pairs. The label
            ``"skip"`` excludes an item.
        relabel : bool
            Allow changing the label of an item labeled (or skipped) before.
        source : str, optional
            Recorded as where the labels came from (defaults to the file's path).

        Raises
        ------
        TeachValidationError
            Listing every problem: unknown ids, unknown classes, conflicting duplicates,
            changes of existing labels without ``relabel``. Nothing is written.
        CampaignError
            Unreadable labels file, changed data, busy.
        """
        return _teach.teach(self._store, self.config, self._data, labels, relabel=relabel,
                            source=source, accept_changed=self.accept_changed_data)

    def undo(self) -> UndoResult:
        """Revert the last teach that is still in effect (labels found at init stay).

        Raises
        ------
        CampaignError
            Nothing to undo; busy.
        """
        return _teach.undo(self._store)

    def status(self) -> CampaignStatus:
        """Counts, the last round, the accuracy estimate and the stopping rule's verdict.

        The estimate is the latest model round's accuracy on the items not yet labeled,
        measured on the audit (items drawn at random, see :mod:`autoal.campaign.audit`),
        with a 95 % Wilson interval; ``history`` has it per round with how much the
        predictions changed between rounds, and ``stopping`` the verdict of the
        stabilizing-predictions rule (see :mod:`autoal.campaign.stopping`). Reads the
        database only; the data is hash-checked, not read.
        """
        return _status.campaign_status(self._store, self.config, self._data,
                                       accept_changed=self.accept_changed_data)

    def export(
        self,
        out: str | os.PathLike[str],
        *,
        model: str | os.PathLike[str] | None = None,
        include_skipped: bool = False,
    ) -> ExportResult:
        """Write every label to a CSV and, optionally, a model trained on all of them.

        Parameters
        ----------
        out : path
            CSV with columns ``id,label,source`` in data order (written atomically). Items
            that left the data after an accepted change are included.
        model : path, optional
            Where to ``torch.save`` a dict: ``state_dict``, ``model`` (net name),
            ``classes``, ``input_shape``, ``mean``/``std`` (the standardisation of vector
            inputs, or None), ``feature_names``, ``n_labels``, ``autoal_version``. Written
            atomically. Rebuild with ``autoal.models.build_net(model, input_shape,
            len(classes))`` and ``load_state_dict``.
        include_skipped : bool
            Also write the ``skip`` rows.
        """
        return _export.export(self._store, self.config, self._data, out, model=model,
                              include_skipped=include_skipped,
                              accept_changed=self.accept_changed_data)

    def export_label_studio(self, out: str | os.PathLike[str], *,
                            image_url_prefix: str | None = None) -> ExportResult:
        """Write the pending batch as Label Studio import tasks, and its labeling config.

        Parameters
        ----------
        out : path
            The tasks (a JSON list, written atomically): per pending item ``data.id`` (the
            item id), ``data.image`` (images) or ``data.features`` and ``data.text``
            (vectors), and the model's guess under ``predictions`` (none for audit items).
            The labeling config goes to ``out`` with the suffix ``.label-config.xml``.
        image_url_prefix : str, optional
            The image URL is this prefix plus the image's path relative to the data folder.
            Default: Label Studio's local-files URL of the absolute path
            (``/data/local-files/?d=home/you/photos/cat1.png``), served when Label Studio
            runs with ``LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true`` and
            ``LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT=/``.

        Returns
        -------
        ExportResult
            ``n_labels`` is the number of tasks; ``config_path`` the labeling config.

        Raises
        ------
        CampaignError
            Nothing pending; changed or unreadable data.
        """
        return _export.export_label_studio(self._store, self.config, self._data, out,
                                           image_url_prefix=image_url_prefix,
                                           accept_changed=self.accept_changed_data)
