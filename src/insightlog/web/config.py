"""The web application's own settings (the store's are ``insightlog.storage.settings``)."""

from __future__ import annotations

from dataclasses import dataclass

# Nothing is loaded from anywhere but this site; no script runs (pages work without JavaScript;
# phase B may add 'self' scripts for progressive enhancement, and nothing else).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass(frozen=True)
class WebConfig:
    """``secure_cookies``: cookies only over HTTPS (and the ``__Host-`` prefix); turn off only for
    plain-HTTP development away from localhost. ``hsts``: send Strict-Transport-Security (behind
    TLS). ``provider``: the provider's name in page titles."""

    secure_cookies: bool = True
    hsts: bool = False
    provider: str | None = None
    access_log_page: int = 100
    content_security_policy: str = CONTENT_SECURITY_POLICY

    @property
    def session_cookie(self) -> str:
        return "__Host-insightlog_session" if self.secure_cookies else "insightlog_session"

    @property
    def csrf_cookie(self) -> str:
        return "__Host-insightlog_csrf" if self.secure_cookies else "insightlog_csrf"
