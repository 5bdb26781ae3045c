"""The HTML pages: sign-in (with its second-factor step), the services, a service's governance
view as of a date, the account page and the administration pages.

Each view: one guard (its permission), one call into the accounts or the use cases, one template.
State-changing forms post and are answered with a redirect (post/redirect/get).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from insightlog.accounts import totp
from insightlog.accounts.errors import AccountError
from insightlog.accounts.rights import DESCRIPTIONS, RIGHTS
from insightlog.accounts.store import FULL, SECOND_FACTOR, By
from insightlog.web.guard import actor_of, by_of, client_of, guarded, log, web_state
from insightlog.web.permissions import (
    ADMIN,
    HAS_SESSION,
    LIST_SERVICES,
    PUBLIC,
    SECOND_FACTOR_STEP,
    SIGNED_IN,
    VIEW_SERVICE,
    Actor,
)
from insightlog.web.routes import Routes
from insightlog.web.security import cookie_options
from insightlog.web.urls import NameEncodingError, safe_next, tilde_decode, tilde_encode
from insightlog.web.usecases import InputError, NotFoundError, UseCaseError

router = Routes(defaults={"include_in_schema": False})

SIGN_IN_REFUSED = (
    "The name or password is not right, or this account cannot sign in at the moment. "
    "After repeated failed attempts an account is locked; an administrator can unlock it."
)
CODE_REFUSED = (
    "That code is not right or has been used already. Enter the 6-digit code your authenticator app shows now."
)
NOTICES = {
    "signed-out": "You have signed out.",
    "user-disabled": "The account is disabled; its sessions have ended.",
    "user-enabled": "The account is enabled.",
    "sessions-ended": "The account's sessions have ended.",
    "token-revoked": "The API token is revoked.",
    "second-factor-on": "A second factor is now required of admin and leadership accounts.",
    "second-factor-off": "A second factor is no longer required (accounts that set one up keep it).",
    "second-factor-set-up": "Two-step sign-in is set up for your account.",
}


def _actor(request: Request) -> Actor:
    actor = actor_of(request)
    assert actor is not None  # the guard let only signed-in actors through
    return actor


def _notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


# ------------------------------------------------------------------ public


@router.get("/")
@guarded(PUBLIC)
async def home(request: Request) -> Response:
    actor = actor_of(request)
    return RedirectResponse("/services" if actor is not None and actor.complete else "/sign-in", status_code=303)


@router.get("/health")
@guarded(PUBLIC)
async def health(request: Request) -> Response:
    """Whether the ledger's and the accounts' database answer (no detail, no data)."""
    state = web_state(request)
    ok = await run_in_threadpool(state.usecases.healthy) and await run_in_threadpool(state.accounts.healthy)
    return JSONResponse({"status": "ok" if ok else "unavailable"}, status_code=200 if ok else 503)


# ------------------------------------------------------------------ signing in and out


@router.get("/sign-in")
@guarded(PUBLIC)
async def sign_in_form(request: Request) -> Response:
    actor = actor_of(request)
    target = safe_next(request.query_params.get("next"))
    if actor is not None:
        return RedirectResponse(target if actor.complete else "/sign-in/code", status_code=303)
    return web_state(request).pages.render(
        request, "sign_in.html", {"next": target, "name": "", "errors": {}, "notice": _notice(request)}
    )


@router.post("/sign-in")
@guarded(PUBLIC)
async def sign_in(request: Request) -> Response:
    state = web_state(request)
    form = await _form(request)
    name, password, target = form.get("name", "").strip(), form.get("password", ""), safe_next(form.get("next"))
    errors = {}
    if not name:
        errors["name"] = "Enter your account name."
    if not password:
        errors["password"] = "Enter your password."
    if errors:
        return state.pages.render(
            request, "sign_in.html", {"next": target, "name": name, "errors": errors, "notice": None}, status=400
        )
    accounts = state.accounts
    result = await run_in_threadpool(accounts.sign_in, name, password, client=client_of(request))
    if not result.ok or result.user is None:
        context = {"next": target, "name": name, "errors": {"password": SIGN_IN_REFUSED}, "notice": None}
        return state.pages.render(request, "sign_in.html", context, status=401)
    user = result.user
    stage = SECOND_FACTOR if await run_in_threadpool(accounts.second_factor_due, user) else FULL
    old = request.cookies.get(state.config.session_cookie)
    by = By(via="web", client=client_of(request), user=user)
    token, _ = await run_in_threadpool(lambda: accounts.new_session(user, stage, replacing=old, by=by))
    where = f"/sign-in/code?next={quote(target, safe='')}" if stage == SECOND_FACTOR else target
    response = RedirectResponse(where, status_code=303)
    response.set_cookie(state.config.session_cookie, token, **cookie_options(state.config))
    response.delete_cookie(state.config.csrf_cookie, **cookie_options(state.config))
    return response


def _second_factor_context(actor: Actor, secret: str | None, target: str, error: str | None) -> dict[str, Any]:
    return {
        "enrolling": secret is not None,
        "secret": totp.grouped(secret) if secret else None,
        "uri": totp.provisioning_uri(secret, actor.user.name) if secret else None,
        "next": target,
        "error": error,
    }


@router.get("/sign-in/code")
@guarded(SECOND_FACTOR_STEP)
async def second_factor_form(request: Request) -> Response:
    state = web_state(request)
    actor = _actor(request)
    secret = None
    if not actor.user.totp_enrolled:
        secret = await run_in_threadpool(state.accounts.pending_secret, request.state.session_token)
    context = _second_factor_context(actor, secret, safe_next(request.query_params.get("next")), None)
    return state.pages.render(request, "second_factor.html", context)


@router.post("/sign-in/code")
@guarded(SECOND_FACTOR_STEP)
async def second_factor(request: Request) -> Response:
    state = web_state(request)
    actor = _actor(request)
    form = await _form(request)
    token = request.state.session_token
    target = safe_next(form.get("next"))
    user = await run_in_threadpool(
        lambda: state.accounts.check_second_factor(token, form.get("code", ""), client=client_of(request))
    )
    if user is None:
        secret = None
        if not actor.user.totp_enrolled:
            secret = await run_in_threadpool(state.accounts.pending_secret, token)
        context = _second_factor_context(actor, secret, target, CODE_REFUSED)
        return state.pages.render(request, "second_factor.html", context, status=401)
    by = By(via="web", client=client_of(request), user=user)
    new_token, _ = await run_in_threadpool(lambda: state.accounts.new_session(user, FULL, replacing=token, by=by))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(state.config.session_cookie, new_token, **cookie_options(state.config))
    return response


@router.post("/sign-out")
@guarded(HAS_SESSION)
async def sign_out(request: Request) -> Response:
    state = web_state(request)
    await run_in_threadpool(lambda: state.accounts.end_session(request.state.session_token, by=by_of(request)))
    response = RedirectResponse("/sign-in?notice=signed-out", status_code=303)
    response.delete_cookie(state.config.session_cookie, **cookie_options(state.config))
    return response


# ------------------------------------------------------------------ the account


@router.get("/account")
@guarded(SIGNED_IN)
async def account(request: Request) -> Response:
    state = web_state(request)
    actor = _actor(request)
    sessions = await run_in_threadpool(state.accounts.live_sessions, actor.user.id)
    context = {
        "user": actor.user,
        "sessions": sessions,
        "rights": RIGHTS,
        "descriptions": DESCRIPTIONS,
        "notice": _notice(request),
    }
    return state.pages.render(request, "account.html", context)


@router.get("/account/second-factor")
@guarded(SIGNED_IN)
async def account_second_factor_form(request: Request) -> Response:
    state = web_state(request)
    actor = _actor(request)
    secret = (
        None
        if actor.user.totp_enrolled
        else await run_in_threadpool(state.accounts.pending_secret, request.state.session_token)
    )
    return state.pages.render(
        request, "second_factor_setup.html", {**_second_factor_context(actor, secret, "/account", None)}
    )


@router.post("/account/second-factor")
@guarded(SIGNED_IN)
async def account_second_factor(request: Request) -> Response:
    state = web_state(request)
    actor = _actor(request)
    if actor.user.totp_enrolled:
        return state.pages.error(request, 400, "Two-step sign-in is already set up; an administrator can reset it.")
    form = await _form(request)
    token = request.state.session_token
    user = await run_in_threadpool(
        lambda: state.accounts.check_second_factor(token, form.get("code", ""), client=client_of(request))
    )
    if user is None:
        secret = await run_in_threadpool(state.accounts.pending_secret, token)
        context = _second_factor_context(actor, secret, "/account", CODE_REFUSED)
        return state.pages.render(request, "second_factor_setup.html", context, status=401)
    return RedirectResponse("/account?notice=second-factor-set-up", status_code=303)


# ------------------------------------------------------------------ services


@router.get("/services")
@guarded(LIST_SERVICES)
async def services(request: Request) -> Response:
    state = web_state(request)
    names = _actor(request).visible(await run_in_threadpool(state.usecases.services))
    return state.pages.render(request, "services.html", {"services": names})


def group_rows(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Governance rows grouped by key question, in the order the view gives them."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["key_question"] or "Key question not known", []).append(row)
    return list(groups.items())


@router.get("/services/{service}")
@guarded(VIEW_SERVICE)
async def service_page(request: Request, service: str) -> Response:
    """A service's governance view: now, or as of the date picked."""
    from insightlog.web.permissions import AUDIT_SERVICE, RECORD, Decision, decide
    from insightlog.web.usecases import BASES

    state = web_state(request)
    as_of = request.query_params.get("as_of") or None
    basis = (request.query_params.get("basis") or "recorded").strip()
    actor = _actor(request)
    common: dict[str, Any] = {
        "service": service,
        "as_of": as_of or "",
        "basis": basis,
        "bases": BASES,
        "base": "/services/" + tilde_encode(service),
        "may_record": decide(actor, RECORD, service) is Decision.ALLOW,
        "may_audit": decide(actor, AUDIT_SERVICE, service) is Decision.ALLOW,
    }
    try:
        view = await run_in_threadpool(state.usecases.governance, service, as_of, basis)
    except InputError as exc:
        failed: dict[str, Any] = {**common, "view": None, "groups": [], "errors": {exc.field: str(exc)}}
        return state.pages.render(request, "service.html", failed, status=400)
    except NotFoundError as exc:
        return state.pages.error(request, 404, str(exc))
    detail = {"page": "governance", "as_of": view.asked or "now", "basis": view.basis}
    await log(request, "viewed", subject=service, detail=detail)
    context: dict[str, Any] = {**common, "view": view, "groups": group_rows(view.rows), "errors": {}}
    return state.pages.render(request, "service.html", context)


# ------------------------------------------------------------------ administration


def _name(segment: str) -> str:
    try:
        return tilde_decode(segment)
    except NameEncodingError:
        raise UseCaseError("there is no such account") from None


@router.get("/admin")
@guarded(ADMIN)
async def admin(request: Request) -> Response:
    state = web_state(request)
    accounts = state.accounts

    def gather() -> dict[str, Any]:
        users = accounts.list_users()
        return {
            "users": users,
            "sessions": {u.id: accounts.live_sessions(u.id) for u in users},
            "tokens": accounts.list_tokens(),
            "require_second_factor": accounts.require_second_factor(),
            "second_factor_due": {u.id: accounts.second_factor_due(u) for u in users},
        }

    context = await run_in_threadpool(gather)
    return state.pages.render(
        request, "admin.html", {**context, "notice": _notice(request), "me": _actor(request).user.id}
    )


async def _admin_action(request: Request, action: Any, notice: str) -> Response:
    try:
        await run_in_threadpool(action)
    except AccountError as exc:
        return web_state(request).pages.error(request, 400, str(exc))
    return RedirectResponse(f"/admin?notice={notice}", status_code=303)


@router.post("/admin/users/{name}/disable")
@guarded(ADMIN)
async def admin_disable(request: Request, name: str) -> Response:
    user_name = _name(name)
    if user_name.casefold() == _actor(request).user.name.casefold():
        return web_state(request).pages.error(request, 400, "You cannot disable your own account.")
    accounts = web_state(request).accounts
    return await _admin_action(
        request, lambda: accounts.set_disabled(user_name, True, by=by_of(request)), "user-disabled"
    )


@router.post("/admin/users/{name}/enable")
@guarded(ADMIN)
async def admin_enable(request: Request, name: str) -> Response:
    user_name = _name(name)
    accounts = web_state(request).accounts
    return await _admin_action(
        request, lambda: accounts.set_disabled(user_name, False, by=by_of(request)), "user-enabled"
    )


@router.post("/admin/users/{name}/end-sessions")
@guarded(ADMIN)
async def admin_end_sessions(request: Request, name: str) -> Response:
    user_name = _name(name)
    accounts = web_state(request).accounts
    return await _admin_action(request, lambda: accounts.end_sessions(user_name, by=by_of(request)), "sessions-ended")


@router.post("/admin/tokens/{token_id}/revoke")
@guarded(ADMIN)
async def admin_revoke_token(request: Request, token_id: int) -> Response:
    accounts = web_state(request).accounts
    return await _admin_action(request, lambda: accounts.revoke_token(token_id, by=by_of(request)), "token-revoked")


@router.post("/admin/settings/second-factor")
@guarded(ADMIN)
async def admin_second_factor(request: Request) -> Response:
    form = await _form(request)
    on = form.get("require") == "on"
    accounts = web_state(request).accounts
    notice = "second-factor-on" if on else "second-factor-off"
    return await _admin_action(request, lambda: accounts.set_require_second_factor(on, by=by_of(request)), notice)


@router.get("/admin/access-log")
@guarded(ADMIN)
async def access_log(request: Request) -> Response:
    state = web_state(request)
    accounts = state.accounts
    q = request.query_params
    event, user = q.get("event") or None, q.get("user") or None
    try:
        before = int(q["before"]) if q.get("before") else None
    except ValueError:
        return state.pages.error(request, 400, "The page asked for is not a number.")
    limit = state.config.access_log_page

    def gather() -> dict[str, Any]:
        return {
            "rows": accounts.access_log(before=before, limit=limit, event=event, user_name=user),
            "events": accounts.log_events(),
            "chain": accounts.verify_access_log(),
        }

    context = await run_in_threadpool(gather)
    rows = context["rows"]
    older = rows[-1]["seq"] if len(rows) == limit else None
    return state.pages.render(
        request, "access_log.html", {**context, "event": event or "", "user": user or "", "older": older}
    )


@router.get("/admin/access-log/export")
@guarded(ADMIN)
async def access_log_export(request: Request) -> Response:
    """Every row of the access log as JSON Lines, oldest first, with each row's hashes."""
    accounts = web_state(request).accounts
    report = await run_in_threadpool(accounts.verify_access_log)
    await log(
        request, "access_log_exported", detail={"rows": report.rows, "head": report.head_hash, "chain_ok": report.ok}
    )

    async def lines() -> AsyncIterator[bytes]:
        rows = await run_in_threadpool(lambda: list(accounts.iter_access_log()))
        for row in rows:
            yield orjson.dumps(row, option=orjson.OPT_SORT_KEYS) + b"\n"

    headers = {"content-disposition": 'attachment; filename="insightlog-access-log.jsonl"'}
    return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)
