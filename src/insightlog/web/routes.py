"""A list of routes that ``create_app`` adds to the app one by one (``add_api_route``).

FastAPI's ``include_router`` is avoided: recent versions include a router lazily, as one opaque
route, which would hide the routes from the check that every route has a guard.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from fastapi import FastAPI

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str
    endpoint: Callable[..., Any]
    options: dict[str, Any]


@dataclass
class Routes:
    """Routes declared with ``@routes.get(path)`` / ``@routes.post(path)``, above ``@guarded(...)``."""

    prefix: str = ""
    defaults: dict[str, Any] = field(default_factory=dict)
    specs: list[RouteSpec] = field(default_factory=list)

    def route(self, method: str, path: str, **options: Any) -> Callable[[F], F]:
        def decorate(endpoint: F) -> F:
            self.specs.append(RouteSpec(method, self.prefix + path, endpoint, {**self.defaults, **options}))
            return endpoint

        return decorate

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route("POST", path, **options)

    def add_to(self, app: FastAPI) -> None:
        for spec in self.specs:
            app.add_api_route(spec.path, spec.endpoint, methods=[spec.method], **spec.options)
