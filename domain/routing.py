"""Choosing the handling unit from the dispatch catalogue (派单目录): category × place → unit.

The most specific category wins (a leaf's own rule before its parent's); within one category the
most specific place wins (street, then district, then city-wide). Where nothing matches, the
district government is the backstop (兜底). A rule may point at "the street where it happened"
instead of a fixed unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    category: str
    unit: str | None
    district: str | None = None
    street: str | None = None
    to_local_street: bool = False

    def matches(self, district: str | None, street: str | None) -> bool:
        if self.street is not None:
            return self.street == street
        if self.district is not None:
            return self.district == district
        return True

    @property
    def specificity(self) -> int:
        return 2 if self.street is not None else 1 if self.district is not None else 0


@dataclass(frozen=True)
class Route:
    unit: str
    reason: str  # "rule" | "local_street" | "backstop"
    category: str | None = None  # the category whose rule decided, if any


class NoRoute(LookupError):
    """Neither a rule nor a backstop applies: the operator must name the unit."""


def category_lineage(category: str, parents: Mapping[str, str | None]) -> list[str]:
    """[category, its parent, …, the root]. Guards against cycles in bad data."""
    lineage, seen = [], set()
    node: str | None = category
    while node is not None and node not in seen:
        lineage.append(node)
        seen.add(node)
        node = parents.get(node)
    return lineage


def choose_unit(
    lineage: Sequence[str],
    rules: Sequence[Rule],
    *,
    district: str | None,
    street: str | None,
    backstops: Mapping[str, str],
) -> Route:
    """The unit to dispatch to. `backstops` maps a district code to its government's unit."""
    by_category: dict[str, list[Rule]] = {}
    for rule in rules:
        by_category.setdefault(rule.category, []).append(rule)
    for category in lineage:
        candidates = [r for r in by_category.get(category, ()) if r.matches(district, street)]
        if not candidates:
            continue
        best = max(candidates, key=lambda r: r.specificity)
        if best.to_local_street:
            if street is not None:
                return Route(street, "local_street", category)
            break  # no street given: the district decides
        if best.unit is not None:
            return Route(best.unit, "rule", category)
    if district is not None and district in backstops:
        return Route(backstops[district], "backstop")
    raise NoRoute("no routing rule applies and no district is given to fall back on")
