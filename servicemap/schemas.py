"""marshmallow schemas: what the API accepts and returns, and the OpenAPI document's source."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from marshmallow import (
    INCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from .bounds import (
    DATE_RANGE_MESSAGE,
    UNSTORABLE_MESSAGE,
    date_in_bounds,
    storable_text,
)
from .districts import find_district
from .geo.coordsys import COORDSYS
from .hours import HOLIDAY_RULES
from .vocabulary import KINDS, OWNERSHIP, PRECISIONS, SERVICES, STATUSES

CLOSURES_MAX = 50
CLOSURE_REASON_MAX = 200
HOLIDAY_RULE_DESCRIPTION = (
    "closed: shut on statutory holidays, working-day hours on make-up workdays; open: weekly "
    "hours on holidays, working-day hours on make-up workdays; weekly: weekly hours whatever "
    "the day. Null or absent on create: open for care homes and 24-hour services, else closed")
TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
# Bidirectional embeddings, overrides and isolates make text show differently from what is
# stored: a name could read as another facility's. 双向控制字符。
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


class Text(fields.String):
    """Text stored and shown to people: storable, no bidi controls; `visible=True` for names,
    which must show at least one letter, digit, punctuation mark or symbol."""

    def __init__(self, *args, visible: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.visible = visible

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not storable_text(text):
            raise ValidationError(UNSTORABLE_MESSAGE)
        if BIDI_CONTROLS.search(text):
            raise ValidationError("Must not contain bidirectional override or isolate "
                                  "characters (U+202A–U+202E, U+2066–U+2069). "
                                  "不能包含双向控制字符。")
        if self.visible and text and not any(unicodedata.category(c)[0] in "LNPS" for c in text):
            raise ValidationError("Must contain a visible character, not only spaces or "
                                  "zero-width characters. 不能只有空白或零宽字符。")
        return text


class _WithinDates:
    """Refuses a date, or a moment whose own calendar day, outside DATE_MIN … DATE_MAX: past
    them, shifting a moment by its offset or adding days can overflow."""

    def _deserialize(self, value, attr, data, **kwargs):
        loaded = super()._deserialize(value, attr, data, **kwargs)
        if not date_in_bounds(loaded.date() if isinstance(loaded, datetime) else loaded):
            raise ValidationError(DATE_RANGE_MESSAGE)
        return loaded


class BoundedDate(_WithinDates, fields.Date):
    """A date within bounds.DATE_MIN … DATE_MAX (for every schema that takes a date)."""


class BoundedDateTime(_WithinDates, fields.DateTime):
    """An ISO 8601 moment whose day is within bounds.DATE_MIN … DATE_MAX."""


class BoundedAwareDateTime(_WithinDates, fields.AwareDateTime):
    """BoundedDateTime, naive moments taken in `default_timezone`."""


class ProblemSchema(Schema):
    """An RFC 9457 problem, as every error is returned."""

    class Meta:
        unknown = INCLUDE  # extension members (RFC 9457 §3.2), e.g. an import's report

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(metadata={"example": "Unprocessable Entity"})
    title_zh = fields.String(metadata={"example": "请求参数无效"})
    status = fields.Integer(metadata={"example": 422})
    detail = fields.String()
    errors = fields.Dict(
        keys=fields.String(), values=fields.List(fields.String()),
        metadata={"description": "Messages by field name, e.g. `location.lat`"},
    )


class DistrictField(fields.Field):
    """A Chongqing district given as a code, a name or {"code": ...}; loads to its code."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = value.get("code") if isinstance(value, dict) else value
        if not isinstance(text, str) or find_district(text) is None:
            raise ValidationError("Not a district of Chongqing (a code such as 500109 or a name "
                                  "such as 北碚区). 不是重庆市的区县。")
        return find_district(text).code

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class WholeNested(fields.Nested):
    """A nested object that is always complete, even inside a partial (PATCH) load."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        return super()._deserialize(value, attr, data, partial=None, **kwargs)


class DistrictSchema(Schema):
    code = fields.String(metadata={"example": "500109"})
    name = fields.String(metadata={"example": "北碚区"})


class PointSchema(Schema):
    """A point in any coordsys (NaN and infinities refused, as marshmallow does by default)."""

    lat = fields.Float(required=True, validate=validate.Range(-90, 90),
                       metadata={"example": 29.8257})
    lon = fields.Float(required=True, validate=validate.Range(-180, 180),
                       metadata={"example": 106.437})
    coordsys = fields.String(load_default="wgs84", validate=validate.OneOf(COORDSYS))


class LocationSchema(PointSchema):
    """A facility's place: written in any coordsys, stored as WGS-84, returned as asked."""

    precision = fields.String(load_default="exact", validate=validate.OneOf(PRECISIONS))
    source = fields.String(dump_only=True, metadata={"example": "manual"})


class OpeningHoursSchema(Schema):
    """One weekly interval; `closes` earlier than `opens` means it passes midnight."""

    days = fields.List(
        fields.Integer(strict=True, validate=validate.Range(1, 7)), required=True,
        validate=validate.Length(min=1, max=7), metadata={"example": [1, 2, 3, 4, 5]},
    )
    opens = fields.String(required=True, validate=validate.Regexp(TIME, error="Use HH:MM."),
                          metadata={"example": "08:00"})
    closes = fields.String(required=True, validate=validate.Regexp(TIME, error="Use HH:MM."),
                           metadata={"example": "17:30"})

    @validates_schema
    def _check(self, data, **kwargs):
        if len(set(data["days"])) != len(data["days"]):
            raise ValidationError("Each day once.", "days")
        if data["opens"] == data["closes"] or data["opens"] == "24:00":
            raise ValidationError("opens and closes must differ; opens cannot be 24:00.",
                                  "closes")


class ClosureSchema(Schema):
    """A temporary closure: whole days, `from` to `to` inclusive, Asia/Shanghai dates."""

    from_ = BoundedDate(required=True, data_key="from", attribute="from",
                        metadata={"example": "2026-02-15"})
    to = BoundedDate(required=True, metadata={"example": "2026-02-23"})
    reason = Text(allow_none=True, load_default=None,
                  validate=validate.Length(max=CLOSURE_REASON_MAX),
                  metadata={"example": "春节休息"})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if "from" in data and "to" in data and data["to"] < data["from"]:
            raise ValidationError("Must not be before `from`. 结束日期不能早于开始日期。", "to")

    @post_load
    def _as_stored(self, data, **kwargs):
        # Stored and returned as ISO dates in JSON.
        return {"from": data["from"].isoformat(), "to": data["to"].isoformat(),
                "reason": data["reason"]}


class ClosureOutSchema(Schema):
    """A temporary closure as returned (stored as ISO dates)."""

    from_ = fields.String(data_key="from", attribute="from",
                          metadata={"format": "date", "example": "2026-02-15"})
    to = fields.String(metadata={"format": "date", "example": "2026-02-23"})
    reason = fields.String(allow_none=True, metadata={"example": "春节休息"})


READ_ONLY = ("id", "updated_at", "created_at", "version")


class FacilityInSchema(Schema):
    """A facility as written by administrators (POST; PATCH takes any subset)."""

    external_id = Text(allow_none=True, validate=validate.Length(1, 100))
    name = Text(required=True, visible=True, validate=validate.Length(1, 200))
    name_en = Text(allow_none=True, visible=True, validate=validate.Length(max=200))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    services = fields.List(fields.String(validate=validate.OneOf(SERVICES)), load_default=list,
                           validate=validate.Length(max=len(SERVICES)))
    ownership = fields.String(allow_none=True, validate=validate.OneOf(OWNERSHIP))
    inclusive = fields.Boolean(load_default=False)
    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES))
    address = Text(allow_none=True, visible=True, validate=validate.Length(1, 300))
    district = DistrictField(allow_none=True, metadata={
        "type": "string", "example": "500109",
        "description": "Code or name; found from the location or address when absent"})
    street = Text(allow_none=True, visible=True, validate=validate.Length(max=100))
    location = WholeNested(LocationSchema, allow_none=True)
    phone = Text(allow_none=True, validate=validate.Length(max=50))
    opening_hours = fields.List(WholeNested(OpeningHoursSchema), load_default=list,
                                validate=validate.Length(max=50))
    capacity = fields.Integer(allow_none=True, strict=True, validate=validate.Range(0, 100_000))
    vacancies = fields.Integer(allow_none=True, strict=True, validate=validate.Range(0, 100_000))
    age_months_min = fields.Integer(allow_none=True, strict=True, validate=validate.Range(0, 1800))
    age_months_max = fields.Integer(allow_none=True, strict=True, validate=validate.Range(0, 1800))
    fees = Text(allow_none=True, validate=validate.Length(max=2000))
    service_radius_m = fields.Integer(allow_none=True, strict=True,
                                      validate=validate.Range(1, 50_000))
    holiday_rule = fields.String(allow_none=True, validate=validate.OneOf(HOLIDAY_RULES),
                                 metadata={"description": HOLIDAY_RULE_DESCRIPTION})
    closures = fields.List(WholeNested(ClosureSchema), load_default=list,
                           validate=validate.Length(max=CLOSURES_MAX), metadata={
                               "description": f"Temporary closures, at most {CLOSURES_MAX}"})

    @pre_load
    def _refuse_read_only(self, data, **kwargs):
        if isinstance(data, dict):
            written = [name for name in READ_ONLY if name in data]
            if written:
                raise ValidationError({name: ["Read-only; set by the server. 只读字段。"]
                                       for name in written})
        return data

    @pre_load
    def _blank_is_empty(self, data, **kwargs):
        # Names made only of spaces are as empty as "" for a resident reading the result.
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            data = {**data, "name": data["name"].strip()}
        return data


class FacilityPatchSchema(FacilityInSchema):
    """Any subset of FacilityIn (use with partial=True); its own name in the OpenAPI document."""


class FacilitySchema(Schema):
    """A facility as returned."""

    id = fields.UUID()
    external_id = fields.String(allow_none=True)
    name = fields.String()
    name_en = fields.String(allow_none=True)
    kind = fields.String(metadata={"enum": list(KINDS)})
    services = fields.List(fields.String(metadata={"enum": list(SERVICES)}))
    ownership = fields.String(allow_none=True, metadata={"enum": list(OWNERSHIP)})
    inclusive = fields.Boolean()
    status = fields.String(metadata={"enum": list(STATUSES)})
    address = fields.String(allow_none=True)
    district = fields.Nested(DistrictSchema, allow_none=True)
    street = fields.String(allow_none=True)
    location = fields.Nested(LocationSchema, allow_none=True)
    phone = fields.String(allow_none=True)
    opening_hours = fields.List(fields.Nested(OpeningHoursSchema))
    capacity = fields.Integer(allow_none=True)
    vacancies = fields.Integer(allow_none=True)
    age_months_min = fields.Integer(allow_none=True)
    age_months_max = fields.Integer(allow_none=True)
    fees = fields.String(allow_none=True)
    service_radius_m = fields.Integer(allow_none=True)
    holiday_rule = fields.String(metadata={"enum": list(HOLIDAY_RULES),
                                           "description": HOLIDAY_RULE_DESCRIPTION})
    closures = fields.List(fields.Nested(ClosureOutSchema))
    open_now = fields.Boolean(allow_none=True, metadata={
        "description": "Open at the moment of the answer (Asia/Shanghai, on China's calendar); "
                       "null when no hours are published"})
    next_change = fields.String(allow_none=True, metadata={
        "format": "date-time", "example": "2026-11-24T13:00:00+08:00",
        "description": "When it next opens or closes, within 7 days; null if not"})
    holiday_data = fields.String(metadata={
        "enum": ["available", "unavailable"],
        "description": "unavailable: the holiday calendar does not know a day of the week "
                       "ahead, and those days were taken at their weekly hours"})
    updated_at = fields.String(metadata={"format": "date-time",
                                         "example": "2026-11-24T09:00:00+08:00"})


class PageSchema(Schema):
    """The paging fields of every list: the items themselves are added by each list."""

    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class FacilityPageSchema(PageSchema):
    items = fields.List(fields.Nested(FacilitySchema))
    page = fields.Integer(allow_none=True, metadata={
        "description": "null for a page asked for by cursor"})
    total_estimated = fields.Boolean(metadata={
        "description": "true when `total` is an estimate, as it is past "
                       "SERVICEMAP_COUNT_EXACT_MAX facilities (README, Paging)"})
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "Pass as `cursor` for the next page; null on the last page"})


class FacilityQuerySchema(Schema):
    """Filters of GET /facilities: OR within a repeated filter, AND across filters."""

    kind = fields.List(fields.String(validate=validate.OneOf(KINDS)),
                       validate=validate.Length(max=len(KINDS)))
    service = fields.List(fields.String(validate=validate.OneOf(SERVICES)),
                          validate=validate.Length(max=len(SERVICES)))
    district = DistrictField(metadata={"type": "string", "example": "500109"})
    street = fields.String(validate=validate.Length(1, 100))
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)),
                         validate=validate.Length(max=len(STATUSES)))
    inclusive = fields.Boolean()
    q = fields.String(validate=validate.Length(1, 100),
                      metadata={"description": "Text in the name or address; 中文 substrings"})
    location_pending = fields.Boolean(metadata={
        "description": "true: only the facilities waiting for a location (geocoding failed); "
                       "false: only the others"})
    page = fields.Integer(load_default=1, validate=validate.Range(1, 1_000_000))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1),
                              metadata={"description": "Default 20, at most 100"})


class ApiRootSchema(Schema):
    name = fields.String()
    version = fields.String()
    openapi_url = fields.String()
    docs_url = fields.String()
    links = fields.Dict(keys=fields.String(), values=fields.String())


class NearestQuerySchema(PointSchema):
    """Parameters of GET /facilities/nearest."""

    kind = fields.List(fields.String(validate=validate.OneOf(KINDS)),
                       validate=validate.Length(max=len(KINDS)))
    service = fields.List(fields.String(validate=validate.OneOf(SERVICES)),
                          validate=validate.Length(max=len(SERVICES)))
    radius_m = fields.Float(load_default=5000.0, validate=validate.Range(1, 50_000))
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 100))
    open_at = BoundedDateTime(format="iso", metadata={
        "description": "ISO 8601; without an offset it is Asia/Shanghai time"})
    open_now = fields.Boolean(load_default=False)
    has_vacancy = fields.Boolean(load_default=False)
    inclusive = fields.Boolean()
    program = fields.String(validate=validate.Length(1, 64), metadata={
        "description": "A programme id: only facilities that deliver it"})

    @validates_schema
    def _one_time(self, data, **kwargs):
        if data.get("open_now") and "open_at" in data:
            raise ValidationError("Give open_at or open_now, not both.", "open_now")


class OriginSchema(Schema):
    lat = fields.Float()
    lon = fields.Float()
    coordsys = fields.String()


class NearbyFacilitySchema(FacilitySchema):
    distance_m = fields.Float(metadata={"description": "Geodesic metres, one decimal",
                                        "example": 412.3})


class NearestSchema(Schema):
    origin = fields.Nested(OriginSchema)
    items = fields.List(fields.Nested(NearbyFacilitySchema))
    holiday_data = fields.String(metadata={
        "enum": ["available", "unavailable"],
        "description": "With open_at or open_now: unavailable when the holiday calendar does "
                       "not know that day, which was then taken at its weekly hours"})
