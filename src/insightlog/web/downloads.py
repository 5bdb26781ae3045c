"""Downloads from the browser: a service's report (HTML or PDF) and its evidence pack, as of a
date (a theme's pack too). Each needs the audit right on the service and is written to the
access log (``report_downloaded``, ``pack_downloaded``) with what was asked for.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from insightlog.web.guard import guarded, log, web_state
from insightlog.web.permissions import AUDIT_SERVICE
from insightlog.web.routes import Routes
from insightlog.web.urls import tilde_encode
from insightlog.web.usecases import InputError, NotFoundError, UseCaseError

router = Routes(defaults={"include_in_schema": False})


def _q(request: Request, name: str) -> str:
    return (request.query_params.get(name) or "").strip()


def _file_name(service: str, as_of: str, suffix: str, theme: str | None = None) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{service}-{theme or ''}-{as_of[:10]}").strip("-")
    return f"{stem}.{suffix}"


def _attachment(data: bytes | str, media_type: str, name: str) -> Response:
    return Response(data, media_type=media_type, headers={"content-disposition": f'attachment; filename="{name}"'})


async def _page(request: Request, service: str, errors: dict[str, str], status: int = 200) -> Response:
    state = web_state(request)
    try:
        vocab = await run_in_threadpool(state.usecases.vocabulary, service)
    except NotFoundError as exc:
        return state.pages.error(request, 404, str(exc))
    context: dict[str, Any] = {
        "service": service,
        "base": "/services/" + tilde_encode(service),
        "as_of": _q(request, "as_of"),
        "theme": _q(request, "theme"),
        "themes": vocab.themes,
        "errors": errors,
    }
    return state.pages.render(request, "downloads.html", context, status=status)


@router.get("/services/{service}/downloads")
@guarded(AUDIT_SERVICE)
async def downloads(request: Request, service: str) -> Response:
    return await _page(request, service, {})


async def _refused(request: Request, service: str, exc: Exception) -> Response:
    if isinstance(exc, NotFoundError):
        return web_state(request).pages.error(request, 404, str(exc))
    field = exc.field if isinstance(exc, InputError) else "download"
    return await _page(request, service, {field: str(exc)}, status=400)


@router.get("/services/{service}/report.html")
@guarded(AUDIT_SERVICE)
async def report_html(request: Request, service: str) -> Response:
    state = web_state(request)
    try:
        html, as_of = await run_in_threadpool(state.usecases.report_html, service, _q(request, "as_of") or None)
    except UseCaseError as exc:
        return await _refused(request, service, exc)
    await log(request, "report_downloaded", subject=service, detail={"format": "html", "as_of": as_of})
    return _attachment(html, "text/html; charset=utf-8", _file_name(service, as_of, "html"))


@router.get("/services/{service}/report.pdf")
@guarded(AUDIT_SERVICE)
async def report_pdf(request: Request, service: str) -> Response:
    state = web_state(request)
    try:
        pdf, as_of = await run_in_threadpool(state.usecases.report_pdf, service, _q(request, "as_of") or None)
    except UseCaseError as exc:
        return await _refused(request, service, exc)
    await log(request, "report_downloaded", subject=service, detail={"format": "pdf", "as_of": as_of})
    return _attachment(pdf, "application/pdf", _file_name(service, as_of, "pdf"))


@router.get("/services/{service}/pack.zip")
@guarded(AUDIT_SERVICE)
async def pack(request: Request, service: str) -> Response:
    state = web_state(request)
    theme = _q(request, "theme") or None
    try:
        data, info = await run_in_threadpool(state.usecases.pack, service, _q(request, "as_of") or None, theme)
    except UseCaseError as exc:
        return await _refused(request, service, exc)
    await log(request, "pack_downloaded", subject=service, detail=info)
    return _attachment(data, "application/zip", _file_name(service, info["as_of"], "zip", theme))
