"""Errors the ``autoal`` command reports as ``error: ...``: bad input (exit code 2) and a file
that could not be written (exit code 1).

Every command module (``autoal.cli``, ``autoal.bench.cli``, ``autoal.campaign.cli``,
``autoal.campaign.web``) raises these; none of them imports the ``autoal`` command module.
"""

from __future__ import annotations

from typing import Any

import click

__all__ = ["InputError", "WriteError"]


class InputError(click.ClickException):
    """Bad input from the user: printed as ``error: ...`` with exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        """Print the message to standard error."""
        click.echo(f"error: {self.format_message()}", err=True)


class WriteError(click.ClickException):
    """A file could not be written (a full disk, a read-only file system): ``error: ...``
    naming the file and what was kept, exit code 1, no traceback."""

    def show(self, file: Any = None) -> None:
        """Print the message to standard error."""
        click.echo(f"error: {self.format_message()}", err=True)

    @classmethod
    def from_os_error(cls, err: OSError, kept: str) -> WriteError:
        """The error for ``err`` (whose message names the file) and what was ``kept``."""
        return cls(f"{err.strerror or err}; {kept}")
