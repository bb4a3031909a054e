"""Record workflow histories for the replay tests: `python -m tests.histories.record`.

Runs a set of appeals on the time-skipping server (with an embedded PostgreSQL) and writes each
history to tests/histories/<name>.json: finished ones and ones still in flight. Re-record only to
add cases; the point of the files is that they were made by older code.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from db.migrate import migrate
from db.session import make_engine
from devstack.ports import free_port
from devstack.postgres import EmbeddedPostgres
from domain.messages import (
    AppealAcceptInput,
    AppealCompleteInput,
    AppealEvaluateInput,
    ContactRecordInput,
    IntakeDecision,
    ObjectionRaiseInput,
    ObjectionReviewInput,
    PhasedReportInput,
    Satisfaction,
)
from domain.types import AppealType, Urgency
from infra.temporal import register_search_attributes, venv_bin
from tests.conftest import settings_for
from tests.workflows.conftest import OPERATOR, AppealRun, staff
from worker import build_worker
from workflows.appeal import AppealWorkflow
from workflows.converter import DATA_CONVERTER

HERE = Path(__file__).parent
LIGHTING = staff("BJ-LIGHTING")


async def street_lights_resolved_after_rehandling(run: AppealRun, env):
    h = await run.start()
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=LIGHTING))
    await h.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=LIGHTING))
    await h.execute_update(AppealWorkflow.complete, AppealCompleteInput(actor=LIGHTING, result="33 lamps"))
    await h.execute_update(AppealWorkflow.evaluate, AppealEvaluateInput(actor=OPERATOR, resolved=False, satisfaction=Satisfaction.UNSATISFIED))
    await h.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=LIGHTING))
    await h.execute_update(AppealWorkflow.complete, AppealCompleteInput(actor=LIGHTING, result="arm lamps"))
    await h.execute_update(AppealWorkflow.evaluate, AppealEvaluateInput(actor=OPERATOR, resolved=True, satisfaction=Satisfaction.SATISFIED))
    await h.result()
    return h


async def objection_upheld_in_flight(run: AppealRun, env):
    h = await run.start(category="CITY.GARBAGE", street="110105-CHAOWAI", district="110105")
    await h.execute_update(AppealWorkflow.raise_objection, ObjectionRaiseInput(actor=staff("110105-CHAOWAI"), reason="developer's land", suggested_unit="110105-CGW"))
    await h.execute_update(AppealWorkflow.review_objection, ObjectionReviewInput(actor=OPERATOR, uphold=True))
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff("110105-CGW")))
    return h


async def overdue_in_flight(run: AppealRun, env):
    h = await run.start(urgency=Urgency.UTILITY, category="UTIL.WATER.OUTAGE")
    await env.sleep(timedelta(hours=25))
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff("BJ-WATER")))
    await h.execute_update(AppealWorkflow.phased_report, PhasedReportInput(actor=staff("BJ-WATER"), progress="pipe ordered", reason="main burst"))
    return h


async def answered_not_evaluated(run: AppealRun, env):
    h = await run.start(appeal_type=AppealType.CONSULTATION, category="GOV.CONSULT", decision=IntakeDecision.ANSWER, answer="…")
    await h.result()
    return h


async def signal_rejected_in_flight(run: AppealRun, env):
    h = await run.start()
    await h.signal(AppealWorkflow.accept_signal, AppealAcceptInput(actor=staff("BJ-WATER")))
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=LIGHTING))
    return h


async def signal_with_phone_refused_in_flight(run: AppealRun, env):
    """A signal sent past the API with a phone in its text: refused (since
    refuse-personal-data-in-signals), then a clean one applied."""
    h = await run.start()
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=LIGHTING))
    await h.signal(AppealWorkflow.phased_report_signal, PhasedReportInput(actor=LIGHTING, progress="电话１３９ 0000 0000"))
    await h.signal(AppealWorkflow.phased_report_signal, PhasedReportInput(actor=LIGHTING, progress="3 lamps done"))
    await h.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=LIGHTING))  # after both signals
    return h


async def whistle_in_flight(run: AppealRun, env):
    from domain import collaboration as more
    from domain.messages import PartAcceptInput, PartKind, PartReportInput, part_workflow_id
    from workflows.cohandling import CoHandlingWorkflow

    street = staff("110105-YAYUNCUN")
    h = await run.start(unit="110105-YAYUNCUN", category="MUNI.DEADENDROAD", street="110105-YAYUNCUN", district="110105")
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=street))
    await h.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=street))
    units = ["110105-CGW", "110105-ZJW"]
    await h.execute_update(AppealWorkflow.request_parts, more.PartsRequestInput(actor=street, kind=PartKind.WHISTLE, units=units, task="open the road"))
    no = h.id.removeprefix("appeal-")
    part = run.client.get_workflow_handle(part_workflow_id(no, PartKind.WHISTLE, units[0]))
    await part.execute_update(CoHandlingWorkflow.accept, PartAcceptInput(actor=staff(units[0]), plan="paving"))
    await part.execute_update(CoHandlingWorkflow.report, PartReportInput(actor=staff(units[0]), result="paved"))
    await part.result()
    await env.sleep(timedelta(hours=25))  # the other department does not report in: escalated
    await h.execute_update(AppealWorkflow.rate_part, more.PartRateInput(actor=street, unit=units[0], rating=5))
    return [h, part]


async def routed_at_intake_in_flight(run: AppealRun, env):
    """Started as the API starts it since intake routes by the catalogue: with its unit."""
    h = await run.start(unit="BJ-LIGHTING", unit_from_catalogue=True)
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=LIGHTING))
    await h.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=LIGHTING))
    return h


async def cancelled_with_a_part(run: AppealRun, env):
    """An administrator's Request Cancellation: the appeal closes, its part with it."""
    from temporalio.client import WorkflowFailureError

    from domain import collaboration as more

    h = await run.start()
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=LIGHTING))
    await h.execute_update(AppealWorkflow.request_parts, more.PartsRequestInput(actor=LIGHTING, units=["BJ-POWER"], task="power"))
    await h.cancel(reason="entered twice")
    try:
        await h.result()
    except WorkflowFailureError:
        pass  # ends as cancelled, once the appeal is closed
    return h


async def late_rehandled_missed_again_in_flight(run: AppealRun, env):
    """Completed late, sent back unresolved (overdue cleared since rehandling-clears-overdue),
    then the new contact limit missed too."""
    h = await run.start()
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=LIGHTING))
    await h.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=LIGHTING))
    await env.sleep(timedelta(days=8))
    await h.execute_update(AppealWorkflow.complete, AppealCompleteInput(actor=LIGHTING, result="33 lamps", late_reason="parts"))
    await h.execute_update(AppealWorkflow.evaluate, AppealEvaluateInput(actor=OPERATOR, resolved=False, satisfaction=Satisfaction.UNSATISFIED))
    await env.sleep(timedelta(hours=25))
    await h.execute_update(AppealWorkflow.phased_report, PhasedReportInput(actor=LIGHTING, progress="arm lamps ordered", reason="parts"))
    return h


async def part_closed_by_lead_in_flight(run: AppealRun, env):
    """The lead closes a part: the part's echo of the close is not recorded twice since
    part-close-told-once."""
    from domain import collaboration as more
    from domain.messages import part_workflow_id

    h = await run.start()
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=LIGHTING))
    await h.execute_update(AppealWorkflow.request_parts, more.PartsRequestInput(actor=LIGHTING, units=["BJ-POWER"], task="power"))
    await h.execute_update(AppealWorkflow.close_part, more.PartCloseRequestInput(actor=LIGHTING, unit="BJ-POWER", reason="done by us"))
    part = run.client.get_workflow_handle(part_workflow_id(h.id.removeprefix("appeal-"), "co_handling", "BJ-POWER"))
    await part.result()
    await h.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=LIGHTING))
    return h


async def held_dispatched_by_catalogue_in_flight(run: AppealRun, env):
    """A held order the operator sends to the catalogue's unit: its dispatch says so since
    dispatch-says-who-chose (older runs said "operator")."""
    from domain.messages import AppealDispatchInput

    h = await run.start(decision=IntakeDecision.HOLD, category="CITY.GARBAGE", street="110105-CHAOWAI", district="110105")
    await h.execute_update(AppealWorkflow.dispatch, AppealDispatchInput(actor=OPERATOR))
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff("110105-CHAOWAI")))
    return h


async def held_dispatched_to_unit_named_in_flight(run: AppealRun, env):
    """A held order the operator sends to a unit it names."""
    from domain.messages import AppealDispatchInput

    h = await run.start(decision=IntakeDecision.HOLD)
    await h.execute_update(AppealWorkflow.dispatch, AppealDispatchInput(actor=OPERATOR, unit="110101-GOV"))
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=staff("110101-GOV")))
    return h


async def part_asked_again_late_message_in_flight(run: AppealRun, env):
    """The lead closes a part and asks the unit again; round 1's messages come after (its echo
    of the close, a report): ignored since part-messages-name-their-round (older runs let them
    overwrite the new part); then the new round's unit accepts."""
    from domain import collaboration as more
    from domain.messages import PartAcceptInput, PartChange, PartStatus
    from workflows.cohandling import CoHandlingWorkflow

    lead, power = LIGHTING, staff("BJ-POWER")
    h = await run.start()
    await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=lead))
    await h.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=lead))
    ask = more.PartsRequestInput(actor=lead, units=["BJ-POWER"], task="power")
    first = (await h.execute_update(AppealWorkflow.request_parts, ask)).parts["co_handling:BJ-POWER"]
    await h.execute_update(AppealWorkflow.close_part, more.PartCloseRequestInput(actor=lead, unit="BJ-POWER", reason="wrong task"))
    second = (await h.execute_update(AppealWorkflow.request_parts, ask)).parts["co_handling:BJ-POWER"]
    closed = first.model_copy(update={"status": PartStatus.CLOSED, "closed_reason": "wrong task"})
    done = first.model_copy(update={"status": PartStatus.DONE, "result": "cable laid"})
    await h.signal(AppealWorkflow.part_changed, PartChange(event="part_closed", actor=lead, detail={"reason": "wrong task"}, part=closed))
    await h.signal(AppealWorkflow.part_changed, PartChange(event="part_done", actor=power, detail={"result": "cable laid"}, part=done))
    part = run.client.get_workflow_handle(second.workflow_id)
    await part.execute_update(CoHandlingWorkflow.accept, PartAcceptInput(actor=power))
    await h.execute_update(AppealWorkflow.phased_report, PhasedReportInput(actor=lead, progress="half"))
    return h


async def earlier_due_with_a_part_in_flight(run: AppealRun, env):
    """Started with the directory's names; a supervisor sets a completion limit before the
    contact limit, so ReplyDeadline is the earliest limit not met since
    reply-deadline-earliest-limit (older runs kept the contact limit); a part carries its
    appeal's place and classification, and the current details and Chinese timer summaries
    are written all along."""
    from domain import collaboration as more
    from domain.messages import Actor
    from domain.types import Role

    names = {"MUNI.STREETLIGHT": "路灯不亮/路灯故障", "BJ-LIGHTING": "北京市城市照明管理中心"}
    h = await run.start(names=names)
    view = await h.execute_update(AppealWorkflow.accept, AppealAcceptInput(actor=LIGHTING))
    new_due = view.dispatched_at + (view.limits["contact"].due - view.dispatched_at) / 2
    supervisor = Actor(user="sup", role=Role.SUPERVISOR)
    await h.execute_update(AppealWorkflow.supervise, more.SuperviseInput(actor=supervisor, note="today", new_due=new_due))
    ask = more.PartsRequestInput(actor=LIGHTING, units=["BJ-POWER"], task="power")
    part = (await h.execute_update(AppealWorkflow.request_parts, ask)).parts["co_handling:BJ-POWER"]
    await h.execute_update(AppealWorkflow.record_contact, ContactRecordInput(actor=LIGHTING))
    return [h, run.client.get_workflow_handle(part.workflow_id)]


SCENARIOS = [
    street_lights_resolved_after_rehandling,
    objection_upheld_in_flight,
    overdue_in_flight,
    answered_not_evaluated,
    signal_rejected_in_flight,
    signal_with_phone_refused_in_flight,
    whistle_in_flight,
    routed_at_intake_in_flight,
    cancelled_with_a_part,
    late_rehandled_missed_again_in_flight,
    part_closed_by_lead_in_flight,
    held_dispatched_by_catalogue_in_flight,
    held_dispatched_to_unit_named_in_flight,
    part_asked_again_late_message_in_flight,
    earlier_due_with_a_part_in_flight,
]


async def main(names: list[str], suffix: str) -> None:
    pg = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="jiesu-record-")), free_port())
    pg.start()
    try:
        await pg.ensure_database("jiesu")
        settings = settings_for(pg.url("jiesu"))
        engine = make_engine(settings)
        await migrate(engine)
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=DATA_CONVERTER, test_server_existing_path=venv_bin("temporal-test-server")
        )
        await register_search_attributes(env.client, env.client.namespace)
        try:
            async with build_worker(env.client, engine, task_queue="record", settings=settings):
                run = AppealRun(env.client, engine, "record")
                for scenario in SCENARIOS:
                    if names and scenario.__name__ not in names:
                        continue
                    handles = await scenario(run, env)
                    for i, handle in enumerate(handles if isinstance(handles, list) else [handles]):
                        history = await handle.fetch_history()
                        path = HERE / f"{scenario.__name__}{'_part' * bool(i)}{suffix}.json"
                        path.write_text(history.to_json())
                        print(f"recorded {path.name} ({len(history.events)} events)")
                for handle in run.handles:
                    try:
                        await handle.terminate("recorded")
                    except Exception:
                        pass
        finally:
            await env.shutdown()
            await engine.dispose()
    finally:
        pg.destroy()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="scenarios to record (default: all)")
    parser.add_argument("--suffix", default="", help="added to the file names, to keep older recordings")
    args = parser.parse_args()
    asyncio.run(main(args.names, args.suffix))
