"""``autoal campaign serve``: a local labeling page over a campaign's state.

The page (``campaign/static/``) shows the pending batch, one button per class plus *skip*,
keyboard shortcuts, progress, a *next batch* button and, for AutoAL campaigns, the candidate
weights per round. It talks to a small JSON API served by Flask:

======  =========================  ==========================================================
GET     ``/``                      the page
GET     ``/api/status``            counts, per-class counts, settings, weights per round, job
GET     ``/api/batch``             the latest round's items with their current labels
POST    ``/api/label``             ``{"id", "label", "relabel"?}``: one teach (one transaction)
POST    ``/api/undo``              revert the last teach (the CLI's ``undo``)
POST    ``/api/query``             ``{"n"?, "refresh"?}``: start a query in a background thread
GET     ``/api/query``             the query job's state (the page polls it)
GET     ``/api/image?id=ITEM``     an item's image, looked up by item id
======  =========================  ==========================================================

Every change goes through :class:`~autoal.campaign.Campaign` (a connection per request, so
per thread): the same SQLite transactions as the CLI, so the page and the CLI can work on one
campaign at the same time, and killing the server loses nothing that was acknowledged.

Security: the server binds to loopback by default and then only answers requests whose
``Host`` is a loopback name (no DNS rebinding). Binding elsewhere needs a token; with a token
every request needs ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``. ``POST`` bodies must be
JSON (``Content-Type: application/json``), which a cross-site form cannot send. Images are
served by item id from the campaign's own records, and only when the file resolves to a path
inside the data folder.
"""

from __future__ import annotations

import hmac
import io
import ipaddress
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import click

from autoal.campaign.config import SKIP, CampaignConfig
from autoal.campaign.errors import DataChangedError, DataError, TeachValidationError
from autoal.campaign.store import (
    DEFAULT_BUSY_TIMEOUT,
    CampaignBusyError,
    CampaignError,
    CampaignNotFoundError,
    CorruptCampaignError,
    SchemaVersionError,
)
from autoal.campaign.workflow import Campaign

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask
    from werkzeug.serving import BaseWSGIServer

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "QueryJob",
    "create_app",
    "is_loopback",
    "make_server",
    "serve",
]

#: Where ``serve`` binds unless told otherwise.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
#: Feature values shown per item of vector data (the rest are counted).
MAX_FEATURES = 48
#: Largest batch the page may ask for.
MAX_BATCH = 500
_STATIC = Path(__file__).with_name("static")
_LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".bmp": "image/bmp", ".gif": "image/gif"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an IP address, IPv6 optionally in brackets) is loopback."""
    host = host.strip().strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def _campaign_error_status(err: CampaignError) -> int:
    if isinstance(err, TeachValidationError):
        return 409 if err.needs_relabel else 400
    if isinstance(err, CampaignBusyError):
        return 503
    if isinstance(err, DataChangedError):
        return 409
    if isinstance(err, (DataError, CampaignNotFoundError, CorruptCampaignError,
                        SchemaVersionError)):
        return 500
    return 400


@dataclass
class QueryJob:
    """A query running (or run) in the server's background thread.

    Attributes
    ----------
    id : int
        Counts the jobs this server started (1, 2, ...).
    n : int
        Batch size asked for.
    refresh : bool
        Whether a new batch was asked for although the labels did not change.
    state : str
        ``"running"``, ``"done"`` or ``"error"``.
    started_at, finished_at : float
        Unix times (``finished_at`` is None while running).
    round : int or None
        The round the query stored (or reused).
    method : str or None
        How the batch was picked.
    reused : bool
        True when the query returned the pending batch unchanged.
    message : str or None
        The error, for ``state == "error"``.
    notes : list of str
        The query's notes for the user.
    """

    id: int
    n: int
    refresh: bool
    state: str = "running"
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    round: int | None = None
    method: str | None = None
    reused: bool = False
    message: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """As a JSON-ready dict, with ``elapsed`` seconds."""
        out = asdict(self)
        end = self.finished_at if self.finished_at is not None else time.time()
        out["elapsed"] = round(end - self.started_at, 1)
        return out


class _QueryRunner:
    """Runs at most one query at a time in a daemon thread (its own campaign connection)."""

    def __init__(self, open_campaign: Callable[[], Campaign]) -> None:
        self._open = open_campaign
        self._lock = threading.Lock()
        self._job: QueryJob | None = None
        self._count = 0
        self._thread: threading.Thread | None = None

    @property
    def job(self) -> QueryJob | None:
        with self._lock:
            return self._job

    def start(self, n: int, refresh: bool) -> tuple[QueryJob, bool]:
        """Start a query unless one is running; returns (job, started)."""
        with self._lock:
            if self._job is not None and self._job.state == "running":
                return self._job, False
            self._count += 1
            job = QueryJob(id=self._count, n=n, refresh=refresh)
            self._job = job
            self._thread = threading.Thread(target=self._run, args=(job,),
                                            name=f"autoal-query-{job.id}", daemon=True)
            self._thread.start()
            return job, True

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, job: QueryJob) -> None:
        try:
            with self._open() as c:
                result = c.query(job.n, refresh=job.refresh)
            job.round, job.method, job.reused = result.round, result.method, result.reused
            job.notes = list(result.notes)
            job.state = "done"
        except CampaignError as err:
            job.message, job.state = str(err), "error"
        except Exception as err:  # noqa: BLE001  (reported to the page, not lost in a thread)
            job.message, job.state = f"the query failed: {type(err).__name__}: {err}", "error"
        finally:
            job.finished_at = time.time()


class _DataCache:
    """The campaign's data read with :func:`~autoal.campaign.items.load_items`, for arrays.

    Only ``.npz`` and CSV data are read (to render array images or show feature values);
    the reading is redone when the file's size or modification time changes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._value: tuple[Any, dict[str, int]] | None = None

    def get(self, cfg: CampaignConfig) -> tuple[Any, dict[str, int]]:
        from autoal.campaign.items import load_items
        from autoal.data import DatasetError

        path = Path(cfg.data_path)
        try:
            st = path.stat()
        except OSError as err:
            raise DataError(f"cannot read the campaign's data {path}: {err}") from None
        key = (str(path), st.st_mtime_ns, st.st_size, cfg.label_column, cfg.id_column)
        with self._lock:
            if self._key != key or self._value is None:
                try:
                    items = load_items(path, cfg.data_kind, label_column=cfg.label_column,
                                       id_column=cfg.id_column)
                except DatasetError as err:
                    raise DataError(f"cannot read the campaign's data: {err}") from None
                self._value = (items, {item_id: k for k, item_id in enumerate(items.ids)})
                self._key = key
            return self._value


def _array_png(x: Any) -> bytes:
    """PNG bytes of an image array ``(C, H, W)`` with values in ``[0, 1]``."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 2:
        arr = arr[None]
    arr = np.nan_to_num(arr, nan=0.0)
    pixels = (np.clip(arr, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if pixels.shape[0] == 3:
        img = Image.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0)), mode="RGB")
    else:
        img = Image.fromarray(np.ascontiguousarray(pixels[0]), mode="L")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _host_name(host: str) -> str:
    """The name in a ``Host`` header, without port or IPv6 brackets, lower-case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _finite(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


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
    from flask import Flask, Response, jsonify, request, send_file
    from werkzeug.exceptions import HTTPException

    directory = Path(directory)
    Campaign.open(directory, busy_timeout=busy_timeout).close()  # fail early, clearly
    app = Flask(__name__, static_folder=str(_STATIC), static_url_path="/static")
    app.url_map.merge_slashes = False  # "//etc/passwd" is a 404, not a redirect
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.config["JSON_SORT_KEYS"] = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    data_cache = _DataCache()

    def open_campaign() -> Campaign:
        return Campaign.open(directory, accept_changed_data=accept_changed_data,
                             busy_timeout=busy_timeout)

    runner = _QueryRunner(open_campaign)
    app.extensions["autoal_query_runner"] = runner

    # -- guards ---------------------------------------------------------------------------
    @app.before_request
    def _guard() -> Any:
        if allowed_hosts is not None:
            host = _host_name(request.host)
            if host not in allowed_hosts and not is_loopback(host):
                return _error(403, f"host {request.host!r} is not allowed; open the page at "
                                   "http://127.0.0.1 or http://localhost")
        if token is not None:
            given = request.args.get("token", "")
            auth = request.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                given = auth[len("Bearer "):].strip()
            if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
                resp = _error(401, "missing or wrong token: send 'Authorization: Bearer TOKEN' "
                                   "or open the page with ?token=TOKEN")
                resp.headers["WWW-Authenticate"] = 'Bearer realm="autoal"'
                return resp
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
        if request.path.startswith("/api/"):
            resp.headers["Cache-Control"] = "no-store"
        return resp

    def _error(status: int, message: str, **extra: Any) -> Response:
        resp = jsonify({"error": message, **extra})
        resp.status_code = status
        return resp

    @app.errorhandler(_ApiError)
    def _api_error(err: _ApiError) -> Response:
        return _error(err.status, err.message, **err.extra)

    @app.errorhandler(CampaignError)
    def _campaign_error(err: CampaignError) -> Response:
        status = _campaign_error_status(err)
        extra: dict[str, Any] = {}
        if isinstance(err, TeachValidationError):
            extra["problems"] = err.problems
        resp = _error(status, str(err), **extra)
        if status == 503:
            resp.headers["Retry-After"] = "1"
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response:
        return _error(err.code or 500, err.description or err.name)

    # -- helpers --------------------------------------------------------------------------
    def body() -> dict[str, Any]:
        if not request.is_json:
            raise _ApiError(415, "send JSON with 'Content-Type: application/json'")
        raw = request.get_data(cache=False, as_text=False)
        try:
            data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise _ApiError(400, f"the request body is not valid JSON: {err}") from None
        if not isinstance(data, dict):
            raise _ApiError(400, "the request body must be a JSON object")
        return data

    def status_dict(c: Campaign) -> dict[str, Any]:
        st = c.status(estimate=False).to_dict()
        for key in ("accuracy", "accuracy_note"):
            st.pop(key, None)
        return st

    # -- routes ---------------------------------------------------------------------------
    @app.get("/")
    def index() -> Response:
        html = (_STATIC / "index.html").read_text(encoding="utf-8")
        qs = "" if token is None else "?token=" + quote(token, safe="")
        import html as html_mod

        html = html.replace("__TOKEN_QS__", html_mod.escape(qs, quote=True))
        html = html.replace("__TITLE__", html_mod.escape(directory.resolve().name or "campaign"))
        return Response(html, mimetype="text/html")

    @app.get("/api/status")
    def api_status() -> Response:
        with open_campaign() as c:
            st = status_dict(c)
            cfg = c.config
            history = c.weights_history()
            last_batch_size = c.batch().n_requested
        job = runner.job
        return jsonify({
            **st,
            "directory": str(directory.resolve()),
            "classes": list(cfg.classes),
            "data_kind": cfg.data_kind,
            "last_batch_size": last_batch_size,
            "weights_history": [h.to_dict() for h in history],
            "query": None if job is None else job.to_dict(),
        })

    @app.get("/api/batch")
    def api_batch() -> Response:
        with open_campaign() as c:
            cfg = c.config
            batch = c.batch()
        shown = _display(cfg)
        items = []
        features: dict[str, Any] = {}
        if shown == "features" and batch.items:
            features = _features(cfg, [i.id for i in batch.items])
        for i in batch.items:
            item = i.to_dict()
            if shown == "image":
                item["image_url"] = "api/image?id=" + quote(i.id, safe="")
            else:
                item["features"] = features.get(i.id)
            items.append(item)
        return jsonify({
            "round": batch.round,
            "method": batch.method,
            "created_at": batch.created_at,
            "n_labeled": batch.n_labeled,
            "notes": batch.notes,
            "display": shown,
            "classes": list(cfg.classes),
            "items": items,
        })

    def _display(cfg: CampaignConfig) -> str:
        if cfg.data_kind == "images":
            return "image"
        if cfg.data_kind == "npz":
            items, _ = data_cache.get(cfg)
            return "image" if items.X.ndim == 4 else "features"
        return "features"

    def _features(cfg: CampaignConfig, ids: list[str]) -> dict[str, Any]:
        import numpy as np

        items, pos = data_cache.get(cfg)
        n_feat = items.X.shape[1]
        names = items.feature_names or [f"x{j}" for j in range(n_feat)]
        out: dict[str, Any] = {}
        for item_id in ids:
            k = pos.get(item_id)
            if k is None:
                continue
            x = items.X[k, :MAX_FEATURES].astype(np.float64)
            if items.mean is not None and items.std is not None:
                mean = items.mean[:MAX_FEATURES].astype(np.float64)
                std = items.std[:MAX_FEATURES].astype(np.float64)
                x = x * std + mean
                # undo float32 noise: keep 6 significant digits of each feature's scale
                scale = np.maximum(np.abs(mean) + std, 1e-12)
                x = np.round(x / 10.0 ** (np.floor(np.log10(scale)) - 5)) * \
                    10.0 ** (np.floor(np.log10(scale)) - 5)
            out[item_id] = {
                "names": names[:MAX_FEATURES],
                "values": [_finite(float(f"{v:.6g}")) for v in x],
                "more": max(0, n_feat - MAX_FEATURES),
            }
        return out

    @app.get("/api/image")
    def api_image() -> Response:
        item_id = request.args.get("id")
        if not item_id:
            raise _ApiError(400, "give the item with ?id=ITEM_ID")
        with open_campaign() as c:
            cfg = c.config
            source = c.item_source(item_id)
        if source is None:
            raise _ApiError(404, f"unknown item id {item_id!r}")
        if cfg.data_kind == "images":
            root = Path(cfg.data_path).resolve()
            try:
                path = Path(source).resolve(strict=True)
            except (OSError, RuntimeError):
                raise _ApiError(404, f"the image of item {item_id!r} is missing") from None
            if (not path.is_relative_to(root) or not path.is_file()
                    or path.suffix.lower() not in _MIME):
                raise _ApiError(404, f"the image of item {item_id!r} is outside the data "
                                     "folder or not an image")
            return send_file(path, mimetype=_MIME[path.suffix.lower()], max_age=0,
                             etag=True, conditional=True)
        if cfg.data_kind == "npz":
            items, pos = data_cache.get(cfg)
            k = pos.get(item_id)
            if items.X.ndim == 4 and k is not None:
                return Response(_array_png(items.X[k]), mimetype="image/png")
        raise _ApiError(404, f"item {item_id!r} has no image: this campaign's data are "
                             "feature vectors")

    @app.post("/api/label")
    def api_label() -> Response:
        data = body()
        item_id, label = data.get("id"), data.get("label")
        relabel = data.get("relabel", False)
        if not isinstance(item_id, str) or not item_id:
            raise _ApiError(400, "'id' must be a non-empty string (an item id)")
        if not isinstance(label, str) or not label:
            raise _ApiError(400, "'label' must be a non-empty string (a class name or 'skip')")
        if not isinstance(relabel, bool):
            raise _ApiError(400, "'relabel' must be true or false")
        with open_campaign() as c:
            result = c.teach([(item_id, label)], relabel=relabel, source="web page")
            st = status_dict(c)
        label = label.strip()
        if label.lower() == SKIP:
            label = SKIP
        return jsonify({"id": item_id, "label": label, "result": result.to_dict(),
                        "status": st})

    @app.post("/api/undo")
    def api_undo() -> Response:
        body()
        with open_campaign() as c:
            result = c.undo()
            st = status_dict(c)
        return jsonify({"result": result.to_dict(), "status": st})

    @app.post("/api/query")
    def api_query() -> Response:
        data = body()
        n = data.get("n")
        refresh = data.get("refresh", True)
        if n is None:
            with open_campaign() as c:
                n = c.batch().n_requested or 10
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_BATCH:
            raise _ApiError(400, f"'n' must be an integer from 1 to {MAX_BATCH}")
        if not isinstance(refresh, bool):
            raise _ApiError(400, "'refresh' must be true or false")
        job, started = runner.start(n, refresh)
        if not started:
            raise _ApiError(409, "a query is already running; wait for it to finish",
                            job=job.to_dict())
        resp = jsonify({"job": job.to_dict()})
        resp.status_code = 202
        return resp

    @app.get("/api/query")
    def api_query_state() -> Response:
        job = runner.job
        return jsonify({"job": None if job is None else job.to_dict()})

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
                     allowed_hosts=set(_LOOPBACK_NAMES) if loopback else None)
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

