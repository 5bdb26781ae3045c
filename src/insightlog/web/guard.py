"""The guard every route goes through: who is asking, may they, and is a form genuine.

``@guarded(PERMISSION)`` wraps a view. Before the view runs it resolves the request's actor (a
session cookie for pages, a bearer token for the API, never both), decodes the route's service
name, makes the one permission check (``permissions.decide``) and, for a state-changing request,
the CSRF check; a refusal is answered (sign-in redirect, 401 or 403) and written to the access
log, and the view never runs. ``create_app`` refuses to build an app with a route that has no
guard, and the route table test lists every route with its permission.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from insightlog.accounts.store import By
from insightlog.web.permissions import Actor, Decision, Permission, decide, session_actor, token_actor
from insightlog.web.security import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, tokens_match
from insightlog.web.urls import NameEncodingError, tilde_decode

if TYPE_CHECKING:
    from insightlog.accounts.store import Accounts
    from insightlog.web.config import WebConfig
    from insightlog.web.render import Pages
    from insightlog.web.usecases import UseCases

Params = ParamSpec("Params")
View = Callable[Params, Awaitable[Response]]
# The permission of every guarded view, by the function a route calls (the wrapper).
_PERMISSIONS: dict[Callable[..., Any], Permission] = {}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass
class WebState:
    """The objects every view uses, kept on ``app.state.insightlog``."""

    accounts: Accounts
    usecases: UseCases
    config: WebConfig
    pages: Pages


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.insightlog
    return state


def actor_of(request: Request) -> Actor | None:
    return getattr(request.state, "actor", None)


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def by_of(request: Request, actor: Actor | None = None, *, api: bool | None = None) -> By:
    """The access log's "who and through which door" for this request."""
    actor = actor if actor is not None else actor_of(request)
    via = "api" if (api if api is not None else request.url.path.startswith("/api/")) else "web"
    return By(via=via, client=client_of(request), user=actor.user if actor else None)


async def log(
    request: Request, event: str, *, subject: str | None = None, detail: dict[str, Any] | None = None
) -> None:
    """Write to the access log (off the event loop)."""
    accounts = web_state(request).accounts
    await run_in_threadpool(accounts.log, event, by_of(request), subject=subject, detail=detail)


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, secret = value.partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


async def resolve_actor(request: Request, state: WebState, api: bool) -> tuple[Actor | None, str | None]:
    """The actor and, when refused, why (for the log): bearer tokens for the API, cookies for pages."""
    accounts = state.accounts
    if api:
        secret = bearer(request)
        if secret is None:
            return None, "no bearer token"
        found = await run_in_threadpool(accounts.token_user, secret)
        if found is None:
            return None, await run_in_threadpool(accounts.token_refusal, secret)
        token, user = found
        return token_actor(user, token), None
    cookie = request.cookies.get(state.config.session_cookie)
    if not cookie:
        return None, "not signed in"
    found_session = await run_in_threadpool(accounts.session, cookie, client=client_of(request))
    if found_session is None:
        return None, "session ended or unknown"
    session, user = found_session
    request.state.session_token = cookie
    return session_actor(user, session), None


async def csrf_given(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").split(";")[0].strip().lower() in FORM_TYPES:
        form = await request.form()  # Starlette keeps the parsed form on the request for the view
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def expected_csrf(request: Request, state: WebState, actor: Actor | None) -> str | None:
    if actor is not None and actor.session is not None:
        return actor.session.csrf
    return request.cookies.get(state.config.csrf_cookie)


def refused(request: Request, state: WebState, status: int, message: str, *, api: bool) -> Response:
    """The answer to a refused request: JSON for the API, a page otherwise."""
    if api:
        headers = {"www-authenticate": 'Bearer realm="insightlog"'} if status == 401 else None
        return JSONResponse({"error": message}, status_code=status, headers=headers)
    return state.pages.error(request, status, message)


def guarded(
    permission: Permission, *, api: bool = False, service_param: str = "service"
) -> Callable[[View[Params]], View[Params]]:
    """Declare a view's permission; the check runs before the view, every time."""

    def decorate(view: View[Params]) -> View[Params]:
        @functools.wraps(view)
        async def wrapper(*args: Params.args, **kwargs: Params.kwargs) -> Response:
            request = kwargs["request"]
            if not isinstance(request, Request):  # FastAPI passes every parameter by name
                raise TypeError(f"{view.__name__} is guarded but takes no 'request: Request'")
            state = web_state(request)
            actor, why = await resolve_actor(request, state, api)
            request.state.actor = actor
            service = None
            if permission.takes_service:
                try:
                    service = tilde_decode(str(kwargs[service_param]))
                except NameEncodingError:
                    return refused(request, state, 404, "There is no such page.", api=api)
                kwargs[service_param] = service
            decision = decide(actor, permission, service)
            path = request.url.path
            if decision is not Decision.ALLOW:
                reason = why if decision is Decision.UNAUTHENTICATED else "not allowed"
                detail = {"method": request.method, "path": path, "permission": permission.name, "reason": reason}
                await log(request, "refused", subject=service, detail=detail)
                if decision is Decision.FORBIDDEN:
                    return refused(request, state, 403, "Your account may not open this page.", api=api)
                if api:
                    return refused(request, state, 401, "A valid bearer token is needed.", api=True)
                if actor is not None and not actor.complete:
                    return RedirectResponse("/sign-in/code", status_code=303)
                if request.method == "GET":
                    target = path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)
                return refused(request, state, 401, "Sign in first.", api=False)
            if (
                request.method not in SAFE_METHODS
                and not api
                and not tokens_match(expected_csrf(request, state, actor), await csrf_given(request))
            ):
                detail = {"method": request.method, "path": path, "reason": "missing or wrong CSRF token"}
                await log(request, "csrf_refused", subject=service, detail=detail)
                return refused(
                    request,
                    state,
                    403,
                    "This form has expired or did not come from this site. Go back, reload the page and try again.",
                    api=False,
                )
            response = await view(*args, **kwargs)
            if actor is not None:
                response.headers["cache-control"] = "no-store"
            return response

        _PERMISSIONS[wrapper] = permission
        return wrapper

    return decorate


def permission_of(endpoint: Any) -> Permission | None:
    return _PERMISSIONS.get(endpoint) if callable(endpoint) else None
