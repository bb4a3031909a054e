"""The dispatch catalogue as GeoReport v2 services, and each service's definition: the
attributes jiesu's intake needs beyond what the spec's own fields carry."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from db.models import Category, District, TimeLimitPolicy, Unit
from db.session import session_factory
from domain.types import AppealType, LimitUnit, UnitKind, Urgency

APPEAL_TYPES = {
    AppealType.COMPLAINT: "投诉",
    AppealType.HELP: "求助",
    AppealType.CONSULTATION: "咨询",
    AppealType.SUGGESTION: "建议",
    AppealType.REPORT: "举报（举报人身份不向承办单位公开；举报不在公开列表中）",
}
#: a channel may ask for these; `complex` is granted by the hotline, never asked for
URGENCIES = {
    Urgency.EMERGENCY: "紧急（危及生命财产安全）",
    Urgency.UTILITY: "水电气热故障",
    Urgency.ORDINARY: "一般",
}
LIMIT_WORDS = {
    LimitUnit.MINUTES: "分钟",
    LimitUnit.HOURS: "小时",
    LimitUnit.DAYS: "个自然日",
    LimitUnit.WORKING_DAYS: "个工作日",
}


@dataclass(frozen=True)
class Names:
    districts: dict[str, str]
    streets: dict[str, tuple[str, str]]  # code → (name, district)
    units: dict[str, str]
    policies: dict[tuple[str, str], TimeLimitPolicy]  # (urgency, appeal type) → its limits


class NamesCache:
    """Names of districts, streets and units, and the time-limit policies (reloaded each minute)."""

    def __init__(self, engine: AsyncEngine, ttl: float = 60.0) -> None:
        self.engine, self.ttl = engine, ttl
        self._value: Names | None = None
        self._at = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> Names:
        async with self._lock:
            if self._value is None or time.monotonic() - self._at >= self.ttl:
                async with session_factory(self.engine)() as s:
                    districts = (await s.exec(select(District))).all()
                    units = (await s.exec(select(Unit))).all()
                    policies = (await s.exec(select(TimeLimitPolicy))).all()
                self._value = Names(
                    districts={d.code: d.name_zh for d in districts},
                    streets={
                        u.code: (u.name_zh, u.district_code or "") for u in units
                        if u.kind in (UnitKind.STREET, UnitKind.TOWNSHIP) and u.active
                    },
                    units={u.code: u.name_zh for u in units},
                    policies={(p.urgency.value, p.appeal_type.value): p for p in policies},
                )
                self._at = time.monotonic()
        return self._value


def completion_words(names: Names, urgency: str, appeal_type: str) -> str | None:
    policy = names.policies.get((urgency, appeal_type))
    if policy is None:
        return None
    return f"{policy.completion_limit}{LIMIT_WORDS[policy.completion_limit_unit]}内办结"


def _theme_root(code: str, categories: dict[str, Category]) -> Category:
    seen = categories[code]
    while seen.parent_code is not None and seen.parent_code in categories:
        seen = categories[seen.parent_code]
    return seen


def services(categories: dict[str, Category], names: Names) -> list[dict]:
    out = []
    for code in sorted(categories):
        c = categories[code]
        theme = _theme_root(code, categories)
        limit = completion_words(names, c.default_urgency.value, AppealType.COMPLAINT.value)
        out.append({
            "service_code": c.code,
            "service_name": c.name_zh,
            "description": f"{c.name_en}. 默认紧急程度：{URGENCIES.get(c.default_urgency, c.default_urgency.value)}"
            + (f"；投诉类{limit}" if limit else ""),
            "metadata": True,
            "type": "realtime",
            "keywords": ",".join(k for k in (c.theme, c.name_en) if k),
            "group": theme.name_zh,
        })
    return out


def _values(pairs) -> list[dict]:
    return [{"key": key, "name": name} for key, name in pairs]


def definition(category: Category, names: Names) -> dict:
    """The attributes the intake needs. Where the problem is: coordinates (lat/long) decide the
    street (the nearest street office), else the channel names the street or the district."""
    attributes = [
        {
            "variable": True, "code": "appeal_type", "datatype": "singlevaluelist", "required": True,
            "datatype_description": None, "order": 1, "description": "诉求类型",
            "values": _values((t.value, name) for t, name in APPEAL_TYPES.items()),
        },
        {
            "variable": True, "code": "urgency", "datatype": "singlevaluelist", "required": False,
            "datatype_description": f"默认：{URGENCIES.get(category.default_urgency, category.default_urgency.value)}",
            "order": 2, "description": "紧急程度（不填则按类别默认）",
            "values": _values((u.value, name) for u, name in URGENCIES.items()),
        },
        {
            "variable": True, "code": "district", "datatype": "singlevaluelist", "required": False,
            "datatype_description": "GB/T 2260 区划代码", "order": 3,
            "description": "所在区（有坐标或街道时可不填）",
            "values": _values(sorted(names.districts.items())),
        },
        {
            "variable": True, "code": "street", "datatype": "singlevaluelist", "required": False,
            "datatype_description": None, "order": 4,
            "description": "所在街道/乡镇（不填则按坐标取最近的街道办事处）",
            "values": _values((code, name) for code, (name, _) in sorted(names.streets.items())),
        },
    ]
    return {"service_code": category.code, "attributes": attributes}
