"""Hold a JSON object Graph sent against the msgraph-sdk model it was parsed into, field by field."""

import datetime
import enum
import re

from kiota_abstractions.serialization import Parsable

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def attribute_name(json_name):
    """The SDK's Python attribute for a JSON property (kiota: camelCase -> snake_case)."""
    return _CAMEL_BOUNDARY.sub("_", json_name).lower()


def mismatches(model, raw, where="job"):
    """Every way `model` fails to hold `raw`: a JSON property the model has no property for, anything left in
    additional_data but OData annotations, an enum value the SDK does not know or spells differently, a value lost."""
    problems = []
    known = model.get_field_deserializers()
    leftover = sorted(name for name in model.additional_data if not name.startswith("@odata."))
    if leftover:
        problems.append("%s: left in additional_data: %s" % (where, leftover))
    for name, value in raw.items():
        if name.startswith("@odata."):
            continue
        if name not in known:
            problems.append("%s.%s: no property of %s" % (where, name, type(model).__name__))
            continue
        problems += _value_mismatches(getattr(model, attribute_name(name)), value, "%s.%s" % (where, name))
    return problems


def _value_mismatches(parsed, value, where):
    if value is None:
        return [] if parsed is None else ["%s: null parsed as %r" % (where, parsed)]
    if isinstance(value, dict):
        if not isinstance(parsed, Parsable):
            return ["%s: object parsed as %r" % (where, parsed)]
        return mismatches(parsed, value, where)
    if isinstance(value, list):
        if not isinstance(parsed, list) or len(parsed) != len(value):
            return ["%s: list of %d parsed as %r" % (where, len(value), parsed)]
        problems = []
        for index, (item_parsed, item) in enumerate(zip(parsed, value, strict=True)):
            problems += _value_mismatches(item_parsed, item, "%s[%d]" % (where, index))
        return problems
    return _scalar_mismatches(parsed, value, where)


def _scalar_mismatches(parsed, value, where):
    if value == "" and not isinstance(parsed, str):
        # Graph's documented "" in quarantine reason and dates: the SDK reads it as no value.
        return [] if parsed is None else ["%s: \"\" parsed as %r" % (where, parsed)]
    if isinstance(parsed, enum.Enum):
        # The SDK upper-cases the first letter before its lookup, so compare the spelling too.
        return [] if parsed.value == value else ["%s: %r parsed as the SDK's %r" % (where, value, parsed.value)]
    if isinstance(parsed, datetime.datetime):
        return [] if parsed.isoformat()[:19] == value[:19] else ["%s: %r parsed as %s" % (where, value, parsed)]
    if isinstance(parsed, datetime.timedelta):
        return []  # an ISO 8601 duration the SDK parsed (the schedule's interval)
    if parsed is None:
        return ["%s: %r unknown to the SDK (parsed as None)" % (where, value)]
    return [] if parsed == value and type(parsed) is type(value) else ["%s: %r parsed as %r" % (where, value, parsed)]
