"""The one walk up a theme's parent links, and the four rules that use it."""

from __future__ import annotations

import pytest

from insightlog.interchange.themelinks import ParentCycleError, ancestors_or_self

PARENTS: dict[str, str | None] = {"medicines.mar_charts": "medicines", "medicines": None, "a": "b", "b": "c", "c": "a"}


def test_the_walk_goes_from_the_theme_up_to_its_root_and_stops_at_an_unknown_parent() -> None:
    assert list(ancestors_or_self("medicines.mar_charts", PARENTS.get)) == ["medicines.mar_charts", "medicines"]
    assert list(ancestors_or_self("undefined", PARENTS.get)) == ["undefined"]


def test_the_walk_names_the_first_theme_it_meets_twice() -> None:
    walked: list[str] = []
    with pytest.raises(ParentCycleError, match="cycle through 'a'") as raised:
        walked.extend(ancestors_or_self("a", PARENTS.get))
    assert walked == ["a", "b", "c"] and raised.value.theme == "a"


def test_every_user_of_the_walk_keeps_its_own_answer_to_a_cycle() -> None:
    from datetime import UTC, datetime

    from insightlog.aggregates.service import ServiceLedger, ThemeCycleError
    from insightlog.analysis.history import descendants_or_self
    from insightlog.analysis.themes import ThemeTree, ThemeTreeError
    from insightlog.interchange.entry import Entry
    from insightlog.taxonomies import first_statement

    def defined(theme: str, parent: str | None, statements: list[str] | None = None) -> Entry:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        payload = {"theme": theme, "parent": parent, "quality_statements": statements or []}
        return Entry(
            theme, "S", theme, None, None, None, "ThemeDefined", "registered_manager", "RM", None, at, at, payload
        )

    entries = [
        defined("a", "b"),
        defined("b", "c"),
        defined("c", "a"),
        defined("x", "y", ["QS1"]),
        defined("y", None),
        defined("z", "x"),
    ]
    # The append rules refuse the definition that closes a cycle.
    with pytest.raises(ThemeCycleError, match="theme 'c' with parent 'a'"):
        ServiceLedger("S").check_no_theme_cycle("c", "a", {"a": "b", "b": "c"})
    # The analysis refuses a log whose links form one.
    with pytest.raises(ThemeTreeError, match="cycle through 'a'"):
        ThemeTree(entries)
    # The history and the taxonomies stop where the cycle closes.
    assert descendants_or_self(entries, "y") == {"y", "x", "z"}
    assert descendants_or_self(entries, "b") == {"b", "a", "c"}
    assert first_statement("z", {"z": ("x", []), "x": ("y", ["QS1"])}) == "QS1"
    assert first_statement("a", {"a": ("b", []), "b": ("a", [])}) is None
