"""The kinds of timeline event (`appeal_event.kind`): one name each, written by the rules and
the workflows, read by the notifications, the orphan sweep and the analytics.

A StrEnum: each member is its string, so stored rows, recorded histories, notification topics
and the API's `kind` are the same text they always were; a new kind is added here."""

from __future__ import annotations

from enum import StrEnum


class EventKind(StrEnum):
    # intake
    RECEIVED = "received"
    NOT_ACCEPTED = "not_accepted"
    TRANSFERRED_TO_EMERGENCY = "transferred_to_emergency"
    DISPATCH_NEEDED = "dispatch_needed"  # no routing rule applies: an operator dispatches
    # the order's handling
    DISPATCHED = "dispatched"
    ANSWERED = "answered"
    ACCEPTED = "accepted"
    OBJECTION_RAISED = "objection_raised"
    OBJECTION_REJECTED = "objection_rejected"
    OBJECTION_UPHELD = "objection_upheld"
    CONTACTED = "contacted"
    PHASED_REPORT = "phased_report"
    EXTENSION_REQUESTED = "extension_requested"
    EXTENSION_REJECTED = "extension_rejected"
    EXTENSION_APPROVED = "extension_approved"
    REPORTED_DONE = "reported_done"
    EVALUATED = "evaluated"
    REHANDLING = "rehandling"
    CLOSED = "closed"
    REJECTED = "rejected"  # an action sent as a Signal, refused (nobody waited for the answer)
    # time limits
    REMINDER = "reminder"
    LIMIT_MISSED = "limit_missed"
    ESCALATED = "escalated"
    # many hands: co-handling and whistle-summoning, and their parts
    CO_HANDLING_REQUESTED = "co_handling_requested"
    WHISTLE_BLOWN = "whistle_blown"
    PART_ACCEPTED = "part_accepted"
    PART_REPORTED_IN = "part_reported_in"
    PART_PHASED_REPORT = "part_phased_report"
    PART_DONE = "part_done"
    PART_DECLINED = "part_declined"
    PART_DECLINE_UPHELD = "part_decline_upheld"
    PART_DECLINE_REJECTED = "part_decline_rejected"
    PART_CLOSED = "part_closed"
    PART_FAILED = "part_failed"
    PART_REMINDER = "part_reminder"
    PART_LIMIT_MISSED = "part_limit_missed"
    DEPARTMENT_RATED = "department_rated"
    STALE_PART_MESSAGE = "stale_part_message"  # from a part the appeal has replaced
    # supervision, transfers, duplicates
    SUPERVISED = "supervised"
    TRANSFERRED_OUT = "transferred_out"
    LINKED = "linked"
    UNLINKED = "unlinked"
    APPEAL_LINKED_HERE = "appeal_linked_here"
    MASTER_REPORTED_DONE = "master_reported_done"
    # the workflow itself
    CANCELLED = "cancelled"  # an administrator cancelled the appeal's workflow
    WORKFLOW_RESTARTED = "workflow_restarted"
    WORKFLOW_ENDED = "workflow_ended"  # written by the orphan sweep, not by a workflow
    PROJECTION_FAILED = "projection_failed"
