"""The search attributes every appeal workflow keeps current, so administrators can find stuck
cases in the Temporal UI (see the queries in docs/operations.md)."""

from temporalio.common import SearchAttributeIndexedValueType as IndexedValueType
from temporalio.common import SearchAttributeKey

APPEAL_STATUS = SearchAttributeKey.for_keyword("AppealStatus")
HANDLING_UNIT = SearchAttributeKey.for_keyword("HandlingUnit")
DISTRICT = SearchAttributeKey.for_keyword("District")
STREET = SearchAttributeKey.for_keyword("Street")
CATEGORY = SearchAttributeKey.for_keyword("Category")
APPEAL_TYPE = SearchAttributeKey.for_keyword("AppealType")
URGENCY = SearchAttributeKey.for_keyword("Urgency")
REPLY_DEADLINE = SearchAttributeKey.for_datetime("ReplyDeadline")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
#: when the current AppealStatus began (set with the status): "stuck in dispatched for 2 days"
IN_STATUS_SINCE = SearchAttributeKey.for_datetime("InStatusSince")
#: PostgreSQL refused the workflow's last projection: set while the row lags, unset once a
#: projection succeeds again
PROJECTION_FAILED = SearchAttributeKey.for_bool("ProjectionFailed")

ALL_KEYS = (
    APPEAL_STATUS,
    HANDLING_UNIT,
    DISTRICT,
    STREET,
    CATEGORY,
    APPEAL_TYPE,
    URGENCY,
    REPLY_DEADLINE,
    OVERDUE,
    PROJECTION_FAILED,
    IN_STATUS_SINCE,
)

#: name → type name as the Temporal CLI spells it (`--type Keyword`).
SEARCH_ATTRIBUTES: dict[str, str] = {
    key.name: {
        IndexedValueType.KEYWORD: "Keyword",
        IndexedValueType.DATETIME: "Datetime",
        IndexedValueType.BOOL: "Bool",
    }[key.indexed_value_type]
    for key in ALL_KEYS
}
