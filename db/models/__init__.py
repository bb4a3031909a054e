"""Tables, one module per domain; every name is re-exported here, so `from db.models import X`
works for all of them and importing `db.models` registers every table on SQLModel.metadata (what
migrations/env.py and alembic autogenerate compare against).

- base.py: the naming convention (set before any table) and column helpers
- reference.py: districts, units, catalogue, routing rules, time-limit policies, calendar
- appeals.py: the appeal row (projected by its workflow) and its indexes, timeline, parts,
  notification outbox, citizen contact, personal-data access audit
- people.py: staff accounts
- assessment.py: exclusions, frozen months, facts, rollups (三率)
- governance.py: governance tasks, inspections, monthly theme and problems, theme candidates
- topics.py: appeal topics and returns (analytics' per-appeal tables)
- channels.py: Open311 channels and their keys

A new table goes in its domain's module and is added to the imports below.
"""

from db.models.appeals import (
    APPEAL_NO_SEQ,
    Appeal,
    AppealEvent,
    AppealPart,
    CitizenContact,
    Notification,
    PersonalDataAccess,
)
from db.models.assessment import AssessmentExclusion, AssessmentFact, AssessmentRollup, AssessmentRun
from db.models.base import enum_column_type, now_column  # noqa: F401  (first: the naming convention)
from db.models.channels import Open311Channel
from db.models.governance import (
    GovernanceInspection,
    GovernanceTask,
    MonthlyProblem,
    MonthlyTheme,
    ThemeCandidate,
)
from db.models.people import User
from db.models.reference import CalendarDay, Category, District, RoutingRule, TimeLimitPolicy, Unit
from db.models.topics import AppealReturn, AppealTopic

__all__ = [
    "Open311Channel",
    "APPEAL_NO_SEQ",
    "Appeal",
    "AppealEvent",
    "AppealPart",
    "AppealReturn",
    "AppealTopic",
    "AssessmentExclusion",
    "AssessmentFact",
    "AssessmentRollup",
    "AssessmentRun",
    "CalendarDay",
    "Category",
    "CitizenContact",
    "District",
    "GovernanceInspection",
    "GovernanceTask",
    "MonthlyProblem",
    "MonthlyTheme",
    "Notification",
    "PersonalDataAccess",
    "RoutingRule",
    "ThemeCandidate",
    "TimeLimitPolicy",
    "Unit",
    "User",
]
