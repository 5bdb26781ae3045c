"""Theme parent links (the ``parent`` of a ``ThemeDefined``): the one walk up a theme's ancestors.

The append rules use it to refuse a definition that would close a cycle, the analysis to build
its theme tree, the history to find a theme's descendants, and the taxonomies to find the
nearest ancestor that lists a quality statement. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from insightlog.errors import InsightlogError


class ParentCycleError(InsightlogError, ValueError):
    """Raised when a theme's parent links lead back to a theme already met (``theme``)."""

    def __init__(self, theme: str) -> None:
        super().__init__(f"theme parent links form a cycle through {theme!r}")
        self.theme = theme


def ancestors_or_self(theme: str, parent_of: Callable[[str], str | None]) -> Iterator[str]:
    """``theme``, its parent, its parent's parent... up to a root (a theme whose ``parent_of`` is
    None), one at a time; raises ``ParentCycleError`` on meeting a theme a second time."""
    yield theme
    seen = {theme}
    parent = parent_of(theme)
    while parent is not None:
        if parent in seen:
            raise ParentCycleError(parent)
        seen.add(parent)
        yield parent
        parent = parent_of(parent)
