"""The workflow's errors about the data and about labels (the database's are in ``store``).

Every error is a :class:`~autoal.campaign.store.CampaignError` whose message is meant for
the user.
"""

from __future__ import annotations

from autoal.campaign.store import CampaignError

__all__ = ["DataChangedError", "DataError", "TeachValidationError"]


class DataError(CampaignError):
    """The campaign's data (or a labels file) is missing, unreadable or invalid."""


class DataChangedError(CampaignError):
    """The data's content hash differs from the one stored; see ``accept_changed_data``."""


class TeachValidationError(CampaignError):
    """A teach found problems; nothing was written.

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
