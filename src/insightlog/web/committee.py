"""The committee's pages: the provider page, a theme's page, comparing two dates, the history,
and the work lists. Each takes an as-of date and (where a figure depends on it) a basis, makes one
use-case call and renders one template in which every figure links to the entries behind it.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from insightlog.report.sections.triggers import TRIGGER_NAMES
from insightlog.web.guard import actor_of, guarded, log, web_state
from insightlog.web.permissions import LIST_SERVICES, VIEW_SERVICE, Actor
from insightlog.web.routes import Routes
from insightlog.web.urls import NameEncodingError, tilde_decode, tilde_encode
from insightlog.web.usecases import BASES, InputError, NotFoundError

router = Routes(defaults={"include_in_schema": False})
HISTORY_PAGE = 50
TRIGGER_WORDS = {key: f"{short} {name}" for key, (short, name, _) in TRIGGER_NAMES.items()}
SIGN = {1: "\u25b2 +1", 0: "\u25cf 0", -1: "\u25bc \u22121", None: "\u00b7"}
SIGN_CLASS = {1: "sign-pos", 0: "sign-zero", -1: "sign-neg", None: "sign-none"}


def _actor(request: Request) -> Actor:
    actor = actor_of(request)
    assert actor is not None
    return actor


def _q(request: Request, name: str) -> str:
    return (request.query_params.get(name) or "").strip()


def _common(service: str | None = None) -> dict[str, Any]:
    base = "/services/" + tilde_encode(service) if service else ""
    return {
        "service": service,
        "base": base,
        "bases": BASES,
        "sign": SIGN,
        "sign_class": SIGN_CLASS,
        "trigger_words": TRIGGER_WORDS,
    }


async def _failed(request: Request, template: str, context: dict[str, Any], exc: Exception) -> Response:
    state = web_state(request)
    if isinstance(exc, InputError):
        return state.pages.render(request, template, {**context, "errors": {exc.field: str(exc)}}, status=400)
    return state.pages.error(request, 404, str(exc))


@router.get("/provider")
@guarded(LIST_SERVICES)
async def provider(request: Request) -> Response:
    """The provider page over the services this account may see."""
    state = web_state(request)
    as_of, basis = _q(request, "as_of"), _q(request, "basis") or "recorded"
    names = _actor(request).visible(await run_in_threadpool(state.usecases.services))
    context: dict[str, Any] = {**_common(), "as_of": as_of, "basis": basis, "overview": None, "notes": [], "errors": {}}
    try:
        overview, notes = await run_in_threadpool(state.usecases.provider, names, as_of or None, basis)
    except (InputError, NotFoundError) as exc:
        return await _failed(request, "provider.html", context, exc)
    await log(request, "viewed", detail={"page": "provider", "as_of": as_of or "now", "basis": basis})
    return state.pages.render(request, "provider.html", {**context, "overview": overview, "notes": notes})


@router.get("/work")
@guarded(LIST_SERVICES)
async def work(request: Request) -> Response:
    """Reviews due and overdue, open actions by owner role, triggers of the last 90 days."""
    state = web_state(request)
    as_of = _q(request, "as_of")
    names = _actor(request).visible(await run_in_threadpool(state.usecases.services))
    context: dict[str, Any] = {**_common(), "as_of": as_of, "lists": None, "errors": {}}
    try:
        lists = await run_in_threadpool(state.usecases.work, names, as_of or None)
    except (InputError, NotFoundError) as exc:
        return await _failed(request, "work.html", context, exc)
    await log(request, "viewed", detail={"page": "work lists", "as_of": as_of or "now"})
    return state.pages.render(request, "work.html", {**context, "lists": lists})


@router.get("/services/{service}/themes/{theme}")
@guarded(VIEW_SERVICE)
async def theme_page(request: Request, service: str, theme: str) -> Response:
    state = web_state(request)
    try:
        name = tilde_decode(theme)
    except NameEncodingError:
        return state.pages.error(request, 404, "There is no such page.")
    as_of, basis = _q(request, "as_of"), _q(request, "basis") or "recorded"
    context: dict[str, Any] = {
        **_common(service),
        "as_of": as_of,
        "basis": basis,
        "detail": None,
        "notes": [],
        "errors": {},
    }
    context["theme_name"] = name
    try:
        detail, notes = await run_in_threadpool(state.usecases.theme, service, name, as_of or None, basis)
    except (InputError, NotFoundError) as exc:
        return await _failed(request, "theme.html", context, exc)
    from markupsafe import Markup

    from insightlog.report.charts import drift_chart

    # The report's HTML builder escapes every value it is given; its output is markup already.
    chart = Markup(str(drift_chart("theme", name, detail.drift, detail.t3))) if detail.drift else None
    await log(request, "viewed", subject=service, detail={"page": "theme", "theme": name, "as_of": as_of or "now"})
    return state.pages.render(request, "theme.html", {**context, "detail": detail, "notes": notes, "chart": chart})


@router.get("/services/{service}/compare")
@guarded(VIEW_SERVICE)
async def compare_page(request: Request, service: str) -> Response:
    """What leaders believed then and now, theme by theme, and the evidence recorded in between."""
    state = web_state(request)
    then, now, basis = _q(request, "then"), _q(request, "now"), _q(request, "basis") or "recorded"
    context: dict[str, Any] = {**_common(service), "then": then, "now": now, "basis": basis, "comparison": None}
    context |= {"notes": [], "errors": {}}
    if not then:
        return state.pages.render(request, "compare.html", context)
    try:
        comparison, notes = await run_in_threadpool(state.usecases.compare, service, then, now or None, basis)
    except (InputError, NotFoundError) as exc:
        return await _failed(request, "compare.html", context, exc)
    detail = {"page": "compare", "then": then, "now": now or "now", "basis": basis}
    await log(request, "viewed", subject=service, detail=detail)
    return state.pages.render(request, "compare.html", {**context, "comparison": comparison, "notes": notes})


@router.get("/services/{service}/history")
@guarded(VIEW_SERVICE)
async def history_page(request: Request, service: str) -> Response:
    """The service's history, newest first, filtered by theme and kind, as known at a date."""
    state = web_state(request)
    theme, kind, as_of = _q(request, "theme"), _q(request, "kind"), _q(request, "as_of")
    try:
        page = max(1, int(_q(request, "page") or "1"))
    except ValueError:
        return state.pages.error(request, 400, "The page asked for is not a number.")
    context: dict[str, Any] = {**_common(service), "theme": theme, "kind": kind, "as_of": as_of, "errors": {}}
    context |= {"rows": [], "page": page, "pages": 1, "total": 0, "themes": [], "kinds": []}
    count = _q(request, "count")
    context["imported"] = int(count) if _q(request, "notice") == "imported" and count.isdigit() else None
    try:
        rows = await run_in_threadpool(lambda: state.usecases.history(service, theme=theme, kind=kind, as_of=as_of))
        vocab = await run_in_threadpool(state.usecases.vocabulary, service)
    except (InputError, NotFoundError) as exc:
        return await _failed(request, "history.html", context, exc)
    from insightlog.interchange.validation import KINDS

    pages = max(1, -(-len(rows) // HISTORY_PAGE))
    shown = rows[(page - 1) * HISTORY_PAGE : page * HISTORY_PAGE]
    await log(
        request,
        "viewed",
        subject=service,
        detail={"page": "history", "theme": theme, "kind": kind, "as_of": as_of or "now"},
    )
    context |= {"rows": shown, "pages": pages, "total": len(rows), "themes": vocab.themes, "kinds": KINDS}
    return state.pages.render(request, "history.html", context)
