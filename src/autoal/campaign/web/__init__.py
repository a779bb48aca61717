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
campaign at the same time, and killing the server loses nothing that was acknowledged. A
request that meets another command's write lock waits up to the busy timeout, then answers
503 with ``Retry-After``.

=================================  ==========================================================
:mod:`~.web.security`              loopback hosts, the token, security headers
:mod:`~.web.jobs`                  the background query
:mod:`~.web.media`                 images and feature values of items
:mod:`~.web.routes`                the Flask Blueprint with the routes and error answers
:mod:`~.web.app`                   the app factory, the server and the ``serve`` command
=================================  ==========================================================

Flask is imported only when an app is built, so ``autoal campaign`` works without it.
"""

from autoal.campaign.web.app import DEFAULT_HOST, DEFAULT_PORT, create_app, make_server, serve
from autoal.campaign.web.jobs import QueryJob
from autoal.campaign.web.security import is_loopback

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "QueryJob",
    "create_app",
    "is_loopback",
    "make_server",
    "serve",
]
