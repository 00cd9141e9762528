"""The Commitments dashboard, served by Airflow's own API app with the plugin loaded from plugins/:
401 without a login, 200 with the JWT (header or the UI's cookie), and scraped text escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Commitment, CommitmentStatus, Reference, Source, SourcePoll, Statement, Version, utcnow
from models import session_scope as scope
from pipeline.context import Context
from pipeline.match import sync_commitments
from tests.conftest import test_settings

pytestmark = pytest.mark.airflow

EVIL_TITLE = "<script>alert('title')</script> Appeal on autonomous weapons"
EVIL_EVIDENCE = 'He called for a ban on lethal autonomous weapons <img src=x onerror="alert(1)">.'
PAGES = [
    "/pledgewatch/",
    "/pledgewatch/commitments/c2a.7.4",
    "/pledgewatch/sources",
    "/pledgewatch/sources/evil-src",
]


@pytest.fixture(scope="module")
def api(airflow_db):
    """Airflow's API server app (UI, REST API, auth, plugins) in-process, and an admin token."""
    import os
    import secrets

    from airflow.api_fastapi.app import create_app, purge_cached_app
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
    from fastapi.testclient import TestClient

    os.environ["AIRFLOW__API_AUTH__JWT_SECRET"] = secrets.token_urlsafe(64)  # the api-server's signing key
    purge_cached_app()
    with TestClient(create_app(), base_url="http://localhost") as client:
        password = SimpleAuthManager.get_passwords()["admin"]
        reply = client.post("/auth/token", json={"username": "admin", "password": password})
        assert reply.status_code in (200, 201), reply.text
        yield client, reply.json()["access_token"]
    purge_cached_app()
    del os.environ["AIRFLOW__API_AUTH__JWT_SECRET"]


@pytest.fixture
def data(db_url, tmp_path, monkeypatch):
    """A small history written through the ORM: two sources, a hostile statement, a status row."""
    monkeypatch.setenv("PLEDGEWATCH_DATABASE_URL", db_url)
    ctx = Context(settings=test_settings(db_url, tmp_path), trigger="test")
    now = utcnow()
    with scope(ctx.factory) as session:
        sync_commitments(session, ctx.catalog)
        good = Source(
            key="good-src",
            publisher="Good",
            kind="feed",
            url="https://example.org/feed.xml",
            last_success_at=now - timedelta(hours=1),
        )
        evil = Source(
            key="evil-src",
            publisher="<b>Evil</b>",
            kind="listing",
            url="https://example.org/list",
            consecutive_failures=3,
            last_error="<script>alert('error')</script>",
        )
        session.add_all([good, evil])
        session.flush()
        session.add_all(
            [
                SourcePoll(source_id=good.id, started_at=now - timedelta(hours=1), ok=True, new_statements=1),
                SourcePoll(
                    source_id=evil.id, started_at=now - timedelta(hours=1), ok=False, error="<i>boom</i>"
                ),
            ]
        )
        st = Statement(
            url_hash="h1",
            url="javascript:alert('url')",
            source_id=evil.id,
            publisher="<b>Evil</b>",
            title=EVIL_TITLE,
            published_at=now - timedelta(days=10),
            lang="en",
        )
        session.add(st)
        session.flush()
        version = Version(statement_id=st.id, seq=1, content_hash="x", text=EVIL_EVIDENCE, matched_at=now)
        session.add(version)
        session.flush()
        session.add(
            Reference(
                version_id=version.id,
                statement_id=st.id,
                commitment_id="c2a.7.4",
                score=0.9,
                cue="autonomous weapons",
                evidence=EVIL_EVIDENCE,
                start_offset=0,
                end_offset=10,
            )
        )
        session.add(CommitmentStatus(commitment_id="c2a.4", status="quiet", since=now - timedelta(days=3)))
        session.add(
            CommitmentStatus(commitment_id="c2a.3", status="active", muted_until=now + timedelta(days=5))
        )
    yield ctx
    ctx.close()


def test_anonymous_gets_401_and_a_bad_token_is_refused(api, data):
    client, _ = api
    for path in PAGES:
        reply = client.get(path)
        assert reply.status_code == 401, path
        assert "Log in" in reply.text
    assert client.get(PAGES[0], headers={"Authorization": "Bearer not-a-jwt"}).status_code in (401, 403)


def test_logged_in_pages_render_with_real_content(api, data):
    client, token = api
    auth = {"Authorization": f"Bearer {token}"}
    replies = {path: client.get(path, headers=auth) for path in PAGES}
    assert {p: r.status_code for p, r in replies.items()} == dict.fromkeys(PAGES, 200)

    overview = replies["/pledgewatch/"].text
    with scope(data.factory) as session:
        active = session.scalars(select(Commitment.id).where(Commitment.active.is_(True))).all()
    assert all(f">{cid}</a>" in overview for cid in active)
    assert ">quiet<" in overview and ">muted<" in overview and ">unchecked<" in overview
    assert "<svg" in overview and "1 new reference(s)" in overview
    assert "<mark>autonomous weapons</mark>" in overview

    detail = replies["/pledgewatch/commitments/c2a.7.4"].text
    assert "Appeal on autonomous weapons" in detail and "1 in 30 days" in detail

    sources = replies["/pledgewatch/sources"].text
    assert ">failing<" in sources and ">ok<" in sources and "good-src" in sources
    assert "&lt;i&gt;boom&lt;/i&gt;" in replies["/pledgewatch/sources/evil-src"].text

    # Everything scraped arrives escaped; the hostile link is made inert.
    for reply in replies.values():
        body = reply.text
        assert "<script>" not in body and "<img" not in body and "<b>Evil" not in body
        assert 'href="javascript' not in body
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in overview

    assert client.get("/pledgewatch/commitments/no.such.id", headers=auth).status_code == 404

    quiet = client.get("/pledgewatch/?status=quiet", headers=auth)
    assert quiet.status_code == 200
    assert ">c2a.4</a>" in quiet.text and ">c2a.7.4</a>" not in quiet.text and "show all" in quiet.text
    assert client.get("/pledgewatch/?status=quiet").status_code == 401


def test_the_ui_cookie_is_accepted_and_the_nav_entry_is_registered(api, data):
    client, token = api
    client.cookies.set("_token", token)
    try:
        assert client.get("/pledgewatch/").status_code == 200
    finally:
        client.cookies.clear()
    plugins = client.get("/api/v2/plugins", headers={"Authorization": f"Bearer {token}"}).json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "pledgewatch_dashboard")
    view = ours["external_views"][0]
    assert view["name"] == "Commitments" and view["href"] == "/pledgewatch/" and view["nav_top_level"]
    assert view["destination"] == "nav" and view["url_route"] == "commitments"
    assert client.get(view["icon"]).headers["content-type"].startswith("image/svg+xml")
    assert ours["fastapi_apps"][0]["url_prefix"] == "/pledgewatch"
