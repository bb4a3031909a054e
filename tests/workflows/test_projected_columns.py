"""The appeal row's projected columns are declared once (`PROJECTED_COLUMNS`): the statement's
SET and bind types are made from that list, and the values must match it name for name."""

from datetime import UTC, datetime

from activities.appeals import _PROJECT, PROJECTED_COLUMNS, row_values
from db.models import Appeal
from domain.messages import AppealView
from domain.types import AppealType, Channel, Urgency


def test_every_projected_column_has_a_value_and_every_value_a_column():
    view = AppealView(
        appeal_no="BJ-20250101-000001", appeal_type=AppealType.COMPLAINT, category="MUNI.STREETLIGHT",
        urgency=Urgency.ORDINARY, channel=Channel.PHONE, district="110101", street="110101-ANDINGMEN",
        received_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert row_values(view).keys() == set(PROJECTED_COLUMNS)
    assert set(PROJECTED_COLUMNS) <= set(Appeal.__table__.c.keys())


def test_the_statement_sets_each_projected_column_with_its_own_type():
    for column in PROJECTED_COLUMNS:
        assert f"{column} = :{column}" in _PROJECT.text
        assert _PROJECT._bindparams[column].type is Appeal.__table__.c[column].type
