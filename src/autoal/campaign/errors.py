"""Every campaign error: about the database, the data and labels.

Every error is a :class:`CampaignError` whose message is meant for the user (the CLI prints
it after ``error:`` and exits 2; the web page shows it).
"""

from __future__ import annotations

__all__ = [
    "CampaignBusyError",
    "CampaignError",
    "CampaignExistsError",
    "CampaignNotFoundError",
    "CorruptCampaignError",
    "DataChangedError",
    "DataError",
    "SchemaVersionError",
    "TeachValidationError",
    "is_busy",
]


class CampaignError(Exception):
    """Base class of every campaign error; the message is meant for the user."""


class CampaignNotFoundError(CampaignError):
    """The folder holds no campaign database."""


class CampaignExistsError(CampaignError):
    """``init`` found a database (an autoal campaign or a foreign file) at the target."""


class CorruptCampaignError(CampaignError):
    """The database file is not SQLite, not an autoal campaign, or damaged."""


class SchemaVersionError(CampaignError):
    """The database was written by a newer autoal with a newer schema."""


class CampaignBusyError(CampaignError):
    """Another autoal command holds the campaign's write lock for longer than the timeout."""


class DataError(CampaignError):
    """The campaign's data (or a labels file) is missing, unreadable or invalid."""


class DataChangedError(CampaignError):
    """The data's content hash differs from the one stored; see ``accept_changed_data``."""


class TeachValidationError(CampaignError):
    """A teach found problems; nothing was written.

    Parameters
    ----------
    source : str
        What was being taught (a file's path, or "the labels"), named in the message.
    problems : list of str
        Every problem found, one line each.
    needs_relabel : bool
        Whether some problems are labels that would change existing labels.

    Attributes
    ----------
    problems : list of str
        Every problem found, one line each.
    needs_relabel : bool
        Whether some problems are labels that would change existing labels.
    """

    def __init__(self, source: str, problems: list[str], needs_relabel: bool = False) -> None:
        self.problems = problems
        self.needs_relabel = needs_relabel
        n = len(problems)
        head = f"{source} has {n} problem{'s' if n != 1 else ''}; nothing was written:"
        hint = ("\n  (pass --relabel / relabel=True to change labels already given)"
                if needs_relabel else "")
        super().__init__(head + "".join(f"\n  {p}" for p in problems) + hint)


def is_busy(err: Exception) -> bool:
    """Whether an ``sqlite3`` error means another connection holds a lock (busy, locked)."""
    msg = str(err).lower()
    return "locked" in msg or "busy" in msg
