# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIM property types: which values they hold, how they are stored in the lab state and how they look on the wire.

Values live in the state as JSON types: integers, booleans, strings, and datetimes as ISO 8601 strings with a time
zone (``2026-11-20T08:30:00Z``). On the wire Windows writes integers in decimal, booleans as ``true``/``false`` and
datetimes as ``<cim:Datetime>`` xs:dateTime (trailing zero fractions dropped), shared/reference/wire/ and the
txwinrm captures show each.
"""

import re
from datetime import datetime, timedelta, timezone

INTEGER_RANGES = {
    "uint8": (0, 2 ** 8 - 1),
    "uint16": (0, 2 ** 16 - 1),
    "uint32": (0, 2 ** 32 - 1),
    "uint64": (0, 2 ** 64 - 1),
    "sint8": (-2 ** 7, 2 ** 7 - 1),
    "sint16": (-2 ** 15, 2 ** 15 - 1),
    "sint32": (-2 ** 31, 2 ** 31 - 1),
    "sint64": (-2 ** 63, 2 ** 63 - 1),
}
# ``embedded_instance``: a string holding the CIM-XML text of an instance (MOF: string with the EmbeddedInstance
# qualifier), rendered in the machine's embedded-instance form. ``embedded_object``: a property typed by a class
# (MOF ``MSCluster_Property PrivateProperties``), kept as CIM-XML text too and rendered in the machine's
# embedded-object form. ``reference``: a REF method parameter, read and written as an endpoint reference (never
# stored in an instance).
CIM_TYPES = frozenset(INTEGER_RANGES) | {"string", "boolean", "datetime", "real32", "real64", "embedded_instance",
                                         "embedded_object", "reference"}

NEVER = "1601-01-01T00:00:00Z"

# DMTF datetime as WMI writes it in WQL and slmgr: yyyymmddHHMMSS.mmmmmm+UUU (offset in minutes).
_DMTF_DATETIME = re.compile(r"^(\d{14})\.(\d{6})([+-])(\d{3})$")


class CimTypeError(ValueError):
    """A value that the CIM type cannot hold."""


def parse_datetime(text):
    """An aware ``datetime`` from ISO 8601 (``Z`` or offset) or DMTF text; raise ``CimTypeError`` otherwise."""
    text = str(text).strip()
    match = _DMTF_DATETIME.match(text)
    if match:
        stamp, micro, sign, offset = match.groups()
        minutes = int(offset) * (1 if sign == "+" else -1)
        value = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(microsecond=int(micro))
        return value.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise CimTypeError("not a datetime: %r" % text) from error
    if value.tzinfo is None:
        raise CimTypeError("datetime without a time zone: %r" % text)
    return value


def format_datetime(value):
    """xs:dateTime text as Windows writes it: seconds, fraction without trailing zeros, ``Z`` or ``+hh:mm``."""
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += ("." + "%06d" % value.microsecond).rstrip("0")
    offset = value.utcoffset()
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return text + "%s%02d:%02d" % (sign, abs(minutes) // 60, abs(minutes) % 60)


def normalize(cim_type, value):
    """The state form of ``value`` for ``cim_type`` (None stays None); raise ``CimTypeError`` when it does not fit."""
    if value is None:
        return None
    if cim_type in INTEGER_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CimTypeError("%s needs an integer, got %r" % (cim_type, value))
        low, high = INTEGER_RANGES[cim_type]
        if not low <= value <= high:
            raise CimTypeError("%r is out of range for %s" % (value, cim_type))
        return value
    if cim_type == "boolean":
        if not isinstance(value, bool):
            raise CimTypeError("boolean needs true or false, got %r" % (value,))
        return value
    if cim_type == "datetime":
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise CimTypeError("datetime without a time zone: %r" % (value,))
            return format_datetime(value)
        return format_datetime(parse_datetime(value))
    if cim_type in ("real32", "real64"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CimTypeError("%s needs a number, got %r" % (cim_type, value))
        return float(value)
    if not isinstance(value, str):
        raise CimTypeError("string needs text, got %r" % (value,))
    return value


def to_wire(cim_type, value):
    """Text of a non-null scalar as it appears inside the property element (datetimes: the inner xs:dateTime)."""
    if cim_type == "boolean":
        return "true" if value else "false"
    if cim_type == "datetime":
        return format_datetime(parse_datetime(value))
    return str(value)


def from_wire(cim_type, text):
    """Parse wire text (Invoke parameters, selectors) into the state form; raise ``CimTypeError``."""
    text = text.strip() if cim_type != "string" else text
    if cim_type in INTEGER_RANGES:
        if not re.match(r"^[+-]?\d+$", text):
            raise CimTypeError("%s needs an integer, got %r" % (cim_type, text))
        return normalize(cim_type, int(text))
    if cim_type == "boolean":
        if text.lower() not in ("true", "false", "1", "0"):
            raise CimTypeError("boolean needs true or false, got %r" % text)
        return text.lower() in ("true", "1")
    if cim_type in ("real32", "real64"):
        try:
            return float(text)
        except ValueError as error:
            raise CimTypeError("%s needs a number, got %r" % (cim_type, text)) from error
    return normalize(cim_type, text)
