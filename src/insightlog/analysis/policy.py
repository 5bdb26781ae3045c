"""Policy parameters of the analysis (definitions.md §15) and loading them from a file."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from insightlog.errors import InsightlogError

DEFINITIONS_VERSION = "insightlog-defs-0.2"
DEFAULT_POLICY_NAME = "insightlog-defs-0.2-default"


class PolicyError(InsightlogError, ValueError):
    """Raised when a policy file or a policy override is invalid."""


def _sorted_strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


@dataclass(frozen=True, slots=True)
class Policy:
    """Every threshold of definitions.md §15, with the defaults of ``insightlog-defs-0.2``.

    Day counts and scores are ints, shares and means exact ``Fraction``s, role and category sets
    sorted tuples of strings.
    """

    name: str = DEFAULT_POLICY_NAME
    adverse_threshold: int = 2
    repeated_distinct_dates: int = 3
    repeated_span_days: int = 90
    episode_gap_days: int = 90
    service_wide_min_scopes: int = 2
    service_wide_share: Fraction = Fraction(1, 2)
    lapse_lookback_days: int = 60
    drift_threshold: Fraction = Fraction(1, 2)
    not_improving_days: int = 30
    early_window_days: int = 90
    embedded_min_items: int = 3
    late_recorded_days: int = 7
    t1_grace_days: int = 14
    t2_headline_threshold: int = 3
    t3_run_months: int = 2
    t6_metric_mean_min: Fraction = Fraction(3)
    t6_experience_mean_max: Fraction = Fraction(2)
    t6_run_months: int = 2
    t6_experience_categories: tuple[str, ...] = ("people_experience", "staff_leader_feedback")
    t7_lookback_days: int = 60
    t7_positive_score: int = 3
    t7_confidence: str = "high"
    leadership_roles: tuple[str, ...] = field(default=("operations_manager", "registered_manager", "senior_leader"))

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "name":
                if not isinstance(self.name, str) or not self.name:
                    raise PolicyError("policy 'name' must be a non-empty string")
                continue
            value = _coerce(f.name, getattr(self, f.name))
            object.__setattr__(self, f.name, value)

    def overrides(self) -> dict[str, Any]:
        """The parameters whose values differ from the defaults, as JSON-friendly values.

        Fractions are given as strings (``"1/3"``), sets of strings as sorted lists.
        """
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "name":
                continue
            value = getattr(self, f.name)
            if value != getattr(DEFAULT_POLICY, f.name):
                out[f.name] = _to_json(value)
        return out

    def with_overrides(self, overrides: Mapping[str, Any], name: str | None = None) -> Policy:
        """A copy with the given parameters replaced (values validated like a policy file's)."""
        if not isinstance(overrides, Mapping):
            raise PolicyError("policy 'overrides' must be an object of parameter: value")
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in PARAMETERS or key == "name":
                raise PolicyError(f"unknown policy parameter {key!r}; known: {', '.join(PARAMETERS[1:])}")
            changes[key] = value
        if name is not None:
            changes["name"] = name
        return replace(self, **changes)


_INT_MINIMUM: dict[str, int] = {
    "adverse_threshold": 0,
    "repeated_distinct_dates": 1,
    "repeated_span_days": 0,
    "episode_gap_days": 0,
    "service_wide_min_scopes": 0,
    "lapse_lookback_days": 0,
    "not_improving_days": 1,
    "early_window_days": 1,
    "embedded_min_items": 0,
    "late_recorded_days": 0,
    "t1_grace_days": 0,
    "t2_headline_threshold": 0,
    "t3_run_months": 1,
    "t6_run_months": 1,
    "t7_lookback_days": 0,
    "t7_positive_score": 0,
}
_FRACTIONS = frozenset({"service_wide_share", "drift_threshold", "t6_metric_mean_min", "t6_experience_mean_max"})
_STRING_SETS = frozenset({"t6_experience_categories", "leadership_roles"})
_STRINGS = frozenset({"t7_confidence"})


def _coerce(name: str, value: Any) -> Any:
    if name in _INT_MINIMUM:
        if isinstance(value, bool) or not isinstance(value, int):
            raise PolicyError(f"policy parameter {name!r} must be an integer, not {value!r}")
        if value < _INT_MINIMUM[name]:
            raise PolicyError(f"policy parameter {name!r} must be at least {_INT_MINIMUM[name]}, not {value!r}")
        return value
    if name in _FRACTIONS:
        fraction = _to_fraction(name, value)
        if fraction < 0:
            raise PolicyError(f"policy parameter {name!r} must not be negative, not {value!r}")
        return fraction
    if name in _STRING_SETS:
        if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
            raise PolicyError(f"policy parameter {name!r} must be a list of strings, not {value!r}")
        if not all(isinstance(v, str) and v for v in value):
            raise PolicyError(f"policy parameter {name!r} must be a list of non-empty strings")
        return _sorted_strings(value)
    if name in _STRINGS:
        if not isinstance(value, str) or not value:
            raise PolicyError(f"policy parameter {name!r} must be a non-empty string")
        return value
    raise PolicyError(f"unknown policy parameter {name!r}")


def _to_fraction(name: str, value: Any) -> Fraction:
    if isinstance(value, bool):
        raise PolicyError(f"policy parameter {name!r} must be a number or 'p/q', not {value!r}")
    try:
        if isinstance(value, Fraction | int):
            return Fraction(value)
        if isinstance(value, float):
            return Fraction(repr(value))
        if isinstance(value, str):
            return Fraction(value.strip())
    except (ValueError, ZeroDivisionError):
        pass
    raise PolicyError(f"policy parameter {name!r} must be a number or 'p/q', not {value!r}")


def _to_json(value: Any) -> Any:
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


DEFAULT_POLICY = Policy()
PARAMETERS: tuple[str, ...] = tuple(f.name for f in fields(Policy))


def policy_from_document(document: Any, origin: str = "policy") -> Policy:
    """Build a policy from ``{"name": ..., "overrides": {parameter: value}}``."""
    if not isinstance(document, Mapping):
        raise PolicyError(f"{origin}: expected an object with 'name' and 'overrides'")
    unknown = sorted(set(document) - {"name", "overrides"})
    if unknown:
        raise PolicyError(f"{origin}: unknown key(s) {', '.join(map(repr, unknown))}")
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError(f"{origin}: 'name' must be a non-empty string")
    overrides = document.get("overrides", {})
    try:
        return DEFAULT_POLICY.with_overrides(overrides, name=name)
    except PolicyError as exc:
        raise PolicyError(f"{origin}: {exc}") from None


def load_policy(path: str | Path) -> Policy:
    """Read a policy file (JSON, or TOML when the name ends in ``.toml``) and validate it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {str(path)!r}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".toml":
            document: Any = tomllib.loads(text)
        else:
            document = json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"policy file {str(path)!r} is not valid: {exc}") from None
    return policy_from_document(document, origin=f"policy file {str(path)!r}")
