"""Who may talk to the labeling server: loopback hosts, the token, and the response headers.

The server binds to loopback by default and then only answers requests whose ``Host`` is a
loopback name (no DNS rebinding). Binding elsewhere needs a token; with a token every request
needs ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``. ``POST`` bodies must be JSON
(``Content-Type: application/json``), which a cross-site form cannot send.

Cross-site requests: a state-changing request (``POST``) whose ``Origin`` or ``Referer`` is
not this server is refused (403). A request from a browser (one that carries ``Origin``,
``Referer`` or a cookie) must also carry the page's CSRF token in ``X-CSRF-Token``, equal to
the ``autoal_csrf`` cookie set with the page (a per-session token, ``SameSite=Strict``).
Clients that are not browsers (curl, scripts) send none of these and need no token.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:  # pragma: no cover
    from flask import Flask, Response

__all__ = ["CSRF_COOKIE", "CSRF_HEADER", "LOOPBACK_NAMES", "csrf_token", "host_name",
           "install_guards", "is_loopback"]

#: Host names that always mean this machine.
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})

#: The cookie holding the page's CSRF token, and the header a request repeats it in.
CSRF_COOKIE = "autoal_csrf"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an IP address, IPv6 optionally in brackets) is loopback."""
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_name(host: str) -> str:
    """The name in a ``Host`` header, without port or IPv6 brackets, lower-case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def csrf_token(cookie: str | None) -> str:
    """The session's CSRF token: the cookie's when it looks like one of ours, else a new one."""
    if cookie and 32 <= len(cookie) <= 64 and cookie.replace("-", "").replace("_", "").isalnum():
        return cookie
    return secrets.token_urlsafe(32)


def _cross_site(origin: str, scheme: str, host: str) -> bool:
    """Whether an ``Origin`` / ``Referer`` value names another site than ``scheme://host``."""
    parts = urlsplit(origin)
    return origin == "null" or (parts.scheme, parts.netloc.lower()) != (scheme, host.lower())


def install_guards(app: Flask, *, token: str | None, allowed_hosts: set[str] | None) -> None:
    """Check every request's host and token first; add the security headers to every answer.

    Parameters
    ----------
    app : flask.Flask
        The application to guard.
    token : str, optional
        When given, every request must carry it (401 otherwise).
    allowed_hosts : set of str, optional
        Host names the ``Host`` header may carry besides loopback ones (403 otherwise);
        None accepts any.
    """
    from flask import jsonify, request

    def refuse(status: int, message: str) -> Response:
        resp = jsonify({"error": message})
        resp.status_code = status
        return resp

    @app.before_request
    def _guard() -> Any:
        if allowed_hosts is not None:
            host = host_name(request.host)
            if host not in allowed_hosts and not is_loopback(host):
                return refuse(403, f"host {request.host!r} is not allowed; open the page at "
                                   "http://127.0.0.1 or http://localhost")
        if token is not None:
            given = request.args.get("token", "")
            auth = request.headers.get("Authorization", "")
            if auth.startswith("Bearer "):
                given = auth[len("Bearer "):].strip()
            if not hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
                resp = refuse(401, "missing or wrong token: send 'Authorization: Bearer TOKEN' "
                                   "or open the page with ?token=TOKEN")
                resp.headers["WWW-Authenticate"] = 'Bearer realm="autoal"'
                return resp
        if request.method in _SAFE_METHODS:
            return None
        origin = request.headers.get("Origin")
        referer = request.headers.get("Referer")
        for what, value in (("Origin", origin), ("Referer", referer)):
            if value and _cross_site(value, request.scheme, request.host):
                return refuse(403, f"cross-site request refused: {what} {value!r} is not this "
                                   "server; use the labeling page itself")
        if origin or referer or request.cookies:
            cookie = request.cookies.get(CSRF_COOKIE, "")
            given = request.headers.get(CSRF_HEADER, "")
            if not cookie or not hmac.compare_digest(given.encode(), cookie.encode()):
                return refuse(403, f"missing or wrong CSRF token ({CSRF_HEADER}): reload the "
                                   "page and try again")
        return None

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Content-Security-Policy"] = _CSP
        if request.path.startswith("/api/"):
            resp.headers["Cache-Control"] = "no-store"
        return resp
