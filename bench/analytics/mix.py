"""How the synthetic appeals are spread: over days (week, season, holidays, a slowly rising
volume), hours, categories (Zipf-like, the livelihood pain points heavier, each with its season),
districts and streets (by population), channels and appeal types; which units handle well; the
problems that rise (heating when the heating season starts, one street's lights in the last month,
night works in one street); and the places where the same problem keeps coming back.

Everything is drawn from `random.Random` instances seeded from the dataset's seed, so the same
seed and the same `as_of` give the same data.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from domain.calendar import CHINA_TZ
from domain.types import AppealType, Channel, UnitKind


def rng_for(seed: int, *parts: object) -> random.Random:
    """An independent, reproducible stream for one part of the data (a day, a unit...)."""
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


# --- districts and their size ------------------------------------------------------------------

#: Resident population in 10,000s (2020 census, rounded): Chaoyang, Haidian, Fengtai are the big ones.
DISTRICT_WEIGHT = {
    "110105": 345, "110108": 313, "110106": 202, "110114": 227, "110115": 199, "110112": 184,
    "110113": 132, "110111": 131, "110102": 110, "110101": 71, "110107": 57, "110118": 53,
    "110117": 46, "110116": 44, "110109": 39, "110119": 35,
}

#: Rough centre of each district (latitude, longitude), for coordinates that look plausible.
DISTRICT_CENTRE = {
    "110101": (39.928, 116.416), "110102": (39.912, 116.366), "110105": (39.948, 116.486),
    "110106": (39.858, 116.287), "110107": (39.906, 116.223), "110108": (39.959, 116.298),
    "110109": (39.940, 116.102), "110111": (39.736, 116.143), "110112": (39.910, 116.657),
    "110113": (40.130, 116.654), "110114": (40.221, 116.231), "110115": (39.727, 116.341),
    "110116": (40.316, 116.632), "110117": (40.141, 117.121), "110118": (40.377, 116.843),
    "110119": (40.456, 115.975),
}

# --- categories -------------------------------------------------------------------------------

#: The heavy hitters of a 12345 year, relative to the long tail (about 1).
POPULAR = {
    "HOUSING.PROPERTY": 7.0, "ENV.NOISE": 4.0, "PARKING.ILLEGAL": 3.2, "GOV.CONSULT": 3.2,
    "UTIL.HEAT.NOHEAT": 3.0, "MARKET.PREPAID": 3.0, "LABOR.WAGES": 2.8, "PARKING.SHORTAGE": 2.6,
    "CITY.GARBAGE": 2.4, "MARKET.ONLINE": 2.4, "ENV.WORKSNOISE": 2.0, "REALTY.RENTAL": 2.0,
    "MUNI.STREETLIGHT": 1.8, "GOV.SERVICE": 1.6, "UTIL.WATER.OUTAGE": 1.5, "HOUSING.LIFTFAULT": 1.4,
    "UTIL.POWER.OUTAGE": 1.4, "TRAFFIC.BIKESHARE": 1.3, "HEALTH.APPOINTMENT": 1.3,
    "CITY.ILLEGALBUILD": 1.3, "ENV.FUMES": 1.2, "CITY.VENDOR": 1.1, "EDU.ENROLL": 1.1,
    "LABOR.DISPUTE": 1.5, "MUNI.ROAD": 1.2, "TRAFFIC.CONGESTION": 1.1, "UTIL.HEAT.OUTAGE": 1.0,
    "HOUSING.EBIKECHARGE": 1.0, "MARKET.QUALITY": 1.2, "REALTY.CERT": 0.9,
}

#: Month multipliers (January first) for categories with a season.
SEASON = {
    "GREEN.CATKINS": (0.02, 0.02, 0.3, 6, 5, 0.3, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02),
    "MUNI.WATERLOGGING": (0.2, 0.2, 0.3, 0.5, 1, 2.5, 6, 5, 1.5, 0.4, 0.2, 0.2),
    "MUNI.DRAIN": (0.7, 0.7, 0.8, 0.9, 1, 1.5, 2.2, 2, 1.2, 0.9, 0.8, 0.7),
    "GREEN.WEEDS": (0.1, 0.1, 0.3, 0.8, 2, 2.5, 2.8, 2.6, 1.6, 0.6, 0.2, 0.1),
    "GREEN.TREE": (0.6, 0.6, 1, 1.2, 1.4, 1.5, 1.4, 1.3, 1.1, 0.9, 0.8, 0.7),
    "GREEN.TREEHAZARD": (0.5, 0.5, 0.7, 1, 1, 1.5, 3, 2.5, 1, 0.6, 0.8, 0.6),
    "ENV.NOISE": (0.8, 0.8, 0.9, 1, 1.2, 1.4, 1.5, 1.4, 1.1, 0.9, 0.8, 0.8),
    "ENV.WORKSNOISE": (0.5, 0.4, 0.9, 1.1, 1.3, 1.3, 1.3, 1.3, 1.2, 1.1, 0.9, 0.6),
    "ENV.FUMES": (0.8, 0.8, 0.9, 1, 1.2, 1.4, 1.5, 1.4, 1.1, 0.9, 0.8, 0.8),
    "UTIL.POWER.OUTAGE": (0.8, 0.8, 0.8, 0.8, 1, 1.5, 2, 1.9, 1.1, 0.8, 0.8, 0.9),
    "UTIL.WATER.OUTAGE": (1.1, 1, 0.9, 0.9, 1, 1.2, 1.3, 1.3, 1, 0.9, 0.9, 1.1),
    "EDU.ENROLL": (0.4, 0.5, 0.8, 2.2, 2.8, 2.6, 2.2, 2.5, 1.2, 0.4, 0.3, 0.3),
    "EDU.KINDERGARTEN": (0.4, 0.5, 0.8, 2, 2.5, 2.4, 2, 2.2, 1.1, 0.4, 0.3, 0.3),
    "LABOR.WAGES": (2.5, 2.2, 0.8, 0.8, 0.8, 0.9, 0.8, 0.8, 0.9, 0.9, 1, 2),
    "UTIL.HEAT.FEE": (0.8, 0.5, 0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 2.5, 3, 1.2),
    "MARKET.TOURISM": (0.7, 1.5, 0.7, 0.9, 1.8, 0.8, 1.4, 1.5, 0.9, 2.5, 0.7, 0.6),
    "TRAFFIC.SUBWAY": (1, 0.9, 1, 1, 1, 1, 1.1, 1.1, 1.1, 1, 1, 1),
}

#: Heating: Beijing's season runs 15 November to 15 March; complaints surge when it starts.
HEATING = ("UTIL.HEAT.NOHEAT", "UTIL.HEAT.OUTAGE")


def heating_factor(day: date) -> float:
    if day.month == 11 and day.day >= 15:
        return 5.0 if day.day < 29 else 3.5
    if day.month == 11:
        return 0.6  # "when does the heating start?"
    if day.month in (12, 1, 2) or (day.month == 3 and day.day <= 15):
        return 2.6
    return 0.05


def season_factor(category: str, day: date) -> float:
    if category in HEATING:
        return heating_factor(day)
    months = SEASON.get(category)
    return months[day.month - 1] if months else 1.0


def category_weights(leaves: list[str], pain_points: set[str], themes: list[str], seed: int) -> dict[str, float]:
    """Zipf-like: the popular ones as listed, then a long tail in a seeded order; pain points weigh
    more; a little goes to theme-level categories (what the operator could not place better)."""
    tail = [c for c in leaves if c not in POPULAR]
    rng_for(seed, "category-order").shuffle(tail)
    weights = dict(POPULAR)
    for rank, code in enumerate(tail, start=1):
        weights[code] = 1.0 / (1 + 0.06 * rank)
    for code in weights:
        if code in pain_points and code not in POPULAR:
            weights[code] *= 1.8
    for code in themes:
        weights[code] = 0.12
    return {c: w for c, w in weights.items() if c in set(leaves) | set(themes)}


#: How much harder some problems are to resolve (the share that ends resolved, before the unit's own skill).
DIFFICULTY = {
    "REALTY.CERT": 0.45, "HOUSING.ELEVATOR": 0.45, "HOUSING.OLDCOMMUNITY": 0.5, "PARKING.SHORTAGE": 0.5,
    "EDU.KINDERGARTEN": 0.5, "EDU.ENROLL": 0.55, "MARKET.PREPAID": 0.55, "TRAFFIC.CONGESTION": 0.5,
    "LABOR.DISPUTE": 0.6, "LABOR.WAGES": 0.65, "REALTY.RENTAL": 0.65, "MUNI.DEADENDROAD": 0.45,
    "ENV.NOISE": 0.75, "ENV.WORKSNOISE": 0.75, "HOUSING.PROPERTY": 0.75, "UTIL.HEAT.NOHEAT": 0.8,
    "CITY.ILLEGALBUILD": 0.6, "REALTY.GROUPRENT": 0.65, "HEALTH.APPOINTMENT": 0.7,
}

#: Appeal types: (consultation, help, complaint, report, suggestion).
TYPE_DEFAULT = (0.12, 0.28, 0.50, 0.05, 0.05)
TYPE_BY_CATEGORY = {
    "consult": (0.65, 0.15, 0.12, 0.0, 0.08),
    "report": (0.05, 0.05, 0.35, 0.5, 0.05),
    "help": (0.08, 0.7, 0.2, 0.0, 0.02),
}
CONSULT_HEAVY = {"GOV", "GOV.CONSULT", "GOV.SERVICE", "GOV.HUKOU", "HEALTH.INSURANCE", "LABOR.SOCIALINS",
                 "LABOR.JOBS", "REALTY.AFFORDABLE", "SOCIAL.ASSISTANCE", "UTIL.HEAT.FEE", "EDU.ENROLL"}
REPORT_HEAVY = {"CITY.ILLEGALBUILD", "REALTY.GROUPRENT", "MARKET.LICENSE", "MARKET.FOOD", "MARKET.DRUG",
                "SAFETY.WORKPLACE", "TRAFFIC.UNLICENSED", "ENV.AIR", "MARKET.PRICE", "REALTY.AGENCY"}
TYPES = (AppealType.CONSULTATION, AppealType.HELP, AppealType.COMPLAINT, AppealType.REPORT, AppealType.SUGGESTION)


def type_weights(category: str) -> tuple[float, ...]:
    if category in CONSULT_HEAVY:
        return TYPE_BY_CATEGORY["consult"]
    if category in REPORT_HEAVY:
        return TYPE_BY_CATEGORY["report"]
    if category.startswith("UTIL."):
        return TYPE_BY_CATEGORY["help"]
    return TYPE_DEFAULT


CHANNELS = (Channel.PHONE, Channel.APP, Channel.WECHAT, Channel.WEB, Channel.WEIBO, Channel.LETTER, Channel.TRANSFER_IN)
CHANNEL_WEIGHTS = (0.62, 0.14, 0.12, 0.075, 0.015, 0.005, 0.025)
#: Channels that send the phone's position with the appeal.
LOCATED = {Channel.APP: 0.85, Channel.WECHAT: 0.7, Channel.WEB: 0.25}

#: The intake decisions: consultations answered on the spot; of the categories that can be
#: emergencies, those transferred to 110/119/120/122; of the rest, those not accepted (outside
#: what the hotline handles) and those held for an operator; of those dispatched, those
#: transferred out to the Tianjin or Hebei hotline.
ANSWERED_SHARE = 0.55
EMERGENCY_SHARE = 0.06
NOT_ACCEPTED_SHARE = 0.012
HOLD_SHARE = 0.006
TRANSFER_OUT_SHARE = 0.003

#: Emergencies are transferred: which service, for the categories that can be one.
EMERGENCY_SERVICE = {"SAFETY.FIRE": "119", "UTIL.GAS.LEAK": "119", "SAFETY.ORDER": "110",
                     "TRAFFIC.CONGESTION": "122", "HEALTH.SERVICE": "120", "GREEN.TREEHAZARD": "119"}

# --- time ---------------------------------------------------------------------------------------

#: Calls by hour of the day (Beijing time).
HOUR_WEIGHTS = (0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 1.2, 2.5, 3.2, 3.3, 3.0,
                2.2, 2.6, 3.0, 3.0, 2.8, 2.4, 1.8, 1.7, 1.8, 1.6, 1.0, 0.6)
WEEKDAY = (1.15, 1.06, 1.04, 1.03, 1.0, 0.74, 0.7)
MONTH = (0.95, 0.85, 0.95, 1.0, 1.0, 1.05, 1.1, 1.1, 1.0, 0.95, 1.1, 1.12)


@dataclass(frozen=True)
class Surge:
    """A problem rising in one street over the last days before `as_of` (for "rising problems")."""

    name: str
    category: str
    street: str
    days: int
    share: float  # of all appeals


SURGES = (
    Surge("lights-wangjing", "MUNI.STREETLIGHT", "110105-WANGJING", 30, 0.00012),
    Surge("night-works-beiyuan", "ENV.WORKSNOISE", "110112-BEIYUAN", 21, 0.00006),
)


@dataclass(frozen=True)
class Day:
    day: date
    start: datetime  # the first instant generated (midnight, Beijing)
    end: datetime  # the last (midnight, or as_of on the last day)
    count: int  # appeals received that day, surges included
    first_no: int  # the number of the first (the sequence value)
    surges: tuple[tuple[str, int], ...]  # (surge name, how many of the day's appeals)


def window(as_of: datetime) -> date:
    """The first day generated: the first of the month 13 months before `as_of`'s month."""
    local = as_of.astimezone(CHINA_TZ).date()
    months = local.year * 12 + local.month - 1 - 13
    return date(months // 12, months % 12 + 1, 1)


def plan_days(n: int, as_of: datetime, seed: int, holidays: set[date], first_no: int) -> list[Day]:
    """How many appeals each day receives, adding up to exactly `n`."""
    first = window(as_of)
    local_now = as_of.astimezone(CHINA_TZ)
    last = local_now.date()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    total_days = len(days)
    surge_total = {s.name: min(max(round(n * s.share), 12), n // 20) for s in SURGES}  # visible even in small sets
    base_n = n - sum(surge_total.values())
    weights = []
    for i, d in enumerate(days):
        w = WEEKDAY[d.weekday()] * MONTH[d.month - 1] * (0.7 if d in holidays else 1.0)
        w *= 0.9 + 0.2 * i / total_days  # the volume keeps rising, ~20 % over the window
        if d == last:
            seconds = (local_now - datetime.combine(d, time(), CHINA_TZ)).total_seconds()
            w *= max(seconds, 60) / 86400
        weights.append(w)
    counts = _allocate(base_n, weights, rng_for(seed, "days"))
    surge_days: dict[date, list[tuple[str, int]]] = {}
    for s in SURGES:
        ramp = [days[-s.days + j] for j in range(s.days)] if s.days <= total_days else days
        per_day = _allocate(surge_total[s.name], [1 + 3 * j / len(ramp) for j in range(len(ramp))], rng_for(seed, s.name))
        for d, k in zip(ramp, per_day):
            if k:
                surge_days.setdefault(d, []).append((s.name, k))
    out, number = [], first_no
    for d, c in zip(days, counts):
        extra = surge_days.get(d, [])
        total = c + sum(k for _, k in extra)
        start = datetime.combine(d, time(), CHINA_TZ)
        end = local_now if d == last else start + timedelta(days=1)
        out.append(Day(d, start, end, total, number, tuple(extra)))
        number += total
    return out


def _allocate(n: int, weights: list[float], rng: random.Random) -> list[int]:
    """Split `n` in proportion to `weights` (largest remainders, ties broken at random)."""
    total = sum(weights)
    if n <= 0 or total <= 0:
        return [0] * len(weights)
    raw = [n * w / total for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (raw[i] - counts[i], rng.random()), reverse=True)
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def unit_quality(seed: int, unit: str) -> float:
    """How well a unit handles its appeals, 0..1 (most are decent, a few are poor)."""
    return rng_for(seed, "quality", unit).betavariate(5, 2)


def street_weight(seed: int, code: str, kind: UnitKind) -> float:
    """Some streets call much more than others (townships less than city streets)."""
    return rng_for(seed, "street", code).lognormvariate(0, 0.5) * (0.5 if kind is UnitKind.TOWNSHIP else 1.0)
