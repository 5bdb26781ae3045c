"""The application factory: ``create_app(accounts, usecases, config)``.

It takes objects already built (the composition root, ``insightlog.web.factory (over insightlog.bootstrap)``, builds them
from the environment), adds the pages, the API, the static files and the security headers, and
refuses to return an app any of whose routes lacks a guard.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from insightlog.web import api, committee, downloads, pages, recording, sheetimport
from insightlog.web.config import WebConfig
from insightlog.web.guard import WebState, permission_of
from insightlog.web.render import Pages
from insightlog.web.security import SecurityHeadersMiddleware
from insightlog.web.usecases import UseCaseError

if TYPE_CHECKING:
    from insightlog.accounts.store import Accounts
    from insightlog.web.permissions import Permission
    from insightlog.web.usecases import UseCases

STATIC = "/static"  # the one place served without a guard: the stylesheet and images, the same for everyone


class UnguardedRouteError(RuntimeError):
    """Raised when a route has no permission declared (``@guarded``)."""


def route_permissions(app: FastAPI) -> dict[tuple[str, str], Permission | None]:
    """Every (method, path) of the app and the permission its guard checks (None: no guard).

    A route of a kind not known here (no endpoint and methods) counts as unguarded: fail closed."""
    table: dict[tuple[str, str], Permission | None] = {}
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        endpoint = getattr(route, "endpoint", None)
        methods = getattr(route, "methods", None)
        if endpoint is None or not methods:
            table[("?", f"{type(route).__name__} {getattr(route, 'path', '')}".strip())] = None
            continue
        for method in sorted(methods):
            table[(method, getattr(route, "path", "?"))] = permission_of(endpoint)
    return table


def check_guarded(app: FastAPI) -> None:
    """Refuse an app with a route that no guard covers (the static files are the only mount)."""
    missing = sorted(f"{m} {p}" for (m, p), perm in route_permissions(app).items() if perm is None)
    mounts = sorted(
        getattr(r, "path", "?") for r in app.routes if isinstance(r, Mount) and getattr(r, "path", None) != STATIC
    )
    if missing or mounts:
        raise UnguardedRouteError(f"routes without a permission check: {', '.join(missing + mounts)}")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(api.PREFIX)


def _add_error_handlers(app: FastAPI, state: WebState) -> None:
    def answer(request: Request, status: int, message: str) -> Response:
        if _is_api(request):
            return JSONResponse({"error": message}, status_code=status)
        return state.pages.error(request, status, message)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        messages = {404: "There is no such page.", 405: "That is not allowed here."}
        return answer(request, status, messages.get(status, "The request could not be handled."))

    async def validation_error(request: Request, exc: Exception) -> Response:
        errors: list[dict[str, Any]] = getattr(exc, "errors", lambda: [])()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
        return answer(
            request, 400, f"{where}: {first.get('msg', 'not valid')}" if where else "The request is not valid."
        )

    async def use_case_error(request: Request, exc: Exception) -> Response:
        return answer(request, 400, str(exc))

    async def server_error(request: Request, exc: Exception) -> Response:
        return answer(
            request, 500, "Something went wrong on the server; nothing was changed by this request. Try again later."
        )

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(UseCaseError, use_case_error)
    app.add_exception_handler(Exception, server_error)


class _Site(FastAPI):
    """FastAPI whose OpenAPI document declares the bearer-token security scheme."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            doc = get_openapi(title=self.title, version=self.version, description=self.description, routes=self.routes)
            doc.setdefault("components", {})["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            doc["security"] = [{"bearer": []}]
            self.openapi_schema = doc
        return self.openapi_schema


def create_app(
    accounts: Accounts,
    usecases: UseCases,
    config: WebConfig | None = None,
    *,
    on_close: Iterable[Callable[[], None]] = (),
) -> FastAPI:
    """The web application over built objects; ``on_close`` run when the server stops."""
    from insightlog import __version__

    config = config or WebConfig()
    closers = list(on_close)

    def close_all() -> None:
        while closers:
            closers.pop(0)()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        close_all()

    app = _Site(
        title="insightlog",
        version=__version__,
        description="The governance audit trail of care services: read access for integrations, with bearer tokens.",
        openapi_url=None,  # served by a guarded route instead; no docs pages (they load scripts from a CDN)
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    state = WebState(accounts=accounts, usecases=usecases, config=config, pages=Pages(config))
    app.state.insightlog = state
    app.state.close = close_all
    pages.router.add_to(app)
    recording.router.add_to(app)
    committee.router.add_to(app)
    downloads.router.add_to(app)
    sheetimport.router.add_to(app)
    api.router.add_to(app)
    app.mount(STATIC, StaticFiles(packages=[("insightlog.web", "static")]), name="static")
    _add_error_handlers(app, state)
    app.add_middleware(SecurityHeadersMiddleware, config=config)
    check_guarded(app)
    return app
