# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AVMA events from the classic Application log, read over WMI (``Win32_NTLogEvent``, root/cimv2): Event 12309 on a
guest (the outcome of each AVMA attempt) and Event 12310 on a Hyper-V host (one per AVMA request it served).

The WQL carries the bounds (log, event IDs, ``TimeGenerated`` since when); every event inside them is read, sorted
newest first and only then cut at ``max_events``: the order Win32_NTLogEvent enumerates in is not documented, so
stopping the enumeration early could keep the oldest events and drop the newest. Windows evaluates the WQL by
reading the whole log, so a large Application log costs time on the machine whatever the bounds. Provider, message
texts and insertion strings are unconfirmed, so each event is returned raw as well as decoded (from its codes
first), and every text is bounded: an event log is written by others.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.hyperv.avma.plugins.module_utils._avma import decode_avma_event
from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClass, CimProperty, format_dmtf_datetime, wql_string
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError

GUEST_EVENT_ID = 12309
HOST_EVENT_ID = 12310
AVMA_EVENT_IDS = (GUEST_EVENT_ID, HOST_EVENT_ID)
LOGFILE = "Application"

NT_LOG_EVENT = CimClass("root/cimv2", "Win32_NTLogEvent", (
    CimProperty("Logfile", "string"),
    CimProperty("RecordNumber", "uint32"),
    CimProperty("SourceName", "string"),
    CimProperty("EventCode", "uint16"),
    CimProperty("EventIdentifier", "uint32"),
    CimProperty("EventType", "uint8"),
    CimProperty("Type", "string"),
    CimProperty("Category", "uint16"),
    CimProperty("CategoryString", "string"),
    CimProperty("ComputerName", "string"),
    CimProperty("User", "string"),
    CimProperty("TimeGenerated", "datetime"),
    CimProperty("TimeWritten", "datetime"),
    CimProperty("Message", "string"),
    CimProperty("InsertionStrings", "string", array=True),
), keys=("Logfile", "RecordNumber"))

MAX_MESSAGE_CHARS = 8192
MAX_TEXT_CHARS = 512
MAX_INSERTION_STRINGS = 64
MAX_INSERTION_STRING_CHARS = 2048
MAX_EVENTS_LIMIT = 10000
# Events read at most in one call, whatever max_events says: beyond it the newest may be missing (``limited``).
MAX_SCANNED_EVENTS = 100000

_RELATIVE = re.compile(r"^\s*(\d{1,7})\s*([smhdw])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def utc_now():
    """The controller's time, UTC (a function so that tests can fix it)."""
    return datetime.datetime.now(datetime.timezone.utc)


def parse_since(since, *, now=None):
    """The start of the window as an aware UTC datetime, from ``7d`` / ``12h`` / ``30m`` / ``90s`` / ``2w`` (before
    ``now``, the controller's clock) or an ISO 8601 date or time (without an offset: UTC). None gives None."""
    if since is None:
        return None
    if isinstance(since, datetime.datetime):
        moment = since
    else:
        text = str(since).strip()
        match = _RELATIVE.match(text)
        if match:
            amount, unit = int(match.group(1)), match.group(2).lower()
            return (now or utc_now()) - datetime.timedelta(seconds=amount * _UNIT_SECONDS[unit])
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError as exc:
            raise AvmaValueError("since %r is neither a duration like 7d, 12h, 30m, 90s, 2w nor an ISO 8601 time like "
                                 "2026-11-20T08:00:00Z" % text) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def events_query(event_ids=AVMA_EVENT_IDS, since=None):
    """The WQL condition: the Application log, the given event IDs, and TimeGenerated from ``since`` (aware datetime)."""
    if not event_ids:
        raise AvmaValueError("give at least one event ID")
    codes = []
    for event_id in event_ids:
        if isinstance(event_id, bool) or not isinstance(event_id, int) or not 0 <= event_id <= 65535:
            raise AvmaValueError("event ID %r is not a number from 0 to 65535" % (event_id,))
        codes.append("EventCode = %d" % event_id)
    condition = "Logfile = %s AND (%s)" % (wql_string(LOGFILE), " OR ".join(codes))
    if since is not None:
        condition += " AND TimeGenerated >= %s" % wql_string(format_dmtf_datetime(since.astimezone(datetime.timezone.utc)))
    return condition


def _bounded_text(value, limit):
    """(text cut to ``limit`` characters, whether it was cut); None stays None."""
    if value is None:
        return None, False
    text = str(value)
    return text[:limit], len(text) > limit


def _iso(value):
    return value.isoformat() if isinstance(value, datetime.datetime) else None


def event_record(row):
    """One event as the collection returns it: time, record number, provider, event ID, message, insertion strings
    and the decoded 12309 outcome (None when not recognisable), plus ``raw`` (every property read, bounded) and
    ``truncated`` (whether any text was cut)."""
    truncated = False
    texts = {}
    for name in ("SourceName", "Type", "CategoryString", "ComputerName", "User", "Logfile"):
        texts[name], cut = _bounded_text(row.get(name), MAX_TEXT_CHARS)
        truncated |= cut
    message, cut = _bounded_text(row.get("Message"), MAX_MESSAGE_CHARS)
    truncated |= cut
    raw_strings = row.get("InsertionStrings") or []
    truncated |= len(raw_strings) > MAX_INSERTION_STRINGS
    insertion_strings = []
    for item in raw_strings[:MAX_INSERTION_STRINGS]:
        text, cut = _bounded_text(item, MAX_INSERTION_STRING_CHARS)
        truncated |= cut
        insertion_strings.append(text)
    raw = dict(texts, Message=message, InsertionStrings=insertion_strings, RecordNumber=row.get("RecordNumber"),
               EventCode=row.get("EventCode"), EventIdentifier=row.get("EventIdentifier"), EventType=row.get("EventType"),
               Category=row.get("Category"), TimeGenerated=_iso(row.get("TimeGenerated")), TimeWritten=_iso(row.get("TimeWritten")))
    return dict(
        time_generated=raw["TimeGenerated"],
        time_written=raw["TimeWritten"],
        record_number=row.get("RecordNumber"),
        provider=texts["SourceName"],
        event_id=row.get("EventCode"),
        type=texts["Type"],
        computer_name=texts["ComputerName"],
        message=message,
        insertion_strings=insertion_strings,
        outcome=decode_avma_event(row.get("EventCode"), message, insertion_strings),
        raw=raw,
        truncated=truncated,
    )


_EPOCH = datetime.datetime(1601, 1, 1, tzinfo=datetime.timezone.utc)


def _newest_first(row):
    moment = row.get("TimeGenerated")
    if not isinstance(moment, datetime.datetime):
        moment = _EPOCH
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return (moment, row.get("RecordNumber") or 0)


def read_events_window(cim, *, event_ids=AVMA_EVENT_IDS, since=None, max_events=100):
    """The AVMA events of one machine inside the WQL bounds, newest first, at most ``max_events``; and how many
    matched (at most MAX_SCANNED_EVENTS are read).

    ``since`` is an aware datetime or None. Returns (event_record dicts, matched). Raises the CimClient's errors.
    """
    if isinstance(max_events, bool) or not isinstance(max_events, int) or not 1 <= max_events <= MAX_EVENTS_LIMIT:
        raise AvmaValueError("max_events (%r) must be a number from 1 to %d" % (max_events, MAX_EVENTS_LIMIT))
    rows = cim.query(NT_LOG_EVENT, events_query(event_ids, since), limit=MAX_SCANNED_EVENTS)
    newest = sorted(rows, key=_newest_first, reverse=True)[:max_events]
    return [event_record(row) for row in newest], len(rows)


def read_events(cim, *, event_ids=AVMA_EVENT_IDS, since=None, max_events=100):
    """The newest ``max_events`` AVMA events of one machine inside the bounds, newest first (read_events_window)."""
    return read_events_window(cim, event_ids=event_ids, since=since, max_events=max_events)[0]


def latest_guest_outcome(cim, *, since=None, max_events=20):
    """The newest Event 12309 whose outcome is recognisable, as its event_record, or None."""
    for record in read_events(cim, event_ids=(GUEST_EVENT_ID,), since=since, max_events=max_events):
        if record["outcome"] is not None:
            return record
    return None


ACTIVATION_EVENTS_SPEC = dict(
    event_ids=dict(type="list", elements="int", default=list(AVMA_EVENT_IDS)),
    since=dict(type="str"),
    max_events=dict(type="int", default=100),
)


def activation_events_task(cim, params, check_mode, diff):
    """The activation_events task: read-only, so check mode and diff change nothing.

    Returns ``events`` (newest first), ``count``, ``since`` (the window start, ISO 8601, or None) and ``limited``
    (True when more events matched than ``max_events``, so older ones were left out)."""
    since = parse_since(params.get("since"))
    max_events = params.get("max_events")
    events, matched = read_events_window(cim, event_ids=tuple(params.get("event_ids") or ()), since=since, max_events=max_events)
    return dict(changed=False, events=events, count=len(events), since=_iso(since),
                limited=matched > max_events or matched >= MAX_SCANNED_EVENTS)
