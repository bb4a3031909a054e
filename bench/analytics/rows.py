"""From a planned day to the rows PostgreSQL receives: who calls about what and where (category,
district, street, address, coordinates, channel, type, decision, text), the life it lives
(`paths.live`), and the appeal row, timeline, parts and exclusion reviews exactly as the intake and
the projection activity (`activities.appeals.project_appeal`) would have written them."""

from __future__ import annotations

import hashlib
import itertools
import json
import zlib
from bisect import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

try:  # the topics of an appeal's text, written at intake
    from analytics import topics
except ImportError:  # pragma: no cover - before the analytics work lands
    topics = None

from activities.appeals import _contacted_in_time
from bench.analytics import mix, texts
from bench.analytics.life import Life
from bench.analytics.paths import Extra, live, operator
from bench.analytics.world import Place, World
from domain.calendar import CHINA_TZ
from domain.messages import AppealInput, EmergencyService, IntakeDecision, NotAcceptedReason
from domain.types import AppealType, Channel, UnitKind, Urgency

#: The columns written, in order (the rest keep their defaults, as an intake leaves them).
APPEAL_COLUMNS = (
    "appeal_no", "workflow_id", "idempotency_fingerprint", "status", "channel", "appeal_type",
    "category_code", "urgency", "district_code", "street_code", "location_address", "latitude", "longitude",
    "content", "attachments", "handling_unit_code", "received_at", "dispatched_at", "contact_deadline",
    "completion_deadline", "closed_at", "overdue", "supervised", "rehandle_count", "resolved", "satisfaction",
    "outcome", "supervision_level", "master_no", "link_kind", "origin_hotline", "origin_no",
    "contacted_in_time", "citizen_contacted", "excluded", "state", "seq", "created_at", "updated_at",
)
EVENT_COLUMNS = ("idem_key", "appeal_no", "seq", "kind", "actor", "actor_role", "unit_code", "detail",
                 "occurred_at", "recorded_at")
PART_COLUMNS = ("appeal_no", "unit_code", "kind", "workflow_id", "task", "status", "requested_at", "due",
                "accepted_at", "done_at", "overdue", "rating", "rating_comment", "closed_reason", "updated_at")
EXCLUSION_COLUMNS = ("appeal_no", "excluded", "reason", "username", "role", "at")


def topic_columns() -> tuple[str, ...] | None:
    """`appeal_topic` as `analytics.topics` writes it at intake (None while that module is missing)."""
    if topics is None:
        return None
    return tuple(topics.topic_rows(SimpleNamespace(appeal_no="", content="", received_at=None, category_code="",
                                                   district_code=None, street_code=None))[0])

#: Problems that keep coming back to the same place (the weeds that grew back).
RECURRING = ("GREEN.WEEDS", "CITY.GARBAGE", "MUNI.STREETLIGHT", "MUNI.DRAIN", "PARKING.ILLEGAL", "ENV.FUMES",
             "ENV.NOISE", "CITY.VENDOR", "HOUSING.PROPERTY", "UTIL.HEAT.NOHEAT", "MUNI.ROAD", "CITY.ADS",
             "HOUSING.LIFTFAULT", "TRAFFIC.BIKESHARE")
#: Problems that are rarely about one spot: most of their appeals give only the district.
PLACELESS = ("MARKET.ONLINE", "HEALTH.", "GOV.", "LABOR.", "EDU.", "TRAFFIC.SUBWAY", "TRAFFIC.TAXI", "MARKET.TOURISM",
             "REALTY.CERT", "SOCIAL.ASSISTANCE")
NOT_ACCEPTED = (NotAcceptedReason.OUTSIDE_REMIT, NotAcceptedReason.LITIGATION, NotAcceptedReason.PETITION,
                NotAcceptedReason.ILLEGAL_DEMAND)
ASSESSED = ("resolved", "unresolved", "not_evaluated")
HOT_SHARE = 0.045  # of appeals at a place where the same problem comes back


@dataclass
class Batch:
    appeals: list[tuple] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)
    parts: list[tuple] = field(default_factory=list)
    exclusions: list[tuple] = field(default_factory=list)
    topics: list[tuple] = field(default_factory=list)

    def extend(self, other: Batch) -> None:
        self.appeals += other.appeals
        self.events += other.events
        self.parts += other.parts
        self.exclusions += other.exclusions
        self.topics += other.topics


@dataclass(frozen=True)
class HotPlace:
    category: str
    place: Place
    address: str
    lat: float
    lon: float


class Generator:
    """Turns planned days into rows. One per worker; deterministic for (seed, as_of, n, day)."""

    def __init__(self, world: World, seed: int, as_of: datetime, n: int) -> None:
        self.world, self.seed, self.as_of = world, seed, as_of
        cats = world.categories
        themes = sorted(c for c in cats if cats[c].parent_code is None)
        pains = {c for c in cats if cats[c].pain_point}
        self.weights = mix.category_weights(world.leaves, pains, themes, seed)
        self.codes = sorted(self.weights)
        self.districts = [d for d in sorted(world.streets) if d in mix.DISTRICT_WEIGHT]
        self.district_cum = list(itertools.accumulate(mix.DISTRICT_WEIGHT[d] for d in self.districts))
        self.places = {d: world.streets[d] for d in self.districts}
        self.place_cum = {
            d: list(itertools.accumulate(mix.street_weight(seed, p.code, p.kind) for p in ps)) for d, ps in self.places.items()
        }
        self.townships = {d: [p for p in ps if p.kind is UnitKind.TOWNSHIP] for d, ps in self.places.items()}
        self.by_code = {p.code: p for ps in self.places.values() for p in ps}
        self.communities = {c: texts.communities(p, mix.rng_for(seed, "communities", c)) for c, p in self.by_code.items()}
        self.roads = {c: texts.roads(p, mix.rng_for(seed, "roads", c)) for c, p in self.by_code.items()}
        self.centre = {c: self._street_centre(p) for c, p in self.by_code.items()}
        self.hot = self._hot_places(max(20, n // 450))
        # a gentle Zipf: the busiest place has a few appeals a week, the quietest one or two a month
        self.hot_cum = list(itertools.accumulate(1 / (i + 1) ** 0.2 for i in range(len(self.hot))))
        self._quality: dict[str, float] = {}
        self._cum_by_day: dict[Any, list[float]] = {}
        self._type_cum: dict[str, list[float]] = {}
        self.last_at: dict[int, tuple[str, datetime | None, str | None]] = {}  # hot place → its last appeal

    # --- places ----------------------------------------------------------------------------
    def _street_centre(self, p: Place) -> tuple[float, float]:
        lat, lon = mix.DISTRICT_CENTRE.get(p.district, (39.9, 116.4))
        h = zlib.crc32(p.code.encode())
        return lat + ((h & 0xFFFF) / 0xFFFF - 0.5) * 0.09, lon + ((h >> 16) / 0xFFFF - 0.5) * 0.11

    def _coords(self, street: str, address: str) -> tuple[float, float]:
        lat, lon = self.centre[street]
        h = zlib.crc32(address.encode())
        return round(lat + ((h & 0xFFFF) / 0xFFFF - 0.5) * 0.025, 6), round(lon + ((h >> 16) / 0xFFFF - 0.5) * 0.03, 6)

    def _hot_places(self, count: int) -> list[HotPlace]:
        rng = mix.rng_for(self.seed, "hot-places")
        out = []
        for _ in range(count):
            district = self.districts[bisect(self.district_cum, rng.random() * self.district_cum[-1])]
            place = self._street(rng, district)
            addr = texts.address(rng, self.communities[place.code], self.roads[place.code])
            lat, lon = self._coords(place.code, addr)
            out.append(HotPlace(rng.choice(RECURRING), place, addr, lat, lon))
        return out

    def _street(self, rng, district: str) -> Place:
        cum = self.place_cum[district]
        return self.places[district][bisect(cum, rng.random() * cum[-1])]

    def quality(self, unit: str) -> float:
        q = self._quality.get(unit)
        if q is None:
            q = self._quality[unit] = mix.unit_quality(self.seed, unit)
        return q

    # --- a day -------------------------------------------------------------------------------
    def day(self, day: mix.Day) -> Batch:
        rng = mix.rng_for(self.seed, "day", day.day.isoformat())
        span = (day.end - day.start).total_seconds()
        hour_cum = list(itertools.accumulate(
            w * max(0.0, min(1.0, (span - h * 3600) / 3600)) for h, w in enumerate(mix.HOUR_WEIGHTS)))
        offsets = sorted(
            (h + rng.random()) * 3600 for h in (bisect(hour_cum, rng.random() * hour_cum[-1]) for _ in range(day.count))
        )
        surge_slots = {}
        slots = rng.sample(range(day.count), sum(k for _, k in day.surges)) if day.surges else []
        it = iter(slots)
        for name, k in day.surges:
            for _ in range(k):
                surge_slots[next(it)] = name
        season = tuple(mix.season_factor(c, day.day) for c in self.codes)
        cum = self._cum_by_day.get(season)
        if cum is None:
            cum = self._cum_by_day[season] = list(itertools.accumulate(self.weights[c] * s for c, s in zip(self.codes, season)))
        batch = Batch()
        for i, offset in enumerate(offsets):
            received = (day.start + timedelta(seconds=min(offset, span - 0.001))).astimezone(UTC)
            no = f"BJ-{day.day:%Y%m%d}-{day.first_no + i:06d}"
            self._appeal(rng, batch, no, received, cum, surge_slots.get(i))
        return batch

    def _appeal(self, rng, batch: Batch, no: str, received: datetime, cum: list[float], surge: str | None) -> None:
        world = self.world
        hot_id = None
        address = None
        if surge is not None:
            s = next(s for s in mix.SURGES if s.name == surge)
            category, place = s.category, self.by_code[s.street]
            district = place.district
            address = rng.choice(self.communities[place.code][:4]) + "门口"
        else:
            category = self.codes[bisect(cum, rng.random() * cum[-1])]
            if rng.random() < HOT_SHARE:
                hot_id = bisect(self.hot_cum, rng.random() * self.hot_cum[-1])
                hot = self.hot[hot_id]
                if mix.season_factor(hot.category, received.astimezone(CHINA_TZ).date()) >= 0.3:
                    category, place, district, address = hot.category, hot.place, hot.place.district, hot.address
                else:
                    hot_id = None
            if hot_id is None:
                district = self.districts[bisect(self.district_cum, rng.random() * self.district_cum[-1])]
                if category.startswith("RURAL") and self.townships[district]:
                    place = rng.choice(self.townships[district])
                elif rng.random() < (0.65 if category.startswith(PLACELESS) else 0.06):
                    place = None
                else:
                    place = self._street(rng, district)
                if place is not None and rng.random() < 0.85:
                    address = texts.address(rng, self.communities[place.code], self.roads[place.code])
        cat = world.categories[category]
        channel = mix.CHANNELS[bisect(_CHANNEL_CUM, rng.random())]
        type_cum = self._type_cum.get(category)
        if type_cum is None:
            type_cum = self._type_cum[category] = list(itertools.accumulate(mix.type_weights(category)))
        appeal_type = mix.TYPES[bisect(type_cum, rng.random() * type_cum[-1])]
        urgency = Urgency(cat.default_urgency)
        decision, reason, service = IntakeDecision.DISPATCH, None, None
        if appeal_type is AppealType.CONSULTATION and rng.random() < mix.ANSWERED_SHARE:
            decision = IntakeDecision.ANSWER
        elif category in mix.EMERGENCY_SERVICE and rng.random() < mix.EMERGENCY_SHARE:
            decision, service = IntakeDecision.EMERGENCY, EmergencyService(mix.EMERGENCY_SERVICE[category])
        else:
            r = rng.random()
            if r < mix.NOT_ACCEPTED_SHARE:
                decision, reason = IntakeDecision.NOT_ACCEPTED, rng.choice(NOT_ACCEPTED)
            elif r < mix.NOT_ACCEPTED_SHARE + mix.HOLD_SHARE:
                decision = IntakeDecision.HOLD
        inp = AppealInput(
            appeal_no=no, channel=channel, appeal_type=appeal_type, category=category, urgency=urgency,
            district=district, street=place.code if place else None, received_at=received, decision=decision,
            not_accepted_reason=reason, emergency_service=service,
            answer=rng.choice(texts.ANSWERS) if decision is IntakeDecision.ANSWER else None,
            operator=operator(rng.randint(1, 300)),
        )
        extra = Extra()
        if hot_id is not None:
            last = self.last_at.get(hot_id)
            if last is not None and last[1] is not None and last[1] < received and last[2] == "resolved" and rng.random() < 0.35:
                extra.master_no = last[0]
        if decision is IntakeDecision.DISPATCH and rng.random() < mix.TRANSFER_OUT_SHARE:
            extra.transfer_out = rng.choice(("tianjin", "hebei"))
        life = live(inp, extra, world, rng, self.as_of, self.quality)
        view = life.view
        if hot_id is not None:
            self.last_at[hot_id] = (no, view.closed_at, view.outcome.value if view.outcome else None)
        loc = texts.location_phrase(rng, place, world.districts[district], address)
        text = texts.content(rng, category, cat.name_zh, loc)
        lat = lon = None
        if address and rng.random() < mix.LOCATED.get(channel, 0.0):
            if hot_id is not None:
                lat, lon = self.hot[hot_id].lat, self.hot[hot_id].lon
            else:
                lat, lon = self._coords(place.code, address)
            lat, lon = round(lat + rng.uniform(-3e-4, 3e-4), 6), round(lon + rng.uniform(-3e-4, 3e-4), 6)
        attachments = "[]"
        if channel in (Channel.APP, Channel.WECHAT) and rng.random() < 0.4:
            attachments = f'["attachments/{received:%Y/%m/%d}/{rng.getrandbits(40):010x}.jpg"]'
        origin = (rng.choice(("tianjin", "hebei")), f"{rng.randint(10**9, 10**10 - 1)}") if channel is Channel.TRANSFER_IN else (None, None)
        excluded = False
        if view.outcome is not None and view.outcome.value in ASSESSED and view.handling_unit is not None:
            excluded = self._exclusions(rng, batch, no, view.closed_at, 0.05 if hot_id is not None else 0.01)
        self._rows(batch, life, no, channel, address, lat, lon, text, attachments, origin, excluded, received)
        if topics is not None:
            for row in topics.topic_rows(SimpleNamespace(
                    appeal_no=no, content=text, received_at=received, category_code=category,
                    district_code=district, street_code=place.code if place else None)):
                batch.topics.append(tuple(row.values()))

    def _exclusions(self, rng, batch: Batch, no: str, closed_at: datetime, share: float) -> bool:
        """Found unreasonable on review (sometimes put back later): the audit rows and the flag."""
        if rng.random() >= share:
            return False
        at = closed_at + timedelta(hours=rng.uniform(4, 120))
        if at > self.as_of:
            return False
        who = f"supervisor-{rng.randint(1, 9)}"
        batch.exclusions.append((no, True, rng.choice(texts.EXCLUSION_REASONS), who, "supervisor", at))
        back = at + timedelta(hours=rng.uniform(2, 96))
        if rng.random() < 0.06 and back <= self.as_of:
            batch.exclusions.append((no, False, "复核后认为诉求合理，恢复计入考核", "supervisor-city-1", "supervisor", back))
            return False
        return True

    def _rows(self, batch: Batch, life: Life, no, channel, address, lat, lon, text, attachments, origin, excluded, received):
        view = life.view
        limits = view.limits
        contact = limits.get("contact")
        last_at = life.events[-1].at
        batch.appeals.append((
            no, f"appeal-{no}", hashlib.sha256(no.encode()).hexdigest(), view.status.value, channel.value,
            view.appeal_type.value, view.category, view.urgency.value, view.district, view.street, address, lat, lon,
            text, attachments, view.handling_unit, received, view.dispatched_at,
            contact.due if contact is not None else None,
            limits["completion"].due if "completion" in limits else None,
            view.closed_at, view.overdue, view.supervised, view.rehandle_count, view.resolved,
            view.satisfaction.value if view.satisfaction else None, view.outcome.value if view.outcome else None,
            view.supervision_level, view.master_no, view.link_kind, origin[0], origin[1],
            _contacted_in_time(contact), view.citizen_contacted.value if view.citizen_contacted else None,
            excluded, view.model_dump_json(), view.seq,
            received + _MS * 7, last_at + _MS * 12,
        ))
        for e in life.events:
            actor = e.actor
            batch.events.append((
                f"{no}:{e.seq}", no, e.seq, e.kind, actor.user if actor else None,
                (actor.role.value if actor.role else "citizen") if actor else None, e.unit,
                _json(e.detail), e.at, e.at + _MS * 9,
            ))
        for p in view.parts.values():
            batch.parts.append((
                no, p.unit, p.kind.value, p.workflow_id, p.task, p.status.value, p.requested_at, p.due,
                p.accepted_at, p.done_at, p.overdue, p.rating, p.rating_comment, p.closed_reason, last_at + _MS * 12,
            ))


_MS = timedelta(milliseconds=1)
_CHANNEL_CUM = [c / sum(mix.CHANNEL_WEIGHTS) for c in itertools.accumulate(mix.CHANNEL_WEIGHTS)]


_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # one encoder, not one per event
