"""Pages: Jinja2 templates with autoescape on everywhere, and what every page is given.

Every template extends ``base.html`` and gets ``actor`` (or None), ``csrf_token`` (for its forms,
through the ``csrf_field()`` macro), ``nav`` (the links this actor may follow) and ``config``. A
page's own data comes from its view, built from one use-case call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from insightlog.web.permissions import ADMIN, LIST_SERVICES, SIGNED_IN, Decision, Permission, decide
from insightlog.web.security import cookie_options, new_csrf_cookie_value
from insightlog.web.urls import tilde_encode

if TYPE_CHECKING:
    from starlette.requests import Request

    from insightlog.web.config import WebConfig
    from insightlog.web.permissions import Actor

STATUS_TITLES = {
    400: "Check your input",
    401: "Sign in first",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed",
    500: "Something went wrong",
    503: "Unavailable",
}


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    permission: Permission


# The site's main links, in order; each shows only to actors its permission allows. Phase B adds
# its pages here (work lists, the provider page).
NAV: list[NavItem] = [
    NavItem("Services", "/services", LIST_SERVICES),
    NavItem("Provider overview", "/provider", LIST_SERVICES),
    NavItem("Work lists", "/work", LIST_SERVICES),
    NavItem("Administration", "/admin", ADMIN),
    NavItem("Your account", "/account", SIGNED_IN),
]


def plain(value: Any) -> str:
    """A value of a JSON detail as text: lists joined with commas, nothing as a dash."""
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(plain(v) for v in value) or "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def utc_text(value: Any) -> str:
    """An instant as the interchange writes it (``2026-07-01T09:00:00Z``); text as it is."""
    from datetime import datetime

    if isinstance(value, datetime):
        from insightlog.interchange.timeutil import format_utc

        return format_utc(value)
    return "-" if value is None else str(value)


SOURCES = {
    "live": "recorded live from the command line",
    "live:web": "recorded live through the web forms",
    "live:api": "recorded live through the web API",
}


def source_text(source: str) -> str:
    """Where an entry came in, in words (``import:file.jsonl``: imported from that file)."""
    if source in SOURCES:
        return f"{SOURCES[source]} ({source})"
    door, _, name = source.partition(":")
    if door == "import":
        return f"imported from {name}"
    if door == "backfill":
        return f"back-filled from {name}: its recording time rests on the provider's word"
    return source


class Pages:
    """The template environment and the page renderer."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.env = Environment(
            loader=PackageLoader("insightlog.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["name_path"] = tilde_encode
        self.env.filters["plain"] = plain
        self.env.filters["utc"] = utc_text
        self.env.filters["source_text"] = source_text
        from insightlog.web.kindforms import LABELS

        self.env.globals["labels"] = LABELS
        self.env.globals["provider"] = config.provider

    def render(
        self, request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200
    ) -> HTMLResponse:
        actor: Actor | None = getattr(request.state, "actor", None)
        new_cookie = None
        if actor is not None and actor.session is not None:
            csrf = actor.session.csrf
        else:
            csrf = request.cookies.get(self.config.csrf_cookie) or ""
            if not csrf:
                csrf = new_cookie = new_csrf_cookie_value()
        nav = [item for item in NAV if actor is not None and decide(actor, item.permission) is Decision.ALLOW]
        page = {
            "actor": actor,
            "csrf_token": csrf,
            "nav": nav,
            "path": request.url.path,
            "config": self.config,
            **(context or {}),
        }
        html = self.env.get_template(template).render(page)
        response = HTMLResponse(html, status_code=status)
        if new_cookie:
            response.set_cookie(self.config.csrf_cookie, new_cookie, **cookie_options(self.config))
        return response

    def error(self, request: Request, status: int, message: str) -> HTMLResponse:
        title = STATUS_TITLES.get(status, "Error")
        return self.render(request, "error.html", {"title": title, "message": message, "status": status}, status=status)
