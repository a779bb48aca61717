"""The labeling page's routes: a Flask Blueprint over :class:`~autoal.campaign.Campaign`.

Each request opens the campaign (a connection of its own, so per thread) and reads or changes
it through the same methods and transactions as the CLI. The app's settings reach the routes
as a :class:`WebContext` in ``app.extensions["autoal"]``.
"""

from __future__ import annotations

import html as html_mod
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from autoal.campaign.config import SKIP
from autoal.campaign.errors import (
    CampaignBusyError,
    CampaignError,
    CampaignNotFoundError,
    CorruptCampaignError,
    DataChangedError,
    DataError,
    SchemaVersionError,
    TeachValidationError,
    is_busy,
)
from autoal.campaign.web.jobs import QueryRunner
from autoal.campaign.web.keys import class_keys
from autoal.campaign.web.media import DataCache, MediaError, display, features, image_response
from autoal.campaign.web.security import CSRF_COOKIE, csrf_token
from autoal.campaign.workflow import Campaign

__all__ = ["MAX_BATCH", "STATIC", "ApiError", "WebContext", "bp"]

#: Largest batch the page may ask for.
MAX_BATCH = 500
#: The page's files (index.html, app.js, app.css).
STATIC = Path(__file__).resolve().parent.parent / "static"
#: Seconds a client is told to wait before retrying a busy answer.
RETRY_AFTER = "1"

bp = Blueprint("autoal_campaign", __name__)


@dataclass
class WebContext:
    """What the routes need to know about the app serving one campaign.

    Attributes
    ----------
    directory : Path
        The campaign folder.
    token : str or None
        The access token (added to the page's API calls).
    open_campaign : callable
        Opens the campaign with the app's settings (one connection; close it).
    runner : QueryRunner
        The background query.
    data_cache : DataCache
        The data, read for feature values and array images.
    """

    directory: Path
    token: str | None
    open_campaign: Callable[[], Campaign]
    runner: QueryRunner
    data_cache: DataCache


def _ctx() -> WebContext:
    ctx: WebContext = current_app.extensions["autoal"]
    return ctx


class ApiError(Exception):
    """An error answered as ``{"error": message, **extra}`` with HTTP ``status``.

    Parameters
    ----------
    status : int
        The HTTP status.
    message : str
        For the user.
    **extra
        More JSON fields of the answer.
    """

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def error_response(status: int, message: str, **extra: Any) -> Response:
    """``{"error": message, **extra}`` with ``status``; busy answers say when to retry."""
    resp = jsonify({"error": message, **extra})
    resp.status_code = status
    if status == 503:
        resp.headers["Retry-After"] = RETRY_AFTER
    return resp


def campaign_error_status(err: CampaignError) -> int:
    """The HTTP status of a campaign error."""
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


@bp.app_errorhandler(ApiError)
def _api_error(err: ApiError) -> Response:
    return error_response(err.status, err.message, **err.extra)


@bp.app_errorhandler(CampaignError)
def _campaign_error(err: CampaignError) -> Response:
    extra = {"problems": err.problems} if isinstance(err, TeachValidationError) else {}
    return error_response(campaign_error_status(err), str(err), **extra)


@bp.app_errorhandler(sqlite3.OperationalError)
def _sqlite_error(err: sqlite3.OperationalError) -> Response:
    # a read that met another process's lock (e.g. a checkpoint): busy, not broken
    if is_busy(err):
        return error_response(503, "campaign is busy: another autoal command is using it; "
                                   "try again in a moment")
    return error_response(500, f"database error: {err}")


@bp.app_errorhandler(HTTPException)
def _http_error(err: HTTPException) -> Response:
    return error_response(err.code or 500, err.description or err.name)


def _body() -> dict[str, Any]:
    if not request.is_json:
        raise ApiError(415, "send JSON with 'Content-Type: application/json'")
    raw = request.get_data(cache=False, as_text=False)
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ApiError(400, f"the request body is not valid JSON: {err}") from None
    except RecursionError:
        raise ApiError(400, "the request body is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return data


def _status_dict(c: Campaign) -> dict[str, Any]:
    return c.status().to_dict()


@bp.get("/")
def index() -> Response:
    ctx = _ctx()
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    qs = "" if ctx.token is None else "?token=" + quote(ctx.token, safe="")
    page = page.replace("__TOKEN_QS__", html_mod.escape(qs, quote=True))
    page = page.replace("__TITLE__", html_mod.escape(ctx.directory.resolve().name or "campaign"))
    token = csrf_token(request.cookies.get(CSRF_COOKIE))
    page = page.replace("__CSRF__", token)
    resp = Response(page, mimetype="text/html")
    resp.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/")
    return resp


@bp.get("/api/status")
def api_status() -> Response:
    ctx = _ctx()
    with ctx.open_campaign() as c:
        st = _status_dict(c)
        cfg = c.config
        history = c.weights_history()
        last_batch_size = c.batch().n_requested
    job = ctx.runner.job
    return jsonify({
        **st,
        "directory": str(ctx.directory.resolve()),
        "classes": list(cfg.classes),
        "data_kind": cfg.data_kind,
        "last_batch_size": last_batch_size,
        "weights_history": [h.to_dict() for h in history],
        "query": None if job is None else job.to_dict(),
    })


@bp.get("/api/batch")
def api_batch() -> Response:
    ctx = _ctx()
    with ctx.open_campaign() as c:
        cfg = c.config
        batch = c.batch()
    shown = display(cfg, ctx.data_cache)
    values: dict[str, Any] = {}
    if shown == "features" and batch.items:
        values = features(cfg, ctx.data_cache, [i.id for i in batch.items])
    items = []
    for i in batch.items:
        item = i.to_dict()
        if shown == "image":
            item["image_url"] = "api/image?id=" + quote(i.id, safe="")
        else:
            item["features"] = values.get(i.id)
        items.append(item)
    return jsonify({
        "round": batch.round,
        "method": batch.method,
        "created_at": batch.created_at,
        "n_labeled": batch.n_labeled,
        "notes": batch.notes,
        "display": shown,
        "classes": list(cfg.classes),
        "keys": class_keys(cfg.classes)[0],
        "keys_are_names": class_keys(cfg.classes)[1],
        "items": items,
    })


@bp.get("/api/image")
def api_image() -> Response:
    ctx = _ctx()
    item_id = request.args.get("id")
    if not item_id:
        raise ApiError(400, "give the item with ?id=ITEM_ID")
    with ctx.open_campaign() as c:
        cfg = c.config
        source = c.item_source(item_id)
    if source is None:
        raise ApiError(404, f"unknown item id {item_id!r}")
    try:
        return image_response(cfg, ctx.data_cache, item_id, source)
    except MediaError as err:
        raise ApiError(404, str(err)) from None


@bp.post("/api/label")
def api_label() -> Response:
    data = _body()
    item_id, label = data.get("id"), data.get("label")
    relabel = data.get("relabel", False)
    if not isinstance(item_id, str) or not item_id:
        raise ApiError(400, "'id' must be a non-empty string (an item id)")
    if not isinstance(label, str) or not label:
        raise ApiError(400, "'label' must be a non-empty string (a class name or 'skip')")
    if not isinstance(relabel, bool):
        raise ApiError(400, "'relabel' must be true or false")
    with _ctx().open_campaign() as c:
        result = c.teach([(item_id, label)], relabel=relabel, source="web page")
        st = _status_dict(c)
    label = label.strip()
    if label.lower() == SKIP:
        label = SKIP
    return jsonify({"id": item_id, "label": label, "result": result.to_dict(), "status": st})


@bp.post("/api/accept")
def api_accept() -> Response:
    """Accept the model's guesses: of the items in ``ids``, or of every pending item."""
    data = _body()
    ids = data.get("ids")
    if ids is not None and (not isinstance(ids, list)
                            or not all(isinstance(i, str) and i for i in ids)):
        raise ApiError(400, "'ids' must be a list of item ids (or left out: the whole batch)")
    with _ctx().open_campaign() as c:
        pending = {i.id: i.guess for i in c.batch().pending}
        wanted = list(pending) if ids is None else ids
        unknown = [i for i in wanted if i not in pending]
        if unknown:
            raise ApiError(409, f"not pending in the current batch: {', '.join(unknown[:5])}"
                                + (" ..." if len(unknown) > 5 else ""))
        labels = [(i, guess) for i in wanted if (guess := pending[i])]
        if not labels:
            raise ApiError(409, "no model guess to accept (the first batch has none)")
        result = c.teach(labels, source="web page (accepted guesses)")
        st = _status_dict(c)
    return jsonify({"accepted": dict(labels), "without_guess": len(wanted) - len(labels),
                    "result": result.to_dict(), "status": st})


@bp.post("/api/undo")
def api_undo() -> Response:
    _body()
    with _ctx().open_campaign() as c:
        result = c.undo()
        st = _status_dict(c)
    return jsonify({"result": result.to_dict(), "status": st})


@bp.post("/api/query")
def api_query() -> Response:
    ctx = _ctx()
    data = _body()
    n = data.get("n")
    refresh = data.get("refresh", True)
    if n is None:
        with ctx.open_campaign() as c:
            n = c.batch().n_requested or 10
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_BATCH:
        raise ApiError(400, f"'n' must be an integer from 1 to {MAX_BATCH}")
    if not isinstance(refresh, bool):
        raise ApiError(400, "'refresh' must be true or false")
    job, started = ctx.runner.start(n, refresh)
    if not started:
        raise ApiError(409, "a query is already running; wait for it to finish",
                       job=job.to_dict())
    resp = jsonify({"job": job.to_dict()})
    resp.status_code = 202
    return resp


@bp.get("/api/query")
def api_query_state() -> Response:
    job = _ctx().runner.job
    return jsonify({"job": None if job is None else job.to_dict()})
