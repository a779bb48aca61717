"""Labeling campaigns on a user's own data, with durable state (SQLite, WAL mode).

>>> from autoal.campaign import Campaign
>>> c = Campaign.init("runs/cats", "photos/", "cat,dog")   # doctest: +SKIP
>>> batch = c.query(20)                                     # doctest: +SKIP
>>> c.teach("labels.csv")                                   # doctest: +SKIP
>>> c.status().per_class                                    # doctest: +SKIP

:mod:`~autoal.campaign.store` holds the database (transactions; its schema and migrations
are in :mod:`~autoal.campaign.store_schema`, every error in :mod:`~autoal.campaign.errors`),
:mod:`~autoal.campaign.items` reads the data and :mod:`~autoal.campaign.fingerprint` hashes
it, :mod:`~autoal.campaign.workflow` has :class:`Campaign` (one module per command behind it,
listed below), :mod:`~autoal.campaign.cli` the ``autoal campaign`` commands and
:mod:`~autoal.campaign.web` the labeling page (a package).

:class:`Campaign` is the facade; each command's work lives in a module of its own:

==========================================  ===============================================
:mod:`~autoal.campaign.config`              settings (:class:`CampaignConfig`), ``SKIP``
:mod:`~autoal.campaign.errors`              every campaign error
:mod:`~autoal.campaign.results`             the dataclasses returned
:mod:`~autoal.campaign.datacheck`           the data's hash check, adopting changed data
:mod:`~autoal.campaign.start`               init: read the data, create the database
:mod:`~autoal.campaign.state`               reading labels, rounds, the batch
:mod:`~autoal.campaign.training`            training: picking a batch, accuracy, model
:mod:`~autoal.campaign.query`               query: train, pick, store a round
:mod:`~autoal.campaign.teach`               teach (validation, one transaction) and undo
:mod:`~autoal.campaign.status`              status and the accuracy estimate
:mod:`~autoal.campaign.export`              export of labels and model
==========================================  ===============================================
"""

from autoal.campaign.config import SKIP, CampaignConfig
from autoal.campaign.errors import (
    CampaignBusyError,
    CampaignError,
    CampaignExistsError,
    CampaignNotFoundError,
    CorruptCampaignError,
    DataChangedError,
    DataError,
    SchemaVersionError,
    TeachValidationError,
)
from autoal.campaign.results import (
    Batch,
    BatchItem,
    CampaignStatus,
    ExportResult,
    QueryItem,
    QueryResult,
    RoundWeights,
    TeachResult,
    UndoResult,
)
from autoal.campaign.store_schema import SCHEMA_VERSION
from autoal.campaign.workflow import Campaign

__all__ = [
    "SCHEMA_VERSION",
    "SKIP",
    "Batch",
    "BatchItem",
    "Campaign",
    "CampaignBusyError",
    "CampaignConfig",
    "CampaignError",
    "CampaignExistsError",
    "CampaignNotFoundError",
    "CampaignStatus",
    "CorruptCampaignError",
    "DataChangedError",
    "DataError",
    "ExportResult",
    "QueryItem",
    "QueryResult",
    "RoundWeights",
    "SchemaVersionError",
    "TeachResult",
    "TeachValidationError",
    "UndoResult",
]
