"""Every error is told to a user in one line: ``insightlog.errors.one_line``."""

from __future__ import annotations

from insightlog.errors import one_line


def test_one_line_keeps_the_first_line_of_a_message_and_trims_it() -> None:
    assert (
        one_line(ValueError("  permission denied for table rm_events\nDETAIL: more\n"))
        == "permission denied for table rm_events"
    )


def test_one_line_names_the_class_of_an_error_with_no_message() -> None:
    assert one_line(KeyError()) == "KeyError"
    assert one_line(RuntimeError(" \n ")) == "RuntimeError"
