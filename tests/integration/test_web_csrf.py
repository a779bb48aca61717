"""Cross-site requests (issue 18, section 5): raw requests against the labeling server.

The browser side (the page sends its token; labels by click and key still work) is covered by
tests/integration/test_web_browser.py, which drives the real page in headless Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autoal.campaign import Campaign

from support import csv_campaign

pytest.importorskip("flask")

from autoal.campaign.web import create_app  # noqa: E402
from autoal.campaign.web.security import CSRF_COOKIE, CSRF_HEADER  # noqa: E402

SELF = "http://localhost"


@pytest.fixture()
def campaign(tmp_path: Path) -> Path:
    directory, _, _ = csv_campaign(tmp_path, n=12)
    with Campaign.open(directory) as c:
        c.query(4)
    return directory


def _labels(directory: Path) -> dict[str, str]:
    with Campaign.open(directory) as c:
        return {i.id: i.label for i in c.batch().items if i.label}


def _page_token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert match
    return match.group(1)


def test_foreign_origin_or_referer_is_refused(campaign: Path) -> None:
    client = create_app(campaign).test_client()
    token = _page_token(client)
    item = Campaign.open(campaign).batch().items[0].id
    for headers in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/x"},
                    {"Origin": "null"}, {"Origin": "http://localhost:9999"},
                    {"Origin": "https://localhost"}):
        for path, body in (("/api/label", {"id": item, "label": "zero"}), ("/api/undo", {}),
                           ("/api/query", {"n": 2}), ("/api/accept", {})):
            r = client.post(path, json=body, headers={**headers, CSRF_HEADER: token})
            assert r.status_code == 403, (headers, path)
            assert "cross-site request refused" in r.get_json()["error"]
    assert _labels(campaign) == {}


def test_browser_requests_need_the_page_token(campaign: Path) -> None:
    client = create_app(campaign).test_client()
    token = _page_token(client)
    assert client.get_cookie(CSRF_COOKIE).value == token
    cookie = client.get_cookie(CSRF_COOKIE)
    assert cookie.http_only and cookie.same_site == "Strict"
    item = Campaign.open(campaign).batch().items[0].id
    body = {"id": item, "label": "one"}
    for headers in ({"Origin": SELF}, {"Origin": SELF, CSRF_HEADER: "x" * 43},
                    {CSRF_HEADER: token + "x"}):
        r = client.post("/api/label", json=body, headers=headers)
        assert r.status_code == 403 and "CSRF token" in r.get_json()["error"], headers
    assert _labels(campaign) == {}
    r = client.post("/api/label", json=body, headers={"Origin": SELF, CSRF_HEADER: token})
    assert r.status_code == 200
    assert _labels(campaign) == {item: "one"}
    # the token is per session: another browser gets another one
    assert _page_token(create_app(campaign).test_client()) != token
    # reloading the page keeps the session's token
    assert _page_token(client) == token


def test_scripts_without_cookies_need_no_token(campaign: Path) -> None:
    client = create_app(campaign).test_client()
    item = Campaign.open(campaign).batch().items[0].id
    r = client.post("/api/label", json={"id": item, "label": "two"})
    assert r.status_code == 200 and _labels(campaign) == {item: "two"}
    assert client.get("/api/status", headers={"Origin": "http://evil.example"}).status_code == 200
