"""The JSON API (``/api/v1``) for integrations: bearer tokens only, the same use cases as the pages.

Every response is JSON; an error is ``{"error": "one line"}`` with the status. The OpenAPI document
is at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from insightlog.web.guard import actor_of, guarded, log, web_state
from insightlog.web.permissions import LIST_SERVICES, PUBLIC, VIEW_SERVICE
from insightlog.web.routes import Routes
from insightlog.web.usecases import InputError, NotFoundError

PREFIX = "/api/v1"
router = Routes(prefix=PREFIX)


class ErrorOut(BaseModel):
    error: str = Field(description="What was wrong, in one line.")


class ServicesOut(BaseModel):
    services: list[str] = Field(description="The services this token may see, sorted.")


class GovernanceOut(BaseModel):
    service: str
    as_of: str = Field(description="The instant of the view (RFC 3339, UTC).")
    source: str = Field(description="read_models (now) or events (computed as of a past instant).")
    taxonomy_version: str | None
    notes: list[str]
    error: str | None = Field(description="Why the read model of this service could not be computed, if so.")
    rows: list[dict[str, Any]] = Field(description="One row per theme, as `insightlog view --json` prints them.")


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No bearer token, or one that is unknown, revoked or expired."},
    403: {"model": ErrorOut, "description": "The token may not do this, or not for this service."},
}


@router.get("/services", response_model=ServicesOut, responses=ERRORS, summary="The services this token may see")
@guarded(LIST_SERVICES, api=True)
async def api_services(request: Request) -> Response:
    actor = actor_of(request)
    assert actor is not None  # the guard let only signed-in actors through
    names = actor.visible(await run_in_threadpool(web_state(request).usecases.services))
    return JSONResponse(ServicesOut(services=names).model_dump())


@router.get(
    "/services/{service}/governance",
    response_model=GovernanceOut,
    responses={**ERRORS, 400: {"model": ErrorOut}, 404: {"model": ErrorOut}},
    summary="A service's governance view, now or as of a past date",
)
@guarded(VIEW_SERVICE, api=True)
async def api_governance(
    request: Request,
    service: str,
    as_of: str | None = Query(None, description="RFC 3339 instant or a date (end of that UTC day); default now."),
) -> Response:
    """``service`` is tilde-encoded: letters, digits, ``_`` and ``-`` as they are, a space as ``+``,
    any other byte as ``~XX`` (``Harbour+Home+Care``)."""
    try:
        view = await run_in_threadpool(web_state(request).usecases.governance, service, as_of)
    except InputError as exc:
        return JSONResponse({"error": f"{exc.field}: {exc}"}, status_code=400)
    except NotFoundError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    await log(request, "viewed", subject=service, detail={"page": "api governance", "as_of": view.asked or "now"})
    out = GovernanceOut(
        service=view.service,
        as_of=view.as_of,
        source=view.source,
        taxonomy_version=view.taxonomy_version,
        notes=view.notes,
        error=view.error,
        rows=view.rows,
    )
    return JSONResponse(out.model_dump())


@router.get("/openapi.json", include_in_schema=False)
@guarded(PUBLIC, api=True)
async def openapi(request: Request) -> Response:
    return JSONResponse(request.app.openapi())
