"""Forms made from the actions' body schemas, and bodies made back from what a form sends."""

from __future__ import annotations

import api.main  # noqa: F401  (every action route registers its body)
from api.routes.appeals import BODIES
from console.forms import body_from, fields_of


def kinds(route: str) -> dict[str, str]:
    return {f.name: f.kind for f in fields_of(BODIES[route].model_json_schema())}


def test_each_field_gets_the_input_its_type_needs():
    assert kinds("evaluation") == {"resolved": "bool", "satisfaction": "choice", "comment": "textarea",
                                   "contacted": "choice"}
    assert kinds("objection") == {"reason": "textarea", "suggested_unit": "unit"}
    assert kinds("whistle")["units"] == "units" and kinds("whistle")["report_in_hours"] == "int"
    assert kinds("phased-report")["expected_date"] == "date"
    assert kinds("supervise")["new_due"] == "datetime"


def test_every_action_body_makes_a_form():
    for route, model in BODIES.items():
        schema = model.model_json_schema()
        assert [f.name for f in fields_of(schema)] == list(schema.get("properties", {})), route


def test_a_body_from_the_form():
    fields = fields_of(BODIES["whistle"].model_json_schema())
    body = body_from(fields, {"units": ["110105-CGW， 110105-ZJW"], "task": [" 拆除违建 "], "report_in_hours": ["12"],
                              "limit_working_days": [""]})
    assert body == {"units": ["110105-CGW", "110105-ZJW"], "task": "拆除违建", "report_in_hours": 12}


def test_a_required_checkbox_left_unticked_is_false_and_a_bad_number_goes_to_the_api_as_typed():
    review = fields_of(BODIES["objection-review"].model_json_schema())
    assert body_from(review, {})["uphold"] is False
    whistle = fields_of(BODIES["whistle"].model_json_schema())
    assert body_from(whistle, {"report_in_hours": ["twelve"]})["report_in_hours"] == "twelve"


def test_a_local_time_is_beijing_time():
    fields = fields_of(BODIES["supervise"].model_json_schema())
    assert body_from(fields, {"new_due": ["2026-12-10T18:00"]})["new_due"] == "2026-12-10T18:00:00+08:00"
