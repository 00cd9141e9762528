"""The Commitments dashboard inside the Airflow UI (Airflow 3: a FastAPI app plus a nav entry).

Airflow mounts plugin apps without any authentication, so every route here depends on
``require_login``, which hands the request to Airflow's own ``get_user``: the same check the
REST API makes (a ``Bearer`` JWT, or the ``_token`` cookie the UI holds, validated by the
configured auth manager). Anonymous requests get 401; invalid or expired tokens get Airflow's
own 401/403.

Thin: queries live in ``pipeline.dashboard``, HTML in ``pipeline.dashboard_html``. The
database is the one the PLEDGEWATCH_* settings of the api-server process name, opened lazily
on the first request (never at import, which also happens in schedulers and workers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

PREFIX = "/pledgewatch"
_bearer = HTTPBearer(auto_error=False)
_engines: dict[str, Any] = {}
_lock = threading.Lock()


async def require_login(
    request: Request, bearer: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Any:
    """The logged-in Airflow user, or Airflow's own 401/403."""
    from airflow.api_fastapi.core_api.security import get_user

    return await get_user(request, None, bearer)


def _session_factory() -> Any:
    """A session factory on the configured database, one engine per database URL per process."""
    from models import create_db_engine, make_session_factory
    from pipeline.settings import load_settings

    url = load_settings().effective_database_url
    with _lock:
        if url not in _engines:
            _engines[url] = make_session_factory(create_db_engine(url))
        return _engines[url]


def _render(build: Callable[[Any], str | None]) -> HTMLResponse:
    from models import session_scope
    from pipeline import dashboard_html

    with session_scope(_session_factory()) as session:
        html = build(session)
    if html is None:
        return HTMLResponse(dashboard_html.not_found_page("No such page.", PREFIX), status_code=404)
    return HTMLResponse(html)


app = FastAPI(title="PledgeWatch dashboard", docs_url=None, redoc_url=None, openapi_url=None)


@app.exception_handler(HTTPException)
async def _auth_error(request: Request, exc: HTTPException) -> HTMLResponse:
    """Browsers get a page with a way to log in; the status stays Airflow's."""
    from pipeline import dashboard_html

    if exc.status_code in (401, 403):
        from airflow.api_fastapi.app import get_auth_manager

        login = get_auth_manager().get_url_login(next_url=str(request.url))
        return HTMLResponse(
            dashboard_html.login_required_page(login, PREFIX),
            status_code=exc.status_code,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return HTMLResponse(dashboard_html.not_found_page(str(exc.detail), PREFIX), status_code=exc.status_code)


ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" '
    'stroke-width="2"><path d="M4 20V10M10 20V4M16 20v-7M22 20H2"/></svg>'
)


@app.get("/icon.svg")
def icon() -> Response:
    """The menu icon: static, holds no data, so it needs no login."""
    return Response(ICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@app.get("/", response_class=HTMLResponse, dependencies=[Depends(require_login)])
def commitments(status: str | None = None) -> HTMLResponse:
    """Every commitment; ``?status=quiet`` (or active, unknown, muted, ...) shows only those."""
    from models import utcnow
    from pipeline import dashboard, dashboard_html

    now = utcnow()
    return _render(
        lambda s: dashboard_html.commitments_page(
            dashboard.commitments_overview(s, now), now, PREFIX, status=status or None
        )
    )


@app.get("/commitments/{commitment_id}", response_class=HTMLResponse, dependencies=[Depends(require_login)])
def commitment(commitment_id: str) -> HTMLResponse:
    from models import utcnow
    from pipeline import dashboard, dashboard_html

    now = utcnow()

    def build(session: Any) -> str | None:
        detail = dashboard.commitment_detail(session, commitment_id, now=now)
        return dashboard_html.commitment_page(detail, now, PREFIX) if detail else None

    return _render(build)


@app.get("/sources", response_class=HTMLResponse, dependencies=[Depends(require_login)])
def sources() -> HTMLResponse:
    from models import utcnow
    from pipeline import dashboard, dashboard_html

    now = utcnow()
    return _render(lambda s: dashboard_html.sources_page(dashboard.sources_overview(s, now), now, PREFIX))


@app.get("/sources/{key}", response_class=HTMLResponse, dependencies=[Depends(require_login)])
def source(key: str) -> HTMLResponse:
    from models import utcnow
    from pipeline import dashboard, dashboard_html

    now = utcnow()

    def build(session: Any) -> str | None:
        detail = dashboard.source_detail(session, key, now=now)
        return dashboard_html.source_page(detail, now, PREFIX) if detail else None

    return _render(build)


class PledgeWatchDashboard(AirflowPlugin):
    name = "pledgewatch_dashboard"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "PledgeWatch dashboard"}]
    external_views = [
        {
            "name": "Commitments",
            "href": f"{PREFIX}/",
            "destination": "nav",
            "url_route": "commitments",
            "nav_top_level": True,
            "icon": f"{PREFIX}/icon.svg",
        }
    ]
