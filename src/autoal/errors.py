"""Errors the ``autoal`` command reports as ``error: ...`` with exit code 2.

Every command module (``autoal.cli``, ``autoal.bench.cli``, ``autoal.campaign.cli``,
``autoal.campaign.web``) raises these; none of them imports the ``autoal`` command module.
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["InputError"]


class InputError(click.ClickException):
    """Bad input from the user: printed as ``error: ...`` with exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        """Print the message to standard error."""
        click.echo(f"error: {self.format_message()}", err=True)
