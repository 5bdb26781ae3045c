"""Which characters a string of the interchange format may hold (docs/spec-notes.md, "Text").

Two rules, one for each sort of string:

* **names and identifiers** (the envelope's ``service``, ``theme``, ``location``, ``team``,
  ``shift``, ``actor_id``, ``record``; the payload fields in ``NAME_FIELDS``; every object key) hold
  only printable characters: no control character (Unicode category Cc, tab and line breaks
  included), no format character (Cf: zero-width and bidirectional controls), no line or paragraph
  separator, no space other than U+0020, no surrogate, private-use or unassigned code point. This
  is Python's ``str.isprintable``; a name that prints as another name cannot enter the ledger.
* **free text** (every other string: summaries, narratives, reasons, notes, providers' extra
  fields) holds any character except the control characters other than tab, line feed and
  carriage return (U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+007F, U+0080-U+009F).
"""

from __future__ import annotations

import json
import re
from typing import Any

# Payload fields that name something (an id, a theme, a scope, a role, a label); every other
# payload string is free text. Applied to a kind's own (model) fields, never to extra fields.
NAME_FIELDS = frozenset(
    {
        "name",
        "taxonomy_version",
        "service_type",
        "scopes",
        "theme",
        "parent",
        "label",
        "quality_statements",
        "source_type",
        "audit_id",
        "amends",
        "withdraws",
        "corrects",
        "supersedes",
        "scope",
        "evidence_refs",
        "action_id",
        "owner_role",
        "due",
        "status",
        "level",
        "themes_reviewed",
        "to",
        "refs",
    }
)

_TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _describe(char: str) -> str:
    import unicodedata

    category = unicodedata.category(char)
    what = {
        "Cc": "a control character",
        "Cf": "an invisible format character",
        "Zl": "a line separator",
        "Zp": "a paragraph separator",
        "Zs": "a space other than U+0020",
        "Cs": "a lone surrogate",
        "Co": "a private-use character",
        "Cn": "an unassigned code point",
    }.get(category, f"a character of category {category}")
    return f"U+{ord(char):04X} ({what})"


def name_problem(value: str) -> str | None:
    """Why ``value`` cannot be a name or identifier, or None when it can."""
    if value.isprintable():
        return None
    index, char = next((i, c) for i, c in enumerate(value) if not c.isprintable())
    return f"contains {_describe(char)} at character {index + 1}; names and identifiers hold printable characters only"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be free text, or None when it can."""
    found = _TEXT_FORBIDDEN.search(value)
    if found is None:
        return None
    return (
        f"contains {_describe(found.group())} at character {found.start() + 1}; "
        "no string may hold a control character other than tab, line feed and carriage return"
    )


def model_name_problem(model: Any) -> tuple[str, str] | None:
    """The first name field of a validated payload model (nested models and lists included) that
    breaks the name rule: its path below the payload and the reason; None when all hold."""
    for field_name, is_name in _name_plan(type(model)):
        value = getattr(model, field_name)
        if type(value) is str and (not is_name or value.isprintable()):
            continue
        found = _value_name_problem(value, is_name)
        if found is not None:
            return field_name + found[0], found[1]
    return None


_PLANS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _name_plan(model_class: type) -> tuple[tuple[str, bool], ...]:
    """The fields of a model that are names or may hold names (nested models, dicts), once per class."""
    plan = _PLANS.get(model_class)
    if plan is None:
        fields: Any = getattr(model_class, "model_fields", {})
        plan = tuple(
            (name, name in NAME_FIELDS)
            for name, info in fields.items()
            if name in NAME_FIELDS or _may_hold_names(info.annotation)
        )
        _PLANS[model_class] = plan
    return plan


def _may_hold_names(annotation: Any) -> bool:
    from typing import get_args, get_origin

    if annotation is dict or get_origin(annotation) is dict:
        return True
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return True
    return any(_may_hold_names(arg) for arg in get_args(annotation))


def _value_name_problem(value: Any, is_name: bool) -> tuple[str, str] | None:
    if isinstance(value, str):
        problem = name_problem(value) if is_name else None
        return None if problem is None else ("", problem)
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _value_name_problem(item, is_name)
            if found is not None:
                return f"[{index}]{found[0]}", found[1]
        return None
    if isinstance(value, dict):
        # A dict field (an amendment's ``changes``): its keys name payload fields, and a value
        # of a name field is a name.
        for key, item in value.items():
            step = f".{key}" if key.isprintable() else f"[{json.dumps(key)}]"
            problem = name_problem(key)
            if problem is not None:
                return step, problem
            found = _value_name_problem(item, key in NAME_FIELDS)
            if found is not None:
                return f"{step}{found[0]}", found[1]
        return None
    if hasattr(type(value), "model_fields"):
        found = model_name_problem(value)
        return None if found is None else (f".{found[0]}", found[1])
    return None
