# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fleet AVMA compliance: from what the Hyper-V hosts (and, where allowed, the guests) answered, decide what is not
compliant and why. Pure code: no I/O, no Ansible.

Input per host (``build_report(hosts, guests)``): ``name``; ``host_info`` (the host_info module's result);
``kvp`` (kvp_info's host-scope result: ``vms`` with items and decoded intrinsic facts); ``events`` (activation_events'
``events`` for ID 12310); or ``error`` (why the host could not be read). ``guests`` maps a guest's name or FQDN to
its ``avma`` activation facts.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

from ansible_collections.hyperv.avma.plugins.module_utils._avma import AVMA_KVP_PREFIX

HOST_EVENT_ID = 12310

# code -> (what it means, what to do); the wording takes the host or VM name through %(host)s / %(vm)s.
PROBLEMS = {
    "host_unreachable": ("the Hyper-V host could not be read: %(detail)s", "check WinRM and the credentials for this host"),
    "hyperv_missing": ("Hyper-V is not installed or not running on %(host)s", "install the Hyper-V role and restart the host"),
    "host_not_datacenter": ("%(host)s is not Windows Server Datacenter, so it cannot activate guests through AVMA",
                            "run AVMA guests on Datacenter hosts, or license the guests with other keys"),
    "host_not_activated": ("%(host)s is not activated, so its guests cannot activate through AVMA", "activate the Hyper-V host"),
    "data_exchange_off": ("Data Exchange is off for %(vm)s, so it cannot reach its host for activation",
                          "enable the Data Exchange integration service (hyperv.avma.integration_service)"),
    "avma_host_cannot_activate": ("%(vm)s has an AVMA key but %(host)s cannot activate it: %(detail)s",
                                  "move the VM to a Datacenter host of its version or newer that is activated, or install another key"),
    "guest_not_licensed": ("%(vm)s is not licensed: %(detail)s", "run the guest_activation role, or look at the guest's licence state"),
    "stale_avma_kvp": ("%(vm)s still publishes AVMA activation data through KVP although its key is no longer an AVMA key",
                       "remove the stale items (hyperv.avma.product_key with clean_stale_kvp, or hyperv.avma.kvp_item)"),
}

_HOST_PROBLEM_CODES = ("hyperv_missing", "host_not_datacenter", "host_not_activated")


def _problem(code, host, vm=None, detail=""):
    meaning, remedy = PROBLEMS[code]
    return dict(code=code, host=host, vm=vm, message=meaning % dict(host=host, vm=vm, detail=detail), remedy=remedy)


def _published_status(vm):
    """The activation status the guest published through KVP under AVMA_KVP_PREFIX (name without prefix -> value)."""
    items = vm.get("guest_items") or {}
    prefix = AVMA_KVP_PREFIX.lower()
    return {name[len(prefix):]: value for name, value in items.items() if name.lower().startswith(prefix)}


def _requests_by_vm(vms, events):
    """AVMA requests per VM from the host's 12310 events. Which insertion string names the VM is unconfirmed, so an
    event counts for a VM when any of its insertion strings equals the VM's name, ID, FQDN or host name."""
    keys = {}
    for vm in vms:
        facts = vm.get("intrinsic_facts") or {}
        fqdn = facts.get("fqdn") or ""
        for key in (vm.get("name"), vm.get("id"), fqdn, fqdn.split(".", 1)[0]):
            if key:
                keys.setdefault(key.lower(), vm["id"])
    requests = {}
    for event in events or []:
        if event.get("event_id") != HOST_EVENT_ID:
            continue
        matched = {keys[text.lower()] for text in event.get("insertion_strings") or [] if text and text.lower() in keys}
        for vm_id in matched:
            entry = requests.setdefault(vm_id, dict(count=0, first=None, last=None))
            entry["count"] += 1
            time = event.get("time_generated")
            if time and (entry["first"] is None or time < entry["first"]):
                entry["first"] = time
            if time and (entry["last"] is None or time > entry["last"]):
                entry["last"] = time
    return requests


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


def _vm_problems(host_name, vm, host_info, guest, published):
    """The problems of one VM, most specific first; 'not licensed' only when nothing more specific explains it."""
    problems = []
    data_exchange = vm.get("data_exchange") or {}
    if vm.get("state") == "running" and data_exchange.get("enabled") is False:
        problems.append(_problem("data_exchange_off", host_name, vm["name"]))

    product = (guest or {}).get("windows_product")
    has_avma_key = product["is_avma_key"] if product else published.get("Channel", "").upper() == "AVMA"
    release = ((guest or {}).get("os") or {}).get("release") or published.get("Release") or (vm.get("intrinsic_facts") or {}).get("os_release")
    if has_avma_key:
        capable, releases, why = _host_capability(host_info)
        if not capable:
            problems.append(_problem("avma_host_cannot_activate", host_name, vm["name"], why))
        elif release and release not in releases:
            problems.append(_problem("avma_host_cannot_activate", host_name, vm["name"], "the guest (%s) is newer than the host" % release))

    if product is not None or guest is not None:
        licensed = bool(product) and product.get("license_status") == 1
        detail = _not_licensed_detail(guest)
    else:
        licensed = published.get("LicenseStatus") in (None, "Licensed")
        detail = "it reports %s through KVP" % published.get("LicenseStatus")
    if not licensed and not problems:
        problems.append(_problem("guest_not_licensed", host_name, vm["name"], detail))

    if product and not product["is_avma_key"] and published.get("Channel", "").upper() == "AVMA":
        problems.append(_problem("stale_avma_kvp", host_name, vm["name"]))
    return problems


def _not_licensed_detail(guest):
    product = guest.get("windows_product") if guest else None
    if not product:
        edition = ((guest or {}).get("os") or {}).get("edition_id") or ""
        if edition.endswith("Eval"):
            return "no key is installed and %s is an evaluation edition (convert it with DISM /Set-Edition first)" % edition
        return "no Windows key is installed"
    reason = product.get("license_status_reason") or {}
    text = "%s (%s%s)" % (product.get("license_status_name"), reason.get("hex"), ", " + reason["meaning"] if reason.get("meaning") else "")
    return text


def _vm_entry(host_name, vm, host_info, guest, requests):
    published = _published_status(vm)
    facts = vm.get("intrinsic_facts") or {}
    product = (guest or {}).get("windows_product") or {}
    problems = _vm_problems(host_name, vm, host_info, guest, published)
    return dict(
        name=vm.get("name"), id=vm.get("id"), state=vm.get("state"), fqdn=facts.get("fqdn"), os_name=facts.get("os_name"),
        edition_id=facts.get("os_edition_id") or published.get("Edition"), ipv4=facts.get("ipv4_addresses") or [],
        data_exchange_enabled=(vm.get("data_exchange") or {}).get("enabled"),
        avma_requests=requests, published_status=published or None,
        guest=dict(license_status_name=product.get("license_status_name"), partial_product_key=product.get("partial_product_key"),
                   avma_activated=product.get("avma_activated")) if guest else None,
        compliant=not problems, problems=problems,
    )


def _host_entry(host, guests):
    name = host["name"]
    if host.get("error"):
        return dict(name=name, release=None, edition_id=None, activated=None, ready=False, vms=[],
                    problems=[_problem("host_unreachable", name, detail=host["error"])])
    host_info = host.get("host_info") or {}
    facts = host_info.get("host") or {}
    host_problems = [_problem(problem["code"], name) for problem in host_info.get("problems") or []
                     if problem.get("code") in _HOST_PROBLEM_CODES and not problem.get("vm")]
    vms = (host.get("kvp") or {}).get("vms") or []
    requests = _requests_by_vm(vms, host.get("events"))
    entries = [_vm_entry(name, vm, host_info, _guest_facts(guests, vm), requests.get(vm.get("id"), dict(count=0, first=None, last=None)))
               for vm in sorted(vms, key=lambda vm: (vm.get("name") or "").lower())]
    os_facts = facts.get("os") or {}
    return dict(name=name, release=os_facts.get("release"), edition_id=os_facts.get("edition_id"), activated=facts.get("activated"),
                ready=not host_problems, vms=entries, problems=host_problems)


def build_report(hosts, guests=None, generated_at=None):
    """The compliance report: ``hosts`` (each with its VMs, their problems and AVMA request history), ``problems``
    (all of them, hosts' first), ``summary`` counts and ``generated_at``."""
    guests = {name.lower(): facts for name, facts in (guests or {}).items() if facts}
    entries = [_host_entry(host, guests) for host in sorted(hosts, key=lambda host: host["name"].lower())]
    problems = [problem for entry in entries for problem in entry["problems"]]
    problems += [problem for entry in entries for vm in entry["vms"] for problem in vm["problems"]]
    vms = [vm for entry in entries for vm in entry["vms"]]
    compliant = sum(1 for vm in vms if vm["compliant"])
    return dict(
        generated_at=generated_at,
        summary=dict(hosts=len(entries), hosts_not_ready=sum(1 for entry in entries if not entry["ready"]), vms=len(vms),
                     compliant_vms=compliant, non_compliant_vms=len(vms) - compliant, problems=len(problems)),
        problems=problems,
        hosts=entries,
    )
