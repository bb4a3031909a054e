"""The operator's and the citizen's pages' pure helpers: the category search's entries, what the
operator typed read back as a category, the intake body from the form, the citizen's words."""

from __future__ import annotations

import re
from pathlib import Path

from console import i18n
from console.pages import citizen, operator, operator_queues
from console.pages.citizen import evaluation_body, plain_timeline
from console.pages.operator import category_code, intake_body, leaf_categories, place_query
from domain.messages import AppealStatus

TREE = [
    {
        "code": "MUNI",
        "name_zh": "市政设施",
        "name_en": "Municipal facilities",
        "default_urgency": "ordinary",
        "children": [
            {
                "code": "MUNI.STREETLIGHT",
                "name_zh": "路灯不亮/路灯故障",
                "name_en": "Street light out",
                "default_urgency": "ordinary",
                "children": [],
            },
            {"code": "MUNI.ROAD", "name_zh": "道路破损/坑槽", "name_en": "Damaged road", "default_urgency": "ordinary"},
        ],
    },
    {
        "code": "UTIL",
        "name_zh": "水电气热",
        "name_en": "Utilities",
        "default_urgency": "utility",
        "children": [
            {
                "code": "UTIL.WATER",
                "name_zh": "供水",
                "name_en": "Water",
                "default_urgency": "utility",
                "children": [
                    {
                        "code": "UTIL.WATER.OUTAGE",
                        "name_zh": "停水",
                        "name_en": "Water outage",
                        "default_urgency": "utility",
                    },
                ],
            },
        ],
    },
]


def test_the_search_offers_leaves_with_their_parents():
    leaves = leaf_categories(TREE)
    assert [c["code"] for c in leaves] == ["MUNI.STREETLIGHT", "MUNI.ROAD", "UTIL.WATER.OUTAGE"]
    assert leaves[2]["path"] == "水电气热 › 供水" and leaves[2]["name"] == "停水"
    assert leaf_categories(TREE, "en")[0]["name"] == "Street light out"


def test_what_the_operator_typed_reads_back_as_a_category():
    leaves = leaf_categories(TREE)
    known = {"MUNI", "UTIL", "UTIL.WATER"} | {c["code"] for c in leaves}
    assert category_code("路灯不亮/路灯故障 MUNI.STREETLIGHT", leaves, known) == "MUNI.STREETLIGHT"
    assert category_code("muni.road", leaves, known) == "MUNI.ROAD"
    assert category_code("MUNI", leaves, known) == "MUNI"  # a theme, for what cannot be placed closer
    assert category_code("停水", leaves, known) == "UTIL.WATER.OUTAGE"
    assert category_code("供水", leaves, known) == "UTIL.WATER.OUTAGE"  # the one leaf under it
    assert category_code("市政", leaves, known) is None  # two leaves: the operator must choose
    assert category_code("没有这种类别", leaves, known) is None
    assert category_code("  ", leaves, known) is None


def test_the_intake_body_nests_the_forms_names_and_leaves_out_what_the_decision_does_not_take():
    form = {
        "appeal_type": "complaint",
        "category": "路灯",
        "location.district": "110101",
        "location.street": "110101-ANDINGMEN",
        "location.address": " 方家胡同 ",
        "content": "路灯不亮",
        "urgency": "",
        "citizen.name": "刘先生",
        "citizen.phone": "13812345678",
        "citizen.anonymous": "",
        "channel": "phone",
        "origin.hotline": "tianjin",
        "origin.external_no": "TJ-1",
        "decision": "dispatch",
        "answer": "typed, then the decision changed",
        "not_accepted_reason": "petition",
        "emergency_service": "",
        "unit": "北京市城市照明管理中心 BJ-LIGHTING",
    }
    body = intake_body(form, "MUNI.STREETLIGHT")
    assert body == {
        "appeal_type": "complaint",
        "category": "MUNI.STREETLIGHT",
        "location": {"district": "110101", "street": "110101-ANDINGMEN", "address": "方家胡同"},
        "content": "路灯不亮",
        "citizen": {"name": "刘先生", "phone": "13812345678"},
        "channel": "phone",
        "decision": "dispatch",
        "unit": "BJ-LIGHTING",
    }
    answered = intake_body(form | {"decision": "answer", "citizen.anonymous": "true", "channel": "transfer_in"}, None)
    assert answered["category"] == "路灯"  # unresolved: sent as typed, for the API to refuse by its field
    assert answered["answer"] == "typed, then the decision changed" and "unit" not in answered
    assert answered["citizen"]["anonymous"] is True
    assert answered["origin"] == {"hotline": "tianjin", "external_no": "TJ-1"}


def test_similar_appeals_are_looked_for_at_the_street_or_else_the_district():
    assert place_query(None, "110101", "") is None
    assert place_query("MUNI.STREETLIGHT", "", "") is None
    assert place_query("MUNI.STREETLIGHT", "110101", "110101-ANDINGMEN")["street"] == "110101-ANDINGMEN"
    assert place_query("MUNI.STREETLIGHT", "110101", "") == {
        "category": "MUNI.STREETLIGHT",
        "district": "110101",
        "open": "true",
        "sort": "newest",
    }


def test_the_citizen_reads_what_was_said_to_them_and_no_internal_event():
    events = [
        {
            "kind": "dispatched",
            "detail": {"how": "by the dispatch catalogue", "completion_due": "2026-12-10T10:00:00+08:00"},
        },
        {"kind": "reminder", "detail": {"limit": "contact"}},
        {"kind": "objection_raised", "detail": {"reason": "不归我们管"}},
        {"kind": "reported_done", "detail": {"result": "已修复", "in_time": True, "late_reason": None}},
    ]
    shown = plain_timeline(events)
    assert [e["kind"] for e in shown] == ["dispatched", "reported_done"]
    assert shown[0]["shown"] == {"completion_due": "2026-12-10T10:00:00+08:00"}
    assert shown[1]["shown"] == {"result": "已修复"}


def test_the_evaluation_body():
    assert evaluation_body(
        {"resolved": "false", "satisfaction": "unsatisfied", "contacted": "yes", "comment": " 没修 "}
    ) == {"resolved": False, "satisfaction": "unsatisfied", "contacted": "yes", "comment": "没修"}
    assert evaluation_body({"resolved": "maybe", "satisfaction": "", "comment": ""}) == {}


def test_every_word_the_pages_use_is_registered_in_both_languages():
    templates = Path(operator.__file__).parents[1] / "templates"
    used = set()
    for folder in ("operator", "citizen"):
        for path in (templates / folder).glob("*.html"):
            # whole keys (a key's prefix, `t('status.' ~ s)`, is completed below)
            used |= {k for k in re.findall(r"""\bt\('([a-z_.\-]+)'""", path.read_text()) if k[-1] not in ".-"}
    kinds = ("type", "urgency", "channel", "decision", "not_accepted", "emergency", "hotline")
    for prefix, values in zip(
        kinds,
        (
            operator.APPEAL_TYPES,
            operator.URGENCIES,
            operator.CHANNELS,
            operator.DECISIONS,
            operator.NOT_ACCEPTED_REASONS,
            operator.EMERGENCY_SERVICES,
            operator.HOTLINES,
        ),
        strict=True,
    ):
        used |= {f"{prefix}.{v}" for v in values}
    used |= {f"citizen.event.{k}" for k in citizen.SHOWN} | {f"citizen.status.{s.value}" for s in AppealStatus}
    used |= {f"queue.{q}" for names in operator_queues.TABS.values() for q in names}
    used |= {f"queue.{q}.hint" for q in operator_queues.TABS}
    missing = sorted(k for k in used if not i18n.known(k))
    assert missing == []
    assert i18n.text("citizen.event.dispatched", "en") != i18n.text("citizen.event.dispatched", "zh")
