"""Hiding personal data in free text: what is hidden, what is left alone, and which fields of
which messages count as free text."""

from __future__ import annotations

import inspect

import pytest
from pydantic import BaseModel

from domain import collaboration, governance, messages
from domain.privacy import (
    ADDRESS,
    ID_NUMBER,
    NAME,
    PHONE,
    Person,
    TooLong,
    fields_with_phone_or_id,
    free_text_fields,
    has_phone_or_id,
    scrub,
    scrub_fields,
)

LIU = Person(name="刘先生", phone="13812345678", id_number="11010119900307123X", address="东城区方家胡同 12 号")


@pytest.mark.parametrize("text, expected", [
    ("已联系刘先生", f"已联系{NAME}"),
    ("电话 138 1234 5678 / 138-1234-5678 / +86 13812345678", f"电话 {PHONE} / {PHONE} / {PHONE}"),
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


# A phone or ID number however it is typed: full-width digits (what Chinese keyboards often
# produce), dotted, bracketed, grouped oddly, after +86, inside Chinese text. Whose it is does not
# matter (no person given), and the text around it is kept exactly as written.
@pytest.mark.parametrize("text, expected", [
    ("１３９１２３４５６７８", PHONE),
    ("电话１３９１２３４５６７８。", f"电话{PHONE}。"),
    ("139.1234.5678", PHONE),
    ("（139）1234-5678 联系", f"{PHONE} 联系"),
    ("(139)1234-5678", PHONE),
    ("联系人（13912345678）", f"联系人（{PHONE}）"),  # a bracket around the whole number stays
    ("1391 234 5678", PHONE),
    ("139 12 34 56 78", PHONE),
    ("1 3 9 1 2 3 4 5 6 7 8", PHONE),
    ("１３９ 1234 5678", PHONE),
    ("１３９－１２３４－５６７８", PHONE),
    ("139　1234　5678（全角空格）", f"{PHONE}（全角空格）"),
    ("139·1234·5678", PHONE),
    ("139 - 1234 - 5678", PHONE),
    ("+86 139 1234 5678", PHONE),
    ("+86-13912345678", PHONE),
    ("(+86)139-1234-5678", PHONE),
    ("＋８６　１３９１２３４５６７８", PHONE),
    ("0086 13912345678", PHONE),
    ("已联系居民（手机139.1234.5678），约周五上门", f"已联系居民（手机{PHONE}），约周五上门"),
    ("热线 12345 13912345678", f"热线 12345 {PHONE}"),
    ("座机 010-64001234 手机 139 1234 5678", f"座机 010-64001234 手机 {PHONE}"),
    ("手机尾号不对，应为13912345678吧", f"手机尾号不对，应为{PHONE}吧"),
    ("１１０１０１１９９００３０７１２３Ｘ", ID_NUMBER),
    ("身份证 110101 19900307 123x 已核", f"身份证 {ID_NUMBER} 已核"),
    ("身份证110101-1990-0307-1234", f"身份证{ID_NUMBER}"),
    ("证件号：４４０１０６ １９８００１０１ １２３４。", f"证件号：{ID_NUMBER}。"),
])
def test_phones_and_id_numbers_are_hidden_however_they_are_typed(text, expected):
    assert scrub(text) == expected
    assert has_phone_or_id(text)
    assert not has_phone_or_id(scrub(text))  # what the API sends a workflow would pass its check


# The appeal's own data, matched verbatim however it is typed.
@pytest.mark.parametrize("text, expected", [
    ("刘 先 生来电", f"{NAME}来电"),
    ("回拨１３８ １２３４ ５６７８", f"回拨{PHONE}"),
    ("号码 138.1234.5678", f"号码 {PHONE}"),
    ("证件号 110101.19900307.123X", f"证件号 {ID_NUMBER}"),
    ("住东城区方家胡同１２号", f"住{ADDRESS}"),
    ("住东城区方家胡同（12）号", f"住{ADDRESS}"),
])
def test_the_citizens_own_data_is_hidden_however_it_is_typed(text, expected):
    assert scrub(text, LIU) == expected


def test_a_landline_of_the_citizen_is_hidden_as_theirs():
    person = Person(phone="010-6512 3456")
    assert scrub("回拨 (010)65123456，办公室 010-64001234", person) == f"回拨 {PHONE}，办公室 010-64001234"


# What looks like numbers but is no one's phone or ID: it stays exactly as written.
@pytest.mark.parametrize("text", [
    "办公室 010-12345678",
    "办公室 (010)6512 3456，分机 8021",
    "座机 65123456",
    "工单 BJ-20261122-000123",
    "工单 BJ-20261122-139123 已并案",
    "编号 20261122000123",
    "2026-11-22 13:45 处理",
    "2026.11.22 至 2026.12.11",
    "2026年11月22日13时45分",
    "金额 1,391,234,567.80 元",
    "赔付 13,912.50 元，共 12 户",
    "热线 12345，电话 96156",
    "路灯 33 盏已更换，费用 1380 元",
    "1391234567（十位）",
    "139123456789（十二位）",
    "单位 110101-ANDINGMEN",
    "单元 1-3-901 室",
    "身份证号不全 11010119900307",
    "110101199013071234（无此月份）",
])
def test_landlines_codes_dates_and_amounts_stay(text):
    assert scrub(text) == text == scrub(text, LIU)
    assert not has_phone_or_id(text)


def test_free_text_fields_holding_a_phone_or_id_are_named():
    clean = messages.PhasedReportInput(actor=messages.Actor(user="u", role="unit_staff", unit="X"), progress="已更换 3 盏")
    assert fields_with_phone_or_id(clean) == []
    dirty = clean.model_copy(update={"progress": "联系１３９ 1234 5678", "reason": "证件 110101199003071234"})
    assert fields_with_phone_or_id(dirty) == ["progress", "reason"]


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
