"""Security headers on every response, cookie settings, and CSRF tokens.

CSRF: every request that is not GET, HEAD or OPTIONS must carry a token equal to the one the
server expects, in the form field ``csrf_token`` or the header ``X-CSRF-Token``: for a session,
the session's own random token (it changes when the session id does); before signing in, the
value of a random ``csrf`` cookie set with the sign-in form (so sign-in itself cannot be forged).
The API takes only bearer tokens, never cookies, so a browser cannot be made to call it with
someone's authority; it needs no CSRF token. The check runs in the guard, before any view.
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from insightlog.web.config import WebConfig

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def tokens_match(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; nothing matches an empty or missing token."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def new_csrf_cookie_value() -> str:
    return secrets.token_urlsafe(32)


def cookie_options(config: WebConfig) -> dict[str, Any]:
    """HttpOnly, SameSite=Strict, Path=/ and (by default) Secure: the ``__Host-`` prefix's rules."""
    return {"httponly": True, "samesite": "strict", "secure": config.secure_cookies, "path": "/"}


def security_headers(config: WebConfig) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", config.content_security_policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"),
    ]
    if config.hsts:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


class SecurityHeadersMiddleware:
    """Adds the security headers to every response, errors and static files included (pure ASGI)."""

    def __init__(self, app: ASGIApp, config: WebConfig) -> None:
        self.app = app
        self.headers = security_headers(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
