"""Importing a spreadsheet from the browser (issue 15 item 6): upload a CSV, XLSX or ODS file and
its TOML mapping, see a dry run (what it gives, every problem at its sheet, row and column, how it
stands against the store), then import it, all or nothing; each step in the access log.

Between the dry run and the import the two files wait in a private staging folder (mode 0700,
one folder per upload named by a random token, bound to the account and the service, removed on
import and after ``STAGING_MINUTES``), so the import is of exactly the files previewed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from insightlog.web.guard import actor_of, guarded, log, web_state
from insightlog.web.permissions import RECORD, Actor
from insightlog.web.routes import Routes
from insightlog.web.urls import tilde_encode
from insightlog.web.usecases import InputError, NotFoundError, UseCaseError

router = Routes(defaults={"include_in_schema": False})
MAX_SHEET = 20 << 20  # bytes of a spreadsheet upload
MAX_MAPPING = 256 << 10
STAGING_MINUTES = 30
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def staging_root() -> Path:
    root = Path(tempfile.gettempdir()) / f"insightlog-web-staging-{os.getuid()}"
    root.mkdir(mode=0o700, exist_ok=True)
    if root.is_symlink() or (root.stat().st_mode & 0o077):
        raise UseCaseError("the staging folder for uploads is not private; nothing was kept")
    return root


def _clean_old(root: Path) -> None:
    cutoff = time.time() - STAGING_MINUTES * 60
    for folder in root.iterdir():
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass


def _actor(request: Request) -> Actor:
    actor = actor_of(request)
    assert actor is not None
    return actor


def _safe_name(name: str | None, default: str) -> str:
    base = os.path.basename(name or "") or default
    return re.sub(r"[^A-Za-z0-9._ -]+", "_", base)[:120] or default


async def _read(upload: Any, limit: int, field: str) -> bytes:
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InputError(field, "Choose a file.")
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise InputError(field, f"The file is larger than {limit >> 20 or 1} MB.")
    if not data:
        raise InputError(field, "The file is empty.")
    return data


def _page(request: Request, service: str, **extra: Any) -> Response:
    status = extra.pop("status", 200)
    context: dict[str, Any] = {"service": service, "base": "/services/" + tilde_encode(service), "errors": {}}
    context["report"] = None
    context |= {"token": None, **extra}
    return web_state(request).pages.render(request, "sheet_import.html", context, status=status)


@router.get("/services/{service}/import")
@guarded(RECORD)
async def import_form(request: Request, service: str) -> Response:
    return _page(request, service)


@router.post("/services/{service}/import")
@guarded(RECORD)
async def import_preview(request: Request, service: str) -> Response:
    """The dry run: nothing is written to the ledger; the files are staged for the import."""
    state = web_state(request)
    form = await request.form()
    try:
        data = await _read(form.get("sheet"), MAX_SHEET, "sheet")
        mapping = await _read(form.get("mapping"), MAX_MAPPING, "mapping")
    except InputError as exc:
        return _page(request, service, errors={exc.field: str(exc)}, status=400)
    sheet_file = form.get("sheet")
    mapping_file = form.get("mapping")
    sheet_name = _safe_name(getattr(sheet_file, "filename", None), "sheet")
    mapping_name = _safe_name(getattr(mapping_file, "filename", None), "mapping.toml")
    try:
        report = await run_in_threadpool(
            lambda: state.usecases.sheet(service, data, sheet_name, mapping, mapping_name, do_import=False)
        )
    except InputError as exc:
        return _page(request, service, errors={exc.field: str(exc)}, status=400)
    except NotFoundError as exc:
        return state.pages.error(request, 404, str(exc))
    token = None
    if report.ok and report.new:
        token = await run_in_threadpool(_stage, _actor(request), service, data, sheet_name, mapping, mapping_name)
    detail = {
        "file": sheet_name,
        "mapping": mapping_name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "events": report.conversion["events"],
        "problems": report.conversion["problems"] + len(report.store_problems),
    }
    await log(request, "sheet_previewed", subject=service, detail=detail)
    return _page(request, service, report=report, token=token, status=200 if report.ok else 400)


def _stage(actor: Actor, service: str, data: bytes, sheet_name: str, mapping: bytes, mapping_name: str) -> str:
    root = staging_root()
    _clean_old(root)
    token = secrets.token_urlsafe(32)
    folder = root / token
    folder.mkdir(mode=0o700)
    (folder / "sheet").write_bytes(data)
    (folder / "mapping").write_bytes(mapping)
    meta = {"user": actor.user.id, "service": service, "sheet": sheet_name, "mapping": mapping_name}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return token


def _unstage(actor: Actor, service: str, token: str) -> tuple[bytes, str, bytes, str] | None:
    if not _TOKEN.match(token):
        return None
    folder = staging_root() / token
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta["user"] != actor.user.id or meta["service"] != service:
            return None
        if folder.stat().st_mtime < time.time() - STAGING_MINUTES * 60:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        return (folder / "sheet").read_bytes(), meta["sheet"], (folder / "mapping").read_bytes(), meta["mapping"]
    except (OSError, ValueError, KeyError):
        return None


@router.post("/services/{service}/import/confirm")
@guarded(RECORD)
async def import_confirm(request: Request, service: str) -> Response:
    """The import of exactly the files previewed (all or nothing), then the history."""
    state = web_state(request)
    actor = _actor(request)
    form = await request.form()
    token = str(form.get("token") or "")
    staged = await run_in_threadpool(_unstage, actor, service, token)
    if staged is None:
        message = "This upload has expired or is not yours; upload the files again."
        return _page(request, service, errors={"sheet": message}, status=400)
    data, sheet_name, mapping, mapping_name = staged
    try:
        report = await run_in_threadpool(
            lambda: state.usecases.sheet(service, data, sheet_name, mapping, mapping_name, do_import=True)
        )
    except InputError as exc:
        return _page(request, service, errors={exc.field: str(exc)}, status=400)
    if report.imported is None:
        return _page(request, service, report=report, token=token, status=400)
    shutil.rmtree(staging_root() / token, ignore_errors=True)
    detail: dict[str, Any] = {"file": sheet_name, "mapping": mapping_name, "sha256": hashlib.sha256(data).hexdigest()}
    detail |= {"imported": report.imported, "skipped": report.skipped}
    await log(request, "sheet_imported", subject=service, detail=detail)
    return RedirectResponse(
        f"/services/{tilde_encode(service)}/history?notice=imported&count={report.imported}", status_code=303
    )
