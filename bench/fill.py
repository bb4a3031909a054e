"""Filling a private stack with open appeals by the fastest honest route: the intake is the
API's own (`api.intake.take_intake` records the appeal, its citizen's sealed contact and its
topics in PostgreSQL, `start_appeal` starts the workflow with the input the API builds and gets
its view back), called in-process rather than over HTTP; every later step is the workflow's real
Update with the input the API would send (`AppealWorkflow.accept`, …), straight to Temporal.
Nothing is skipped: the workflow loads its terms, routes, projects every event, sets its search
attributes and arms its timers, days long, as for any appeal.

Open appeals end in the states a city's open orders are in, in shares set by `MIX`: dispatched
and not yet accepted, accepted, contacted, in progress after a phased report, sent back for
re-handling after an unresolved return visit, and waiting on a co-handling unit (a child
workflow)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.intake import AppealCreate, start_appeal, take_intake
from db.pii import Sealer
from db.reference import Directory, DirectoryCache
from db.session import make_engine
from db.users import DemoUser, ensure_users
from domain.collaboration import PartsRequestInput
from domain.messages import (
    Actor,
    AppealAcceptInput,
    AppealCompleteInput,
    AppealEvaluateInput,
    ContactRecordInput,
    PhasedReportInput,
    Satisfaction,
)
from domain.routing import NoRoute
from domain.types import AppealType, Role, UnitKind
from infra.appeals import workflow_id
from settings import Settings
from workflows.appeal import AppealWorkflow

#: (state, share of the open orders): a busy day's open book, most of it being handled.
MIX = (
    ("dispatched", 0.15),
    ("accepted", 0.20),
    ("contacted", 0.25),
    ("in_progress", 0.20),
    ("rehandling", 0.10),
    ("with_part", 0.10),
)
#: The steps that take an appeal to each state after its intake.
STEPS = {
    "dispatched": (),
    "accepted": ("accept",),
    "contacted": ("accept", "contact"),
    "in_progress": ("accept", "contact", "phased_report"),
    "rehandling": ("accept", "contact", "complete", "evaluate_unresolved"),
    "with_part": ("accept", "contact", "co_handling"),
}
#: The states in which a unit's phased report is taken (the action the benchmarks probe with).
HANDLED = ("accepted", "contacted", "in_progress", "rehandling", "with_part")

TEXTS = (
    "胡同路灯昏暗，晚上经常有人摔跤",
    "小区门口道路积水，出行不便",
    "楼下餐馆油烟扰民",
    "人行道被共享单车堵塞",
    "供暖温度不达标，室内只有十四度",
    "施工噪音夜间持续到十二点以后",
)
OPERATOR = Actor(user="operator", role=Role.OPERATOR)
PASSWORD = "jiesu-bench-2026"


@dataclass(frozen=True)
class Place:
    """A category at a street, and the unit the catalogue sends it to."""

    category: str
    district: str
    street: str
    unit: str


@dataclass
class Filled:
    appeal_no: str
    state: str
    unit: str


def places(directory: Directory, rng: random.Random, n: int = 8) -> list[Place]:
    """`n` (category, street) pairs the catalogue routes to `n` different units."""
    streets = sorted(
        c for c, u in directory.units.items() if u.kind in (UnitKind.STREET, UnitKind.TOWNSHIP) and u.active
    )
    categories = sorted(directory.categories)
    found: dict[str, Place] = {}
    for _ in range(5000):
        category, street = rng.choice(categories), rng.choice(streets)
        district = directory.units[street].district
        try:
            unit = directory.route(category=category, district=district, street=street).unit
        except NoRoute:
            continue
        if unit and unit not in found and directory.units.get(unit) and directory.units[unit].active:
            found[unit] = Place(category, district or "", street, unit)
        if len(found) == n:
            break
    return list(found.values())


def staff(unit: str) -> Actor:
    return Actor(user=f"bench-{unit}"[:64], role=Role.UNIT_STAFF, unit=unit)


class Filler:
    def __init__(self, database_url: str, temporal: Client, *, seed: int = 18) -> None:
        self.settings = Settings(database_url=database_url)
        self.engine: AsyncEngine = make_engine(self.settings)
        self.temporal = temporal
        self.sealer = Sealer.from_settings(self.settings)
        self.directories = DirectoryCache(self.engine)
        self.rng = random.Random(seed)
        self.places: list[Place] = []
        self.others: list[str] = []  # units a lead may ask to co-handle

    async def prepare(self, n_places: int = 8) -> list[Place]:
        """Choose the places and make a unit-staff account for each unit (so the benchmarks'
        HTTP probes can act as it)."""
        directory = await self.directories.get()
        self.places = places(directory, self.rng, n_places)
        self.others = sorted(
            u
            for u, f in directory.units.items()
            if f.kind in (UnitKind.MUNICIPAL_DEPARTMENT, UnitKind.DISTRICT_DEPARTMENT) and f.active
        )
        users = tuple(DemoUser(staff(p.unit).user, f"bench {p.unit}", Role.UNIT_STAFF, p.unit) for p in self.places)
        await ensure_users(self.engine, users, PASSWORD)
        return self.places

    def body(self, place: Place, i: int) -> AppealCreate:
        return AppealCreate(
            appeal_type=self.rng.choice([AppealType.COMPLAINT, AppealType.HELP, AppealType.SUGGESTION]),
            category=place.category,
            location={"street": place.street, "address": f"{self.rng.randint(1, 200)}号院"},
            content=f"{self.rng.choice(TEXTS)}（第{i}件）",
            citizen={"name": "刘先生", "phone": f"138{self.rng.randint(0, 99_999_999):08d}"},
        )

    async def intake(self, body: AppealCreate) -> tuple[str, str | None]:
        """The API's intake, in-process: the appeal number and the unit it was dispatched to."""
        directory = await self.directories.get()
        row, inp, _ = await take_intake(
            body, engine=self.engine, directory=directory, sealer=self.sealer, operator=OPERATOR, idempotency_key=None
        )
        view = await start_appeal(self.temporal, self.settings, row, inp, compensate=True, engine=self.engine)
        return row.appeal_no, (view.handling_unit if view else inp.unit)

    async def step(self, no: str, unit: str, step: str, i: int = 0) -> None:
        handle = self.temporal.get_workflow_handle(workflow_id(no))
        actor = staff(unit)
        match step:
            case "accept":
                await handle.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=actor))
            case "contact":
                await handle.execute_update(
                    AppealWorkflow.record_contact, ContactRecordInput(actor=actor, note="已电话联系")
                )
            case "phased_report":
                await handle.execute_update(
                    AppealWorkflow.phased_report, PhasedReportInput(actor=actor, progress=f"已派人查看，第{i}次进展")
                )
            case "complete":
                await handle.execute_update(AppealWorkflow.complete, AppealCompleteInput(actor=actor, result="已处理"))
            case "evaluate_unresolved":
                await handle.execute_update(
                    AppealWorkflow.evaluate,
                    AppealEvaluateInput(actor=OPERATOR, resolved=False, satisfaction=Satisfaction.UNSATISFIED),
                )
            case "co_handling":
                other = self.rng.choice([u for u in self.others if u != unit])
                await handle.execute_update(
                    AppealWorkflow.request_parts,
                    PartsRequestInput(actor=actor, units=[other], task="请协助核实现场情况", limit_working_days=3),
                )
            case _:
                raise ValueError(f"unknown step {step!r}")

    async def one(self, i: int, state: str) -> Filled | None:
        place = self.places[i % len(self.places)]
        no, unit = await self.intake(self.body(place, i))
        if unit is None:
            return None  # held for an operator: open, but not in the mix's states
        for step in STEPS[state]:
            await self.step(no, unit, step, i)
        return Filled(no, state, unit)

    def state_for(self, i: int) -> str:
        """The i-th appeal's state: the mix, dealt out evenly in a fixed order."""
        r = (i * 0.6180339887) % 1.0  # golden-ratio spacing: the shares hold at every count
        for state, share in MIX:
            if r < share:
                return state
            r -= share
        return MIX[-1][0]

    async def close(self) -> None:
        await self.engine.dispose()
