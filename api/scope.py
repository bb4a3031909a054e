"""Which appeals a caller may see listed: one rule for every appeal-level answer (the appeal
list, drill-downs, example appeal numbers, a task's evidence), the rule of `GET /appeals`.

Unit staff see the appeals that are or were their unit's; a district supervisor sees the
district (asking for another district is a 403, never a silently different list); everyone
else the city. Figures (rates, rankings, counts) follow their own routes' rules; the appeal
numbers behind them follow this one.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.auth import Principal
from api.errors import ApiError
from domain.types import Role


@dataclass(frozen=True)
class AppealScope:
    district: str | None = None  # only this district's appeals
    unit: str | None = None  # only appeals that are or were this unit's

    def shows(self, district: str | None) -> bool:
        """May an appeal (or an appeal number) of this district be shown?"""
        return self.unit is None and (self.district is None or district == self.district)


def appeal_scope(principal: Principal, district: str | None = None, *, by_unit: bool = True) -> AppealScope:
    """The caller's scope, narrowed to the district asked for. `by_unit=False`: the answer
    cannot be narrowed to a unit's appeals, so unit staff get a 403."""
    if principal.role is Role.SUPERVISOR and principal.district:
        if district is not None and district != principal.district:
            raise ApiError(403, "forbidden", f"a supervisor of district {principal.district} sees that district only",
                           {"field": "district"})
        return AppealScope(district=principal.district)
    if principal.role is Role.UNIT_STAFF:
        if not by_unit:
            raise ApiError(403, "forbidden", "unit staff see their own unit's appeals only: use GET /appeals")
        return AppealScope(district=district, unit=principal.unit)
    return AppealScope(district=district)
