"""The domain's vocabularies. Values are stable identifiers stored in the database and Temporal."""

from enum import StrEnum


class UnitKind(StrEnum):
    """Kinds of handling unit (承办单位)."""

    DISTRICT_GOVERNMENT = "district_government"  # 区人民政府, the backstop (兜底)
    MUNICIPAL_DEPARTMENT = "municipal_department"  # 市级部门
    DISTRICT_DEPARTMENT = "district_department"  # 区级部门
    STREET = "street"  # 街道办事处
    TOWNSHIP = "township"  # 乡镇人民政府
    PUBLIC_AFFAIRS_ORG = "public_affairs_org"  # 法律法规授权管理公共事务的组织
    PUBLIC_SERVICE_ENTERPRISE = "public_service_enterprise"  # 承担公共服务职能的企事业单位


class AppealType(StrEnum):
    """诉求类型."""

    CONSULTATION = "consultation"  # 咨询
    HELP = "help"  # 求助
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报: the reporter's identity is never shown to the unit
    SUGGESTION = "suggestion"  # 建议


class Urgency(StrEnum):
    """How fast the unit must respond; each maps to a row of the time-limit policy."""

    EMERGENCY = "emergency"  # risk to life or property: 2 hours
    UTILITY = "utility"  # water, power, gas or heating failure: 24 hours
    ORDINARY = "ordinary"  # 7 days
    COMPLEX = "complex"  # complex or difficult, after approval: 15 days


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    APP = "app"
    WECHAT = "wechat"
    WEIBO = "weibo"
    LETTER = "letter"
    TRANSFER_IN = "transfer_in"  # from the Tianjin or Hebei hotline


class LimitUnit(StrEnum):
    """How a time limit is counted."""

    MINUTES = "minutes"  # elapsed clock minutes (e.g. an emergency's first contact)
    HOURS = "hours"  # elapsed clock hours
    DAYS = "days"  # calendar days
    WORKING_DAYS = "working_days"  # skipping weekends and public holidays, honouring make-up days


class DayKind(StrEnum):
    """An entry of the working-day calendar that overrides the weekday rule."""

    HOLIDAY = "holiday"  # a weekday off (public holiday)
    WORKDAY = "workday"  # a weekend day worked (调休上班)


class Role(StrEnum):
    OPERATOR = "operator"
    UNIT_STAFF = "unit_staff"
    SUPERVISOR = "supervisor"
    ANALYST = "analyst"
    ADMINISTRATOR = "administrator"
