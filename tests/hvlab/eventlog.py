# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The classic event logs of a machine, kept as Win32_NTLogEvent instances in its store, and the AVMA events.

Records are numbered per log, from 1, in the order they are written (seeded events first, sorted by time).
EventIdentifier is ``qualifiers << 16 | EventCode`` with the qualifiers of the severity (0x4000 information,
0x8000 warning, 0xC000 error), the form events of classic sources show; inferred for the AVMA events.

Unconfirmed (avma-facts "Unconfirmed" 3): the provider of events 12309/12310, their message texts and the order of
their insertion strings. They are the constants below, so a client can be shown to match on log and event ID and to
keep the raw message and insertion strings:

- 12309, guest: ``[outcome, host computer name or "", result code "0x%08X"]``, Information on success, Warning
  otherwise; the outcome is one of ``activation.OUTCOMES``.
- 12310, host: ``[VM name, guest computer name, guest OS caption, outcome, result code]``, Information.

Windows writes messages and outcome words in the machine's display language; the result code stays a number. A
machine with ``wire.event_language: de`` writes German texts (the lab's own wording: no public sample exists), so a
client can be shown to decode from the codes rather than from English words.
"""

import re
from datetime import datetime, timedelta, timezone

from .cimtypes import parse_datetime
from .classes_events import WIN32_NT_LOG_EVENT

APPLICATION_LOG = "Application"
LOGS = ("Application", "System")

AVMA_SOURCE = "Microsoft-Windows-Security-SPP"
GUEST_EVENT_ID = 12309
HOST_EVENT_ID = 12310
MESSAGES = {
    GUEST_EVENT_ID: "Automatic Virtual Machine Activation result: %1. Host: %2. Result code: %3.",
    HOST_EVENT_ID: "Automatic Virtual Machine Activation request from virtual machine %1 (guest computer %2, %3): "
                   "%4. Result code: %5.",
}

# language -> (messages, outcome words by English outcome)
TRANSLATIONS = {
    "en": (MESSAGES, {}),
    "de": ({
        GUEST_EVENT_ID: "Ergebnis der automatischen Aktivierung virtueller Computer: %1. Host: %2. Ergebniscode: %3.",
        HOST_EVENT_ID: "Anforderung der automatischen Aktivierung virtueller Computer vom virtuellen Computer %1 "
                       "(Gastcomputer %2, %3): %4. Ergebniscode: %5.",
    }, {
        "AVMA Success": "AVMA erfolgreich",
        "Invalid Host": "Ungültiger Host",
        "Invalid Data": "Ungültige Daten",
        "Activation Denied": "Aktivierung verweigert",
    }),
}
EVENT_LANGUAGES = tuple(TRANSLATIONS)

INSERTION = re.compile(r"%(\d+)")

# type name -> (EventType, Type, qualifiers)
EVENT_TYPES = {
    "error": (1, "Error", 0xC000),
    "warning": (2, "Warning", 0x8000),
    "information": (3, "Information", 0x4000),
}


def now():
    """The lab's clock: the current time, UTC. Tests replace it to get fixed times."""
    return datetime.now(timezone.utc)


def render_message(template, insertion_strings):
    """``template`` with each ``%N`` replaced by insertion string N (missing ones by nothing) in one pass, as the
    event viewer formats a message: text inside an insertion string is never substituted again."""
    def substitute(match):
        index = int(match.group(1))
        return insertion_strings[index - 1] if 1 <= index <= len(insertion_strings) else ""
    return INSERTION.sub(substitute, template)


def default_message(event_id, insertion_strings, language="en"):
    """The lab's message for ``event_id``: its template filled in, or the insertion strings joined for other IDs."""
    template = TRANSLATIONS[language][0].get(event_id)
    if template is None:
        return " ".join(insertion_strings)
    return render_message(template, insertion_strings)


def next_record_number(store, log):
    """The RecordNumber the next record of ``log`` on this machine gets."""
    numbers = [event["RecordNumber"] for event in store.instances(WIN32_NT_LOG_EVENT) if event["Logfile"] == log]
    return max(numbers, default=0) + 1


def write_event(store, *, computer_name, log, event_id, source, event_type, insertion_strings, time, message=None,
                language="en", record_number=None):
    """Append a record to ``log`` of the machine whose ``store`` this is; return the instance. ``record_number``
    None: the log's next one."""
    type_code, type_name, qualifiers = EVENT_TYPES[event_type]
    strings = list(insertion_strings)
    return store.add(WIN32_NT_LOG_EVENT, WIN32_NT_LOG_EVENT.new_instance(
        Category=0,
        CategoryString=None,
        ComputerName=computer_name,
        Data=None,
        EventCode=event_id,
        EventIdentifier=(qualifiers << 16) | event_id,
        EventType=type_code,
        InsertionStrings=strings,
        Logfile=log,
        Message=message if message is not None else default_message(event_id, strings, language),
        RecordNumber=record_number if record_number is not None else next_record_number(store, log),
        SourceName=source,
        TimeGenerated=time,
        TimeWritten=time,
        Type=type_name,
        User=None,
    ))


def seed_events(store, spec):
    """Write the fleet file's ``events`` of ``MachineSpec`` ``spec`` into ``store``, oldest first (an entry with a
    ``count`` is that many records, ``every_seconds`` apart), numbered per log."""
    records = sorted(((parse_datetime(event.time) + timedelta(seconds=event.every_seconds * repeat), order, event)
                      for order, event in enumerate(spec.events) for repeat in range(event.count)), key=lambda record: record[:2])
    numbers = {}
    for time, _order, event in records:
        if event.log not in numbers:
            numbers[event.log] = next_record_number(store, event.log) - 1
        numbers[event.log] += 1
        write_event(store, computer_name=spec.os.computer_name, log=event.log, event_id=event.event_id,
                    source=event.source, event_type=event.event_type, insertion_strings=event.insertion_strings,
                    time=time, message=event.message, record_number=numbers[event.log])


def result_code(hresult):
    return "0x%08X" % hresult


def _outcome_words(outcome, language):
    return TRANSLATIONS[language][1].get(outcome, outcome)


def write_guest_avma_event(store, *, computer_name, outcome, host_name, hresult, time, language="en"):
    """Event 12309 on the guest: one per AVMA activation attempt."""
    return write_event(store, computer_name=computer_name, log=APPLICATION_LOG, event_id=GUEST_EVENT_ID,
                       source=AVMA_SOURCE, event_type="information" if hresult == 0 else "warning",
                       insertion_strings=[_outcome_words(outcome, language), host_name, result_code(hresult)], time=time,
                       language=language)


def write_host_avma_event(store, *, computer_name, vm_name, guest_name, guest_caption, outcome, hresult, time, language="en"):
    """Event 12310 on the host: one per AVMA request that reached it."""
    return write_event(store, computer_name=computer_name, log=APPLICATION_LOG, event_id=HOST_EVENT_ID,
                       source=AVMA_SOURCE, event_type="information",
                       insertion_strings=[vm_name, guest_name, guest_caption, _outcome_words(outcome, language),
                                          result_code(hresult)], time=time, language=language)
