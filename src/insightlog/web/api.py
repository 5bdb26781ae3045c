"""The JSON API (``/api/v1``) for integrations: bearer tokens only, the same use cases as the pages.

Every response is JSON; an error is ``{"error": "one line"}`` with the status. The OpenAPI document
is at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from insightlog.web.guard import actor_of, guarded, log, web_state
from insightlog.web.permissions import JUDGE, LIST_SERVICES, PUBLIC, RECORD, VIEW_SERVICE, Decision, decide
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
    basis: str = Field(description="recorded, ledger or proven.")
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
    basis: str | None = Query(
        None, description="recorded (default), ledger or proven: whose clock says when each event was known."
    ),
) -> Response:
    """``service`` is tilde-encoded: letters, digits, ``_`` and ``-`` as they are, a space as ``+``,
    any other byte as ``~XX`` (``Harbour+Home+Care``)."""
    try:
        view = await run_in_threadpool(web_state(request).usecases.governance, service, as_of, basis)
    except InputError as exc:
        return JSONResponse({"error": f"{exc.field}: {exc}"}, status_code=400)
    except NotFoundError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    detail = {"page": "api governance", "as_of": view.asked or "now", "basis": view.basis}
    await log(request, "viewed", subject=service, detail=detail)
    out = GovernanceOut(
        service=view.service,
        as_of=view.as_of,
        source=view.source,
        basis=view.basis,
        taxonomy_version=view.taxonomy_version,
        notes=view.notes,
        error=view.error,
        rows=view.rows,
    )
    return JSONResponse(out.model_dump())


class RecordIn(BaseModel):
    """One event to record live. ``actor_id`` and ``actor_role`` are the token owner's, and
    ``recorded_at`` the ledger's clock: none of the three may be given."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(
        description="Your id for the event and the idempotency key: a retried request with the same id and "
        "content records it once; with other content it is refused. 1-64 characters of [A-Za-z0-9._:-]."
    )
    kind: str = Field(description="One of the interchange kinds, for example SpotCheckRecorded.")
    theme: str | None = None
    location: str | None = None
    team: str | None = None
    shift: str | None = None
    record: str | None = Field(None, description="Your own reference for the record.")
    observed_at: str | None = Field(None, description="RFC 3339 UTC (…Z); default: the time it is recorded.")
    payload: dict[str, Any] = Field(description="The kind's payload, as interchange.md defines it.")


class RecordedOut(BaseModel):
    event_id: str
    service: str
    stored: bool = Field(description="False: this event was recorded by an earlier request (a retry).")
    position: int | None = Field(description="The entry's position in the ledger (when stored by this request).")
    leaf_hash: str | None
    source: str | None = Field(description="live:api")
    warnings: list[str]


class FieldErrorOut(BaseModel):
    error: str
    field: str | None = Field(None, description="The interchange field at fault, e.g. payload.evidence_score.")


RECORD_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": RecordIn.model_json_schema()}}}
}
MAX_BODY = 1 << 20  # one event: a megabyte is far more than any payload needs


@router.post(
    "/services/{service}/events",
    response_model=RecordedOut,
    status_code=201,
    responses={**ERRORS, 400: {"model": FieldErrorOut}, 404: {"model": ErrorOut}, 413: {"model": ErrorOut}},
    summary="Record one event live (the same validation as the forms and `insightlog record`)",
    openapi_extra=RECORD_BODY,
)
@guarded(RECORD, api=True)
async def api_record(request: Request, service: str) -> Response:
    """201 with the receipt when stored; 200 with ``stored: false`` when the same event was stored
    by an earlier request. Judgements need a token with the judge right."""
    actor = actor_of(request)
    assert actor is not None
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "the request body is larger than one event can be"}, status_code=413)
    try:
        given = RecordIn.model_validate_json(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or None
        message = (
            "is not allowed: it comes from the token's account or the ledger"
            if err["type"] == "extra_forbidden"
            else err["msg"]
        )
        if where in ("actor_id", "actor_role", "recorded_at", "service"):
            message = {
                "service": "is not allowed: the service is the one in the path",
                "recorded_at": "is not allowed: the ledger stamps the time it records",
            }.get(where, "is not allowed: it is the token owner's")
        return JSONResponse({"error": f"{where}: {message}" if where else message, "field": where}, status_code=400)
    from insightlog.interchange.kinds import JUDGEMENT_KINDS

    if given.kind in JUDGEMENT_KINDS and decide(actor, JUDGE, service) is not Decision.ALLOW:
        await log(
            request,
            "refused",
            subject=service,
            detail={"method": "POST", "path": request.url.path, "permission": JUDGE.name, "reason": "not allowed"},
        )
        return JSONResponse({"error": "recording a judgement needs a token with the judge right"}, status_code=403)
    event = {
        "event_id": given.event_id,
        "service": service,
        "theme": given.theme,
        "location": given.location,
        "team": given.team,
        "shift": given.shift,
        "kind": given.kind,
        "actor_role": actor.user.role,
        "actor_id": actor.user.staff_id,
        "record": given.record,
        "observed_at": given.observed_at,
        "payload": given.payload,
    }
    try:
        recorded = await run_in_threadpool(web_state(request).usecases.record, event, "api")
    except InputError as exc:
        return JSONResponse({"error": f"{exc.field}: {exc}", "field": exc.field}, status_code=400)
    except NotFoundError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    detail = {"kind": given.kind, "event_id": recorded.event_id, "stored": recorded.stored}
    await log(request, "recorded" if recorded.stored else "record_repeated", subject=service, detail=detail)
    out = RecordedOut(
        event_id=recorded.event_id,
        service=recorded.service,
        stored=recorded.stored,
        position=recorded.position,
        leaf_hash=recorded.leaf_hash,
        source=recorded.source,
        warnings=list(recorded.warnings),
    )
    return JSONResponse(out.model_dump(), status_code=201 if recorded.stored else 200)


@router.get("/openapi.json", include_in_schema=False)
@guarded(PUBLIC, api=True)
async def openapi(request: Request) -> Response:
    return JSONResponse(request.app.openapi())
