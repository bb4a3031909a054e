"""Hiding personal data in free text: what is hidden, what is left alone, and which fields of
which messages count as free text."""

from __future__ import annotations

import inspect

import pytest
from pydantic import BaseModel

from domain import collaboration, governance, messages
from domain.privacy import ADDRESS, ID_NUMBER, NAME, PHONE, Person, TooLong, free_text_fields, scrub, scrub_fields

LIU = Person(name="刘先生", phone="13812345678", id_number="11010119900307123X", address="东城区方家胡同 12 号")


@pytest.mark.parametrize("text, expected", [
    ("已联系刘先生", f"已联系{NAME}"),
    ("电话 138 1234 5678 / 138-1234-5678 / +86 13812345678", f"电话 {PHONE} / {PHONE} / +86 {PHONE}"),
    ("上门到东城区方家胡同12号", f"上门到{ADDRESS}"),
    ("证件 11010119900307123x", f"证件 {ID_NUMBER}"),
    # anyone's mobile or ID number, not only the citizen's
    ("施工队 15811112222；另一位居民 440106198001011234", f"施工队 {PHONE}；另一位居民 {ID_NUMBER}"),
])
def test_the_citizens_data_and_any_mobile_or_id_number_are_hidden(text, expected):
    assert scrub(text, LIU) == expected


@pytest.mark.parametrize("text", [
    "办公室 010-64001234，热线 12345，工单 BJ-20261122-000123",
    "单位 110101-ANDINGMEN 已于 2026-11-22 13:45 处理，编号 20261122000123",
    "方家胡同路灯 33 盏已更换",  # the place of the problem, without the citizen's house
    "刘先生们",  # a name is hidden only where it is written, so this stays hidden below
])
def test_office_phones_codes_dates_and_places_stay(text):
    if "刘先生" in text:
        assert scrub(text, LIU) == f"{NAME}们"
    else:
        assert scrub(text, LIU) == text == scrub(text)


def test_values_too_short_to_hide_verbatim_are_left():
    person = Person(name="刘", address="1号")
    assert scrub("刘女士住 1号楼", person) == "刘女士住 1号楼"


def test_every_free_text_field_of_every_message_is_known():
    """Adding a message or a field means deciding here whether it is prose someone types."""
    found = {}
    for module in (messages, collaboration, governance):
        for name, model in inspect.getmembers(module, inspect.isclass):
            if issubclass(model, BaseModel) and model.__module__ == module.__name__ and free_text_fields(model):
                found[name] = sorted(free_text_fields(model))
    assert found == {
        "AppealInput": ["answer"],
        "AppealResumeInput": ["close_reason"],
        "AppealAnswerInput": ["answer"],
        "ObjectionRaiseInput": ["reason"],
        "ObjectionReviewInput": ["comment"],
        "ContactRecordInput": ["note"],
        "PhasedReportInput": ["progress", "reason"],
        "ExtensionRequestInput": ["reason"],
        "ExtensionReviewInput": ["comment"],
        "AppealCompleteInput": ["late_reason", "result"],
        "AppealEvaluateInput": ["comment"],
        "PartInput": ["task"],
        "PartAcceptInput": ["plan"],
        "PartPhasedReportInput": ["progress", "reason"],
        "PartReportInput": ["late_reason", "result"],
        "PartDeclineInput": ["reason"],
        "PartDeclineReviewInput": ["comment"],
        "PartCloseInput": ["reason"],
        "PartsRequestInput": ["task"],
        "PartCloseRequestInput": ["reason"],
        "PartRateInput": ["comment"],
        "SuperviseInput": ["note"],
        "TransferOutInput": ["reason"],
        "FindingRecordInput": ["note"],
        "TaskCancelInput": ["reason"],
        "TaskReassignInput": ["reason"],
    }


def test_only_free_text_is_touched_and_too_long_is_refused():
    fields = {"unit": "13812345678", "note": "刘先生 13812345678"}
    assert scrub_fields(fields, messages.ContactRecordInput, LIU) == {"unit": "13812345678", "note": f"{NAME} {PHONE}"}
    with pytest.raises(TooLong) as refused:
        scrub_fields({"note": "刘先生" * 666}, messages.ContactRecordInput, LIU)
    assert (refused.value.field, refused.value.limit) == ("note", 2000)
