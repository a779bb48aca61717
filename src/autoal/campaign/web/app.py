"""The app factory, the threaded server and the ``autoal campaign serve`` command."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import click

from autoal.campaign.errors import CampaignError
from autoal.campaign.store import DEFAULT_BUSY_TIMEOUT
from autoal.campaign.web.security import LOOPBACK_NAMES, install_guards, is_loopback
from autoal.campaign.workflow import Campaign

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask
    from werkzeug.serving import BaseWSGIServer

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "create_app", "make_server", "serve"]

#: Where ``serve`` binds unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def create_app(
    directory: str | os.PathLike[str],
    *,
    token: str | None = None,
    accept_changed_data: bool = False,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    allowed_hosts: set[str] | None = None,
) -> Flask:
    """The Flask application serving the labeling page and its JSON API for one campaign.

    Parameters
    ----------
    directory : path
        The campaign folder (made by ``autoal campaign init``). It is opened on every
        request, so the server always shows the current state, whoever changed it.
    token : str, optional
        When given, every request needs ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``
        (401 otherwise).
    accept_changed_data : bool
        As :meth:`Campaign.open`: continue when the data changed since init.
    busy_timeout : float
        Seconds a write waits for another command's lock before answering 503.
    allowed_hosts : set of str, optional
        Host names the ``Host`` header may carry (403 otherwise); None accepts any. ``serve``
        passes the loopback names when it binds to loopback, against DNS rebinding.

    Returns
    -------
    flask.Flask

    Raises
    ------
    CampaignError
        The folder holds no usable campaign (checked once, at creation).
    """
    from flask import Flask

    from autoal.campaign.web.jobs import QueryRunner
    from autoal.campaign.web.media import DataCache
    from autoal.campaign.web.routes import STATIC, WebContext, bp

    directory = Path(directory)
    Campaign.open(directory, busy_timeout=busy_timeout).close()  # fail early, clearly

    def open_campaign() -> Campaign:
        return Campaign.open(directory, accept_changed_data=accept_changed_data,
                             busy_timeout=busy_timeout)

    app = Flask("autoal.campaign.web", static_folder=str(STATIC), static_url_path="/static")
    app.url_map.merge_slashes = False  # "//etc/passwd" is a 404, not a redirect
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.json.sort_keys = False  # type: ignore[attr-defined]
    runner = QueryRunner(open_campaign)
    app.extensions["autoal"] = WebContext(directory=directory, token=token,
                                          open_campaign=open_campaign, runner=runner,
                                          data_cache=DataCache())
    app.extensions["autoal_query_runner"] = runner
    install_guards(app, token=token, allowed_hosts=allowed_hosts)
    app.register_blueprint(bp)
    return app


def make_server(
    directory: str | os.PathLike[str],
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    token: str | None = None,
    accept_changed_data: bool = False,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
) -> BaseWSGIServer:
    """A threaded werkzeug server for :func:`create_app` (call ``serve_forever()``).

    ``port=0`` picks a free port (``server.server_port`` tells which). When ``host`` is
    loopback, requests must name a loopback host; otherwise ``token`` is required.

    Raises
    ------
    ValueError
        ``host`` is not loopback and no token is given.
    CampaignError
        No usable campaign in ``directory``.
    OSError
        The address cannot be bound.
    """
    from werkzeug.serving import make_server as wz_make_server

    loopback = is_loopback(host)
    if not loopback and not token:
        raise ValueError(
            f"binding to {host} exposes the campaign to the network: give --token TOKEN "
            "(every request must then carry it)"
        )
    app = create_app(directory, token=token, accept_changed_data=accept_changed_data,
                     busy_timeout=busy_timeout,
                     allowed_hosts=set(LOOPBACK_NAMES) if loopback else None)
    return wz_make_server(host, port, app, threaded=True)


def _url(host: str, port: int, token: str | None) -> str:
    shown = host if host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/" + ("" if not token else "?token=" + quote(token, safe=""))


@click.command("serve")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Address to bind. Anything but loopback needs --token.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="Port (0: any free port).")
@click.option("--token", default=None, envvar="AUTOAL_WEB_TOKEN",
              help="Require this token on every request (Bearer header or ?token=). "
                   "Also read from $AUTOAL_WEB_TOKEN.")
@click.option("--accept-changed-data", is_flag=True,
              help="Continue although the data changed since the campaign last used it.")
def serve(directory: Path, host: str, port: int, token: str | None,
          accept_changed_data: bool) -> None:
    """Label in a web page: serve DIRECTORY's campaign at http://HOST:PORT/.

    Every click is saved at once, in the same transactions as the CLI, so the CLI can be
    used on the campaign at the same time. Stop with Ctrl-C.
    """
    from autoal.errors import InputError

    try:
        import flask  # noqa: F401
    except ImportError:
        raise InputError("the labeling page needs Flask: pip install 'autoal[web]'") from None
    if not is_loopback(host) and not token:
        raise click.UsageError(
            f"--host {host} is not a loopback address: anyone who can reach it could change "
            "the campaign; add --token TOKEN (every request must then carry it)"
        )
    try:
        server = make_server(directory, host, port, token=token,
                             accept_changed_data=accept_changed_data)
    except CampaignError as err:
        raise InputError(str(err)) from None
    except OSError as err:
        raise InputError(f"cannot listen on {host}:{port}: {err}") from None
    click.echo(f"serving campaign {directory} at {_url(host, server.server_port, token)}")
    click.echo("(every click is saved at once; stop with Ctrl-C)", err=True)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
