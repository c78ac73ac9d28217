# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fleet AVMA compliance: from what the Hyper-V hosts (and, where allowed, the guests) answered, decide for every VM
whether it is compliant, not compliant or unknown, with the evidence or the cause. Pure code: no I/O, no Ansible.

Nothing is compliant by default. A VM is compliant only with evidence, strongest first:

1. the guest's own licence facts (read through the guest's WinRM connection): its Windows key is Licensed;
2. the host's own Application log: the latest AVMA request of the VM (Event 12310) lies within the renewal window
   and does not carry a failure outcome;
3. the status the guest published through KVP under the collection's prefix (``HyperVAvma.LicenseStatus``): only
   ``Licensed`` for an AVMA key, with a last activation (``HyperVAvma.LastActivationTime``) inside the renewal window,
   not in the future and not later than the host's own log allows; KVP is written by the guest, so this is the
   weakest evidence, and a host can only vouch for AVMA.

A VM is not compliant with a cause, most specific first (see PROBLEMS). Everything else is unknown, saying what would
settle it (reading the guest, or the host's 12310 logging).

Input per host (``build_report(hosts, guests, ...)``): ``name``; ``host_info`` (the host_info module's result);
``kvp`` (kvp_info's host-scope result: ``vms`` with items and decoded intrinsic facts); ``events`` (activation_events'
``events`` for ID 12310), ``events_since`` (where that history starts, ISO 8601, None for all of it) and
``events_limited`` (True when older events were left out to stay within max_events); or ``error`` (why the host could
not be read). ``guests`` maps a guest's name or FQDN to its activation facts (activation_facts' ``avma`` fact).

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.hyperv.avma.plugins.module_utils._avma import AVMA_KVP_PREFIX, EDITIONS, STATUS_DIGEST_ITEM, decode_avma_event

# Version of the report's JSON layout; raised whenever a field changes meaning or disappears (docs: guide_report).
SCHEMA_VERSION = 2

HOST_EVENT_ID = 12310
# An AVMA guest renews its activation with its host every 7 days (its licence then runs for 7 more days: the
# GracePeriodRemaining of a fresh AVMA activation), so a VM that uses AVMA has a request in any 7-day window while it
# runs. A request older than the window says nothing about today.
DEFAULT_RENEWAL_DAYS = 7
# A guest keeps its clock with its host's (Hyper-V time synchronisation), but not to the second: a time the guest
# published may lie this much after the report's time, or after the host's latest logged request, and still be taken.
CLOCK_TOLERANCE = datetime.timedelta(minutes=10)

COMPLIANT = "compliant"
NOT_COMPLIANT = "not_compliant"
UNKNOWN = "unknown"
STATES = (COMPLIANT, NOT_COMPLIANT, UNKNOWN)

# code -> (what it means, what to do); the wording takes the host or VM name through %(host)s / %(vm)s.
PROBLEMS = {
    "host_unreachable": ("the Hyper-V host could not be read: %(detail)s", "check WinRM and the credentials for this host"),
    "hyperv_missing": ("Hyper-V is not installed or not running on %(host)s", "install the Hyper-V role and restart the host"),
    "hyperv_unavailable": ("Hyper-V is installed on %(host)s but does not answer (WMI namespace root/virtualization/v2), so its VMs "
                           "could not be listed", "restart the host to finish installing Hyper-V, and check that the Hyper-V Virtual "
                           "Machine Management service runs"),
    "host_not_datacenter": ("%(host)s is not Windows Server Datacenter, so it cannot activate guests through AVMA",
                            "run AVMA guests on Datacenter hosts, or license the guests with other keys"),
    "host_not_activated": ("%(host)s is not activated, so its guests cannot activate through AVMA", "activate the Hyper-V host"),
    "data_exchange_off": ("Data Exchange is off for %(vm)s, so its AVMA key cannot activate or renew with its host",
                          "enable the Data Exchange integration service (hyperv.avma.integration_service)"),
    "avma_host_cannot_activate": ("%(vm)s uses AVMA but %(host)s cannot activate it: %(detail)s",
                                  "move the VM to a Datacenter host of its version or newer that is activated, or install another key"),
    "avma_request_failed": ("the latest AVMA request of %(vm)s failed on %(host)s: %(detail)s",
                            "look at the guest's Event 12309 and its licence state (hyperv.avma.activation_facts)"),
    "evaluation_edition": ("%(vm)s runs an evaluation edition (%(detail)s), which AVMA cannot activate",
                           "convert it with DISM /Set-Edition, then activate it (the guest_activation role)"),
    "guest_not_licensed": ("%(vm)s is not licensed: %(detail)s", "run the guest_activation role, or look at the guest's licence state"),
    "kvp_too_large": ("the KVP items of %(vm)s on %(host)s were not read: they do not fit in one answer of the host (%(detail)s)",
                      "find the oversized item (hyperv.avma.kvp_info with scope=guest on the guest) and shorten it"),
    "stale_avma_kvp": ("%(vm)s still publishes AVMA activation data through KVP although its key is no longer an AVMA key",
                       "remove the stale items (hyperv.avma.product_key with clean_stale_kvp, or hyperv.avma.kvp_item)"),
}

_HOST_PROBLEM_CODES = ("hyperv_missing", "hyperv_unavailable", "host_not_datacenter", "host_not_activated")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def _problem(code, host, vm=None, detail=""):
    meaning, remedy = PROBLEMS[code]
    return dict(code=code, host=host, vm=vm, message=meaning % dict(host=host, vm=vm, detail=detail), remedy=remedy)


def parse_time(value):
    """An aware UTC datetime from an ISO 8601 text (no zone: UTC) or a datetime; None when it is neither."""
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def iso_time(value):
    """``value`` as ISO 8601 in UTC with its zone and without fractions of a second (2026-12-02T16:20:05+00:00), or
    None."""
    moment = parse_time(value)
    return moment.replace(microsecond=0).isoformat() if moment else None


def _age_days(moment, now):
    """Days from ``moment`` to ``now``; 0 for a moment within the clocks' tolerance after ``now``."""
    return round(max((now - moment).total_seconds(), 0) / 86400, 1)


def _published_status(vm):
    """The activation status the guest published through KVP under AVMA_KVP_PREFIX (name without prefix -> value),
    without the digest item that only tells product_key whether the items changed."""
    items = vm.get("guest_items") or {}
    prefix, digest = AVMA_KVP_PREFIX.lower(), STATUS_DIGEST_ITEM.lower()
    return {name[len(prefix):]: value for name, value in items.items()
            if isinstance(name, str) and name.lower().startswith(prefix) and name.lower() != digest}


def _vm_keys(vms):
    """Lower-cased names an Event 12310 may use for a VM (its name, ID, FQDN, computer name) -> VM ID."""
    keys = {}
    for vm in vms:
        facts = vm.get("intrinsic_facts") or {}
        fqdn = facts.get("fqdn") or ""
        for key in (vm.get("name"), vm.get("id"), fqdn, fqdn.split(".", 1)[0]):
            if key:
                keys.setdefault(key.lower(), vm["id"])
    return keys


def host_requests(vms, events):
    """The host's AVMA requests (Event 12310), oldest first, each as {time, vm_id, vm_name, outcome}. Which insertion
    string names the VM is unconfirmed, so an event belongs to a VM when any of its insertion strings equals the VM's
    name, ID, FQDN or computer name; ``vm_id`` is None for a request of no VM the host has now (its first insertion
    string is then kept as ``vm_name``). Events without a time are left out: they cannot be placed in a window. The
    outcome is the event's own decoded ``outcome`` when it has one (activation_events decodes it from the whole
    message); else it is decoded here from the event's result code, else its words (``_avma.decode_avma_event``); None
    when it states neither."""
    keys = _vm_keys(vms)
    names = {vm["id"]: vm.get("name") for vm in vms}
    requests = []
    for event in events or []:
        if not isinstance(event, dict) or event.get("event_id") != HOST_EVENT_ID:
            continue
        moment = parse_time(event.get("time_generated"))
        if moment is None:
            continue
        strings = [text for text in event.get("insertion_strings") or [] if isinstance(text, str)]
        matched = sorted({keys[text.lower()] for text in strings if text.lower() in keys})
        outcome = event.get("outcome")
        if not (isinstance(outcome, dict) and {"text", "meaning", "success"} <= set(outcome)):
            outcome = decode_avma_event(HOST_EVENT_ID, event.get("message") if isinstance(event.get("message"), str) else None, strings)
        for vm_id in matched or [None]:
            requests.append(dict(time=moment, vm_id=vm_id, vm_name=names[vm_id] if vm_id else (strings[0] if strings else None),
                                 outcome=outcome))
    requests.sort(key=lambda request: request["time"])
    return requests


def _request_summary(requests):
    if not requests:
        return dict(count=0, first=None, last=None, last_outcome=None)
    last = requests[-1]
    return dict(count=len(requests), first=iso_time(requests[0]["time"]), last=iso_time(last["time"]),
                last_outcome=(last["outcome"] or {}).get("text"))


def _guest_facts(guests, vm):
    facts = vm.get("intrinsic_facts") or {}
    for key in (vm.get("name"), facts.get("fqdn"), (facts.get("fqdn") or "").split(".", 1)[0]):
        if key and key.lower() in guests:
            return guests[key.lower()]
    return None


def _host_capability(host_info):
    """(can activate at all, releases it can activate, why not)."""
    host = host_info.get("host") or {}
    if not host.get("is_datacenter"):
        return False, (), "it is not Datacenter"
    if not host.get("activated"):
        return False, (), "it is not activated"
    return True, tuple(host_info.get("can_activate_releases") or ()), ""


def _avma_blocker(host_name, vm, host_info, release):
    """The problem that keeps an AVMA VM from activating on this host, or None."""
    capable, releases, why = _host_capability(host_info)
    if not capable:
        return _problem("avma_host_cannot_activate", host_name, vm["name"], why)
    if release and release not in releases:
        return _problem("avma_host_cannot_activate", host_name, vm["name"], "the guest (%s) is newer than the host" % release)
    return None


def _evidence(source, summary, time=None, now=None):
    moment = parse_time(time)
    return dict(source=source, summary=summary, time=iso_time(moment),
                age_days=_age_days(moment, now) if moment is not None and now is not None else None)


def _not_licensed_detail(guest):
    product = guest.get("windows_product")
    if not product:
        edition = (guest.get("os") or {}).get("edition_id") or ""
        if edition.endswith("Eval"):
            return "no key is installed and %s is an evaluation edition (convert it with DISM /Set-Edition first)" % edition
        return "no Windows key is installed"
    reason = product.get("license_status_reason") or {}
    return "%s (%s%s)" % (product.get("license_status_name"), reason.get("hex"), ", " + reason["meaning"] if reason.get("meaning") else "")


def _from_guest(host_name, vm, host_info, guest, published, release, now):
    """(state, evidence, problems) from the guest's own licence facts."""
    product = guest.get("windows_product")
    problems = []
    if product and product.get("is_avma_key"):
        if vm.get("state") == "running" and (vm.get("data_exchange") or {}).get("enabled") is False:
            problems.append(_problem("data_exchange_off", host_name, vm["name"]))
        blocker = _avma_blocker(host_name, vm, host_info, release)
        if blocker:
            problems.append(blocker)
    licensed = bool(product) and product.get("license_status") == 1
    if not licensed and not problems:
        problems.append(_problem("guest_not_licensed", host_name, vm["name"], _not_licensed_detail(guest)))
    if product and not product.get("is_avma_key") and published.get("Channel", "").upper() == "AVMA":
        problems.append(_problem("stale_avma_kvp", host_name, vm["name"]))
    evidence = []
    if product:
        channel = "AVMA" if product.get("is_avma_key") else (product.get("channel") or "unknown channel")
        evidence.append(_evidence("guest", "the guest reports %s with a %s key ending %s" % (
            product.get("license_status_name"), channel, product.get("partial_product_key")),
            product.get("avma_last_activation_time") if product.get("is_avma_key") else None, now))
    return (NOT_COMPLIANT if problems else COMPLIANT), evidence, problems


def _from_host(host_name, vm, host_info, requests, published, release, edition_id, window, now):
    """(state, evidence, problems, settle) from what the host knows: KVP intrinsic items, 12310 history, and the
    status the guest published through KVP.

    A request inside the renewal window decides when its outcome is known: success is compliant; a failure, a host
    that cannot activate the VM or Data Exchange off is not. A request whose outcome states neither a result code nor
    known words proves only that the VM asked: the published status may then settle it, else the VM is unknown."""
    name = vm["name"]
    edition = EDITIONS.get((edition_id or "").lower())
    if edition is not None and edition.evaluation:
        return NOT_COMPLIANT, [], [_problem("evaluation_edition", host_name, name, edition_id)], None
    data_exchange_off = vm.get("state") == "running" and (vm.get("data_exchange") or {}).get("enabled") is False
    recent = [request for request in requests if now - request["time"] <= window]
    latest = recent[-1] if recent else None
    if latest is not None:
        outcome = latest["outcome"]
        evidence = [_evidence("host_12310", "AVMA request logged by the host (Event 12310)%s" % (
            ", outcome %s" % _outcome_text(outcome) if outcome else ", outcome not stated"), latest["time"], now)]
        blocker = _avma_blocker(host_name, vm, host_info, release)
        if blocker:
            return NOT_COMPLIANT, evidence, [blocker], None
        if outcome and not outcome["success"]:
            return NOT_COMPLIANT, evidence, [_problem("avma_request_failed", host_name, name, "%s (%s)" % (_outcome_text(outcome), outcome["meaning"]))], None
        if data_exchange_off:
            return NOT_COMPLIANT, evidence, [_problem("data_exchange_off", host_name, name)], None
        if outcome:
            return COMPLIANT, evidence, [], None
    if published.get("LicenseStatus") and not data_exchange_off:
        state, evidence, problems, said = _from_published(host_name, vm, host_info, requests, published, release, window, now)
        if state != UNKNOWN:
            return state, evidence, problems, None
    else:
        said = None
    if data_exchange_off:
        settle = ("Data Exchange is off, so the host sees neither its KVP data nor AVMA requests from it: read the guest "
                  "(compliance_report_guest_access), or enable Data Exchange")
    elif vm.get("state") != "running":
        settle = "the VM is not running, so its host has no KVP data of it: read the guest once it runs"
    else:
        if latest is not None:
            host_view = ("its latest AVMA request in the host's Event 12310 history (%s) states no outcome the report can read "
                         "(neither a result code nor the outcome words)" % iso_time(latest["time"]))
        elif requests:
            host_view = "its last AVMA request (%s) is older than the %d-day renewal window" % (iso_time(requests[-1]["time"]), window.days)
        else:
            host_view = "no AVMA request from it in the host's Event 12310 history"
        settle = "%s, and %s: read the guest (compliance_report_guest_access)%s" % (
            host_view, said or "it published no status through KVP",
            ", or check that the host logs Event 12310 in its Application log" if not requests else "")
    return UNKNOWN, [], [], settle


def _outcome_text(outcome):
    return "%s (%s)" % (outcome["text"], outcome["result_code"]) if outcome.get("result_code") else outcome["text"]


def _from_published(host_name, vm, host_info, requests, published, release, window, now):
    """(state, evidence, problems, what was published) from the status the guest published through KVP.

    Only an AVMA key activates with the host, so only for one does a host vouch: a published ``Licensed`` counts when
    the published last activation is a readable time inside the renewal window, not in the future (a guest can write
    anything, and a time to come would stay fresh for ever), and not later than the VM's latest request in the host's
    own log (which is stronger than what the guest says). A published status other than Licensed, or an AVMA key on
    a host that cannot activate it, is not compliant: the guest says so itself. Everything else is unknown, and the
    text says what was published and why it does not count."""
    name = vm["name"]
    status = published["LicenseStatus"]
    channel = (published.get("Channel") or "").strip()
    if channel.upper() != "AVMA":
        return UNKNOWN, [], [], "it published %s for %s through KVP, which a host cannot check: only an AVMA key activates with its host" % (
            status, "a %s key" % channel if channel else "a key of no named channel")
    raw_time = (published.get("LastActivationTime") or "").strip()
    activated = parse_time(raw_time)
    future = activated is not None and activated - now > CLOCK_TOLERANCE
    evidence = [_evidence("guest_kvp", "the guest published %s for its AVMA key through KVP" % status, None if future else activated, now)]
    blocker = _avma_blocker(host_name, vm, host_info, release)
    if blocker:
        return NOT_COMPLIANT, evidence, [blocker], None
    if status != "Licensed":
        detail = "it reports %s%s through KVP" % (status, " (%s)" % published["LicenseStatusReason"] if published.get("LicenseStatusReason") else "")
        return NOT_COMPLIANT, evidence, [_problem("guest_not_licensed", host_name, name, detail)], None
    said = "it published Licensed for its AVMA key through KVP"
    if activated is None:
        return UNKNOWN, [], [], "%s with %s last activation time" % (said, "an unreadable" if raw_time else "no")
    if future:
        return UNKNOWN, [], [], "%s with a last activation in the future (%s), which cannot be true" % (said, iso_time(activated))
    if now - activated > window:
        return UNKNOWN, [], [], "%s with its last activation (%s) older than the %d-day renewal window" % (said, iso_time(activated), window.days)
    if requests and activated - requests[-1]["time"] > CLOCK_TOLERANCE:
        return UNKNOWN, [], [], "%s with a last activation (%s) after the latest AVMA request the host logged from it (%s)" % (
            said, iso_time(activated), iso_time(requests[-1]["time"]))
    return COMPLIANT, evidence, [], None


def _vm_entry(host_name, vm, host_info, guest, requests, window, now):
    published = _published_status(vm)
    facts = vm.get("intrinsic_facts") or {}
    product = (guest or {}).get("windows_product") or {}
    release = ((guest or {}).get("os") or {}).get("release") or published.get("Release") or facts.get("os_release")
    edition_id = ((guest or {}).get("os") or {}).get("edition_id") or facts.get("os_edition_id") or published.get("Edition")
    if guest is not None:
        state, evidence, problems = _from_guest(host_name, vm, host_info, guest, published, release, now)
        settle = None
    else:
        state, evidence, problems, settle = _from_host(host_name, vm, host_info, requests, published, release, edition_id, window, now)
    problems = problems + [_problem("kvp_too_large", host_name, vm.get("name"), detail=issue.get("source") or "")
                           for issue in vm.get("issues") or [] if isinstance(issue, dict) and issue.get("code") == "too_large"]
    return dict(
        name=vm.get("name"), id=vm.get("id"), state=vm.get("state"), fqdn=facts.get("fqdn"), os_name=facts.get("os_name"),
        release=release, edition_id=edition_id, ipv4=facts.get("ipv4_addresses") or [],
        data_exchange_enabled=(vm.get("data_exchange") or {}).get("enabled"),
        avma_requests=_request_summary(requests), published_status=published or None,
        guest=dict(license_status_name=product.get("license_status_name"), partial_product_key=product.get("partial_product_key"),
                   avma_activated=product.get("avma_activated")) if guest else None,
        compliance=state, evidence=evidence, problems=problems, settle=settle,
    )


def history_bounds(requests, events_since, events_limited, now):
    """(from when the host's request history is complete, why it is not complete before): ``events_since`` (the start
    of what was read), or, when the history was cut at max_events (``events_limited``), the oldest request read, since
    older ones were left out. (None, None) when the whole log was read."""
    since = parse_time(events_since)
    if events_limited:
        oldest = min((request["time"] for request in requests), default=now)
        if since is None or oldest > since:
            return oldest, ("the history read was cut at compliance_report_max_events: requests before %s were left out"
                            % iso_time(oldest))
    if since is None:
        return None, None
    return since, "the history read starts at %s" % iso_time(since)


def _host_entry(host, guests, window, now):
    """(host entry, the host's 12310 requests, its history_bounds)."""
    name = host["name"]
    if host.get("error"):
        return dict(name=name, read=False, release=None, edition_id=None, activated=None, ready=False, vms=[],
                    problems=[_problem("host_unreachable", name, detail=host["error"])],
                    events_since=None, events_limited=None, history_complete_from=None), [], (None, None)
    host_info = host.get("host_info") or {}
    facts = host_info.get("host") or {}
    host_problems = [_problem(problem["code"], name) for problem in host_info.get("problems") or []
                     if problem.get("code") in _HOST_PROBLEM_CODES and not problem.get("vm")]
    vms = [vm for vm in (host.get("kvp") or {}).get("vms") or [] if isinstance(vm, dict) and vm.get("id")]
    requests = host_requests(vms, host.get("events"))
    by_vm = {}
    for request in requests:
        by_vm.setdefault(request["vm_id"], []).append(request)
    entries = [_vm_entry(name, vm, host_info, _guest_facts(guests, vm), by_vm.get(vm["id"], []), window, now)
               for vm in sorted(vms, key=lambda vm: (vm.get("name") or "").lower())]
    os_facts = facts.get("os") or {}
    bounds = history_bounds(requests, host.get("events_since"), host.get("events_limited"), now)
    return dict(name=name, read=True, release=os_facts.get("release"), edition_id=os_facts.get("edition_id"), activated=facts.get("activated"),
                ready=not host_problems, vms=entries, problems=host_problems, events_since=iso_time(host.get("events_since")),
                events_limited=bool(host.get("events_limited")), history_complete_from=iso_time(bounds[0])), requests, bounds


def parse_month(text, name):
    """(year, month) from ``YYYY-MM``; ValueError naming the input otherwise."""
    match = _MONTH.match(str(text or "").strip())
    if not match:
        raise ValueError("%s must be a calendar month as YYYY-MM, not %r" % (name, text))
    return int(match.group(1)), int(match.group(2))


def _month_name(moment):
    return "%04d-%02d" % (moment.year, moment.month)


def usage_history(host_requests_by_name, first_month, last_month, history_bounds_by_name=None):
    """SPLA usage: per host and calendar month (UTC) from ``first_month`` to ``last_month`` (``YYYY-MM``, both
    included), the VMs that made AVMA requests, each with count, first and last. Requests of VMs the host no longer
    has are listed under their logged name with ``vm_id`` None. Months without requests are listed with no VMs, so
    that a gap shows.

    ``history_bounds_by_name`` gives per host (complete from, why not before) as history_bounds returns it: a month
    that begins before its host's history is complete is marked ``complete`` False with ``incomplete_because``, since
    its counts may be too low (a partial first month, or history cut at max_events)."""
    first, last = parse_month(first_month, "the first month"), parse_month(last_month, "the last month")
    if first > last:
        raise ValueError("the usage period starts (%04d-%02d) after it ends (%04d-%02d)" % (first + last))
    months = []
    year, month = first
    while (year, month) <= last:
        months.append("%04d-%02d" % (year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    rows = []
    for host_name in sorted(host_requests_by_name, key=str.lower):
        per_month = {name: {} for name in months}
        for request in host_requests_by_name[host_name]:
            bucket = per_month.get(_month_name(request["time"]))
            if bucket is None:
                continue
            key = (request["vm_id"], request["vm_name"])
            entry = bucket.setdefault(key, dict(vm=request["vm_name"], vm_id=request["vm_id"], requests=0, first=None, last=None))
            entry["requests"] += 1
            moment = iso_time(request["time"])
            entry["first"] = entry["first"] or moment
            entry["last"] = moment
        complete_from, why = (history_bounds_by_name or {}).get(host_name) or (None, None)
        for name in months:
            vms = sorted(per_month[name].values(), key=lambda entry: ((entry["vm"] or "").lower(), entry["vm_id"] or ""))
            complete = complete_from is None or _month_start(name) >= complete_from
            rows.append(dict(host=host_name, month=name, vm_count=len(vms), requests=sum(entry["requests"] for entry in vms), vms=vms,
                             complete=complete, incomplete_because=None if complete else why))
    return dict(first_month=months[0], last_month=months[-1], months=months, rows=rows,
                complete=all(row["complete"] for row in rows))


def _month_start(name):
    year, month = parse_month(name, "the month")
    return datetime.datetime(year, month, 1, tzinfo=datetime.timezone.utc)


def build_report(hosts, guests=None, generated_at=None, *, renewal_days=DEFAULT_RENEWAL_DAYS, usage_from=None, usage_to=None,
                 context=None):
    """The compliance report (layout ``SCHEMA_VERSION``): ``hosts`` (each with its VMs, their compliance state,
    evidence, problems or what would settle them, and AVMA request history), ``problems`` (all of them, hosts'
    first), ``summary`` counts of the three states, ``scope`` (hosts asked / read / failed, whether guests were read),
    ``usage`` (SPLA monthly AVMA requests from ``usage_from`` to ``usage_to``, YYYY-MM, default the months of the
    history read up to the month of ``generated_at``; each host and month says whether its history is complete),
    ``context`` (what the caller says about the run: collection
    version, controller, user) and ``generated_at`` (ISO 8601 with zone, whole seconds; the reference time of every
    age and window)."""
    if isinstance(renewal_days, bool) or not isinstance(renewal_days, int) or renewal_days < 1:
        raise ValueError("renewal_days must be a whole number of days, at least 1, not %r" % (renewal_days,))
    now = parse_time(generated_at) or datetime.datetime.now(datetime.timezone.utc)
    now = now.replace(microsecond=0)
    window = datetime.timedelta(days=renewal_days)
    guests = {name.lower(): facts for name, facts in (guests or {}).items() if facts}
    entries, requests_by_host, bounds_by_host = [], {}, {}
    for host in sorted(hosts, key=lambda host: host["name"].lower()):
        entry, requests, bounds = _host_entry(host, guests, window, now)
        entries.append(entry)
        if entry["read"]:
            requests_by_host[entry["name"]] = requests
            bounds_by_host[entry["name"]] = bounds
    problems = [problem for entry in entries for problem in entry["problems"]]
    problems += [problem for entry in entries for vm in entry["vms"] for problem in vm["problems"]]
    vms = [vm for entry in entries for vm in entry["vms"]]
    counts = {state: sum(1 for vm in vms if vm["compliance"] == state) for state in STATES}
    all_times = [request["time"] for requests in requests_by_host.values() for request in requests]
    usage = usage_history(requests_by_host, usage_from or _month_name(min(all_times, default=now)), usage_to or _month_name(now), bounds_by_host)
    failed = [entry["name"] for entry in entries if not entry["read"]]
    return dict(
        schema_version=SCHEMA_VERSION,
        generated_at=now.isoformat(),
        renewal_window_days=renewal_days,
        context=dict(context or {}),
        scope=dict(hosts_asked=[entry["name"] for entry in entries], hosts_read=[entry["name"] for entry in entries if entry["read"]],
                   hosts_failed=failed, guests_read=sorted(vm["name"] for vm in vms if vm["guest"] is not None)),
        summary=dict(hosts=len(entries), hosts_failed=len(failed), hosts_not_ready=sum(1 for entry in entries if not entry["ready"]),
                     vms=len(vms), compliant_vms=counts[COMPLIANT], non_compliant_vms=counts[NOT_COMPLIANT],
                     unknown_vms=counts[UNKNOWN], problems=len(problems)),
        problems=problems,
        hosts=entries,
        usage=usage,
    )
