# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The hyperv.avma.kvp inventory as data: the Hyper-V hosts to read and their connection options, the host variables
of a guest from its host's KVP read, the collection's published AVMA status items parsed, and the inventory host
names chosen so that no guest can take another machine's name. Controller only; no I/O.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.hyperv.avma.plugins.module_utils._avma import AVMA_KVP_PREFIX, status_items
from ansible_collections.hyperv.avma.plugins.module_utils._connection import WINRM_ARGUMENT_SPEC, explicit_options
from ansible_collections.hyperv.avma.plugins.module_utils._kvp import shown_name
from ansible_collections.hyperv.avma.plugins.module_utils._licensing import LICENSE_STATUS_NAMES, LICENSED

try:
    # ansible-core 2.19 and later: data is never templated unless it carries the TrustedAsTemplate tag.
    from ansible.template import trust_as_template
    wrap_var = None
except ImportError:  # ansible-core 2.17 and 2.18: data must be marked unsafe to stay untemplated
    trust_as_template = None
    from ansible.utils.unsafe_proxy import wrap_var

# The source of the kvp_issues entries about how a guest is named (the others name the KVP array of the item).
NAMING_ISSUE_SOURCE = "inventory"

# Connection options of a hyperv_hosts entry: the modules' winrm_* options (winrm_host included) and its name.
HOST_ENTRY_SPEC = dict(WINRM_ARGUMENT_SPEC, name=dict(type="str", required=True))
# The plugin-wide connection options: every winrm_* option but winrm_host, which only an entry can give.
PLUGIN_WINRM_OPTIONS = tuple(name for name in WINRM_ARGUMENT_SPEC if name != "winrm_host")

# The status items the collection publishes, by lower-case name (the guest's registry compares names so), and the
# host variable field each becomes: "HyperVAvma.LicenseStatus" -> license_status.
_AVMA_FIELDS = {name.lower(): re.sub(r"(?<!^)(?=[A-Z])", "_", name[len(AVMA_KVP_PREFIX):]).lower() for name in status_items({})}
_AVMA_CHANNEL = "AVMA"
_LICENSED = LICENSE_STATUS_NAMES[LICENSED]

_DNS_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_MAX_DNS_NAME = 253
_NOT_HOST_NAME_CHARACTER = re.compile(r"[^A-Za-z0-9_.-]")


def untrusted(value):
    """``value`` (any JSON-like data) made safe from templating on every supported ansible-core: unsafe-wrapped
    before 2.19; from 2.19 on, data is untrusted unless tagged, and nothing here tags it."""
    if wrap_var is not None:
        return wrap_var(value)
    return value


def trusted_template(text):
    """A template the user wrote in the inventory configuration, marked trusted where ansible-core tags trust."""
    if trust_as_template is None or not isinstance(text, str):
        return text
    return trust_as_template(text)


# ------------------------------------------------------------------------------------------------------------------
# Hyper-V hosts


@dataclass(frozen=True)
class HostEntry:
    """One Hyper-V host to read: its name in the inventory and its explicit connection options (keyed like
    WinrmSettings fields; ``host`` is the address, by default the name)."""

    name: str
    options: dict
    secrets: frozenset


def host_entries(entries, plugin_options):
    """The ``hyperv_hosts`` option as HostEntry objects. ``entries``: names, or dicts with ``name`` and ``winrm_*``
    overrides; ``plugin_options``: the plugin-wide ``winrm_*`` options (None where not given). Raises ValueError
    naming the entry for an entry that is neither, an unknown or mistyped option, and a name given twice. Messages
    never contain a password."""
    common = explicit_options(plugin_options)
    hosts = []
    seen = set()
    for position, entry in enumerate(entries or []):
        where = "hyperv_hosts[%d]" % position
        if isinstance(entry, str):
            entry = dict(name=entry)
        if not isinstance(entry, dict):
            raise ValueError("%s must be a host name or a mapping with name and winrm_* options" % where)
        validation = ArgumentSpecValidator(HOST_ENTRY_SPEC).validate(dict(entry))
        secrets = set(validation._no_log_values)
        if validation.error_messages:
            messages = ["unknown option " + str(error) if isinstance(error, UnsupportedError) else str(error) for error in validation.errors]
            raise ValueError(remove_values("%s: %s" % (where, "; ".join(messages)), secrets))
        params = validation.validated_parameters
        name = params["name"].strip()
        if not name:
            raise ValueError("%s: name must not be empty" % where)
        if name.lower() in seen:
            raise ValueError("%s: %s is listed more than once" % (where, name))
        seen.add(name.lower())
        options = dict(common)
        options.update(explicit_options(params))
        options.setdefault("host", name)
        if options.get("password"):
            secrets.add(options["password"])
        hosts.append(HostEntry(name=name, options=options, secrets=frozenset(secrets)))
    if not hosts:
        raise ValueError("hyperv_hosts lists no Hyper-V host")
    return hosts


# ------------------------------------------------------------------------------------------------------------------
# Host variables


def avma_status(guest_items):
    """The collection's published AVMA status items (``HyperVAvma.*`` guest items, see ``_avma.status_items``) as
    ``{published, activated, release, edition, partial_product_key, channel, license_status, license_status_reason,
    host_machine_name, last_activation_time}``: fields the guest did not publish (or published empty) are None;
    ``activated`` is True for a Licensed guest on the AVMA channel, None when nothing is published."""
    fields = dict.fromkeys(_AVMA_FIELDS.values())
    for name, value in guest_items.items():
        field = _AVMA_FIELDS.get(name.lower())
        if field is not None and fields[field] is None and value:
            fields[field] = value
    published = any(value is not None for value in fields.values())
    activated = fields["license_status"] == _LICENSED and fields["channel"] == _AVMA_CHANNEL if published else None
    return dict(published=published, activated=activated, **fields)


def guest_hostvars(hyperv_host, vm):
    """The host variables of one guest from its entry in ``_hyperv.read_host_kvp``'s ``vms``: ``hyperv_host``,
    ``hyperv_vm`` (name, id, state, state_code, data_exchange), ``kvp`` (the decoded intrinsic facts plus the item
    maps), ``avma_published`` (see avma_status) and ``kvp_issues``. Everything but ``hyperv_host`` comes from the host's answer,
    most of it written by the guest: the caller passes the result through ``untrusted``."""
    kvp = dict(vm["intrinsic_facts"])
    kvp.update(intrinsic_items=vm["intrinsic_items"], guest_items=vm["guest_items"], host_items=vm["host_items"],
               host_only_items=vm["host_only_items"])
    return dict(
        hyperv_host=hyperv_host,
        hyperv_vm=dict(name=vm["name"], id=vm["id"], state=vm["state"], state_code=vm["state_code"], data_exchange=vm["data_exchange"]),
        kvp=kvp,
        avma_published=avma_status(vm["guest_items"]),
        kvp_issues=list(vm["issues"]),
    )


def kvp_address(hostvars):
    """The address the guest publishes for itself: its first IPv4 address, else its first IPv6 address that is not
    link-local; unspecified and multicast addresses are skipped. None when it publishes none."""
    kvp = hostvars["kvp"]
    for address in list(kvp.get("ipv4_addresses") or []) + list(kvp.get("ipv6_addresses") or []):
        parsed = ipaddress.ip_address(address)
        if not (parsed.is_unspecified or parsed.is_multicast or parsed.is_link_local):
            return str(parsed)
    return None


# ------------------------------------------------------------------------------------------------------------------
# Host names


def dns_name(text):
    """``text`` as a lower-case DNS name (labels of letters, digits, ``-`` and ``_``, at most 253 characters, a
    trailing dot dropped), or None when it is not one."""
    if not isinstance(text, str):
        return None
    name = text.strip()
    name = name[:-1] if name.endswith(".") else name
    if not name or len(name) > _MAX_DNS_NAME or not all(_DNS_LABEL.fullmatch(label) for label in name.split(".")):
        return None
    return name.lower()


def safe_host_name(text):
    """``text`` with every character but letters, digits, ``.``, ``-`` and ``_`` replaced by ``_`` and leading dots
    and hyphens removed, so that it can hold no template syntax nor start like a command-line option; None when
    nothing is left."""
    if not isinstance(text, str):
        return None
    name = _NOT_HOST_NAME_CHARACTER.sub("_", text.strip())[:_MAX_DNS_NAME].lstrip(".-")
    return name or None


def naming_issue(code, message):
    """A kvp_issues entry about how a guest is named."""
    return dict(source=NAMING_ISSUE_SOURCE, name=None, code=code, message=message)


def taken_name_issue(candidate, reason):
    """The kvp_issues entry for a name assign_hostnames passed over, with its reason."""
    return naming_issue("host_name_taken", "%s is %s" % (shown_name(candidate), reason))


def hostname_candidates(source, hostvars, templated=None):
    """The inventory names a guest may take, best first, and the issues found: the chosen source (the FQDN it
    publishes, as a DNS name; the VM name; or ``templated``, the result of hostname_template), then the VM name, then
    the VM ID (always valid). A source that gives something unusable is reported and skipped."""
    vm = hostvars["hyperv_vm"]
    candidates = []
    issues = []
    if source == "fqdn":
        fqdn = hostvars["kvp"].get("fqdn")
        name = dns_name(fqdn)
        if fqdn and name is None:
            issues.append(naming_issue("invalid_fqdn", "the FullyQualifiedDomainName it publishes (%s) is not a DNS name" % shown_name(fqdn)))
        candidates.append(name)
    elif source == "template":
        name = safe_host_name(templated)
        if name is None:
            issues.append(naming_issue("empty_hostname_template", "hostname_template gave no name"))
        candidates.append(name)
    candidates.append(safe_host_name(vm["name"]))
    candidates.append(vm["id"])
    unique = []
    for candidate in candidates:
        if candidate and candidate.lower() not in (known.lower() for known in unique):
            unique.append(candidate)
    return unique, issues


def _reserved_keys(reserved):
    """Lower-case names no guest may take, and the short names (first label) of those that are not addresses."""
    names = {name.lower() for name in reserved if name}
    short = set()
    for name in names:
        try:
            ipaddress.ip_address(name)
        except ValueError:
            short.add(name.split(".")[0])
    return names, short


def assign_hostnames(candidate_lists, reserved=()):
    """One inventory name per guest from its candidates (hostname_candidates; the last one, the VM ID, must be unique
    among the guests), and the reasons candidates were passed over, per guest, as ``[(candidate, reason)]``.

    A candidate that several guests claim is taken by none of them: each moves on to its next candidate, so a guest
    that publishes another machine's FQDN cannot take that machine's place. Names in ``reserved`` (the Hyper-V hosts'
    inventory names, addresses and computer names), and names whose first label is the short name of one of them,
    are never given to a guest. Names compare case-insensitively, as DNS names do.
    """
    reserved_names, reserved_short = _reserved_keys(reserved)
    positions = [0] * len(candidate_lists)
    passed_over = [[] for candidates in candidate_lists]
    while True:
        current = [candidates[position] for candidates, position in zip(candidate_lists, positions)]
        claims = Counter(name.lower() for name in current)
        moved = False
        for index, name in enumerate(current):
            if positions[index] == len(candidate_lists[index]) - 1:
                continue
            key = name.lower()
            if key in reserved_names:
                reason = "the name or address of a Hyper-V host"
            elif key.split(".")[0] in reserved_short:
                reason = "named like the Hyper-V host %s" % key.split(".")[0]
            elif claims[key] > 1:
                reason = "claimed by %d guests" % claims[key]
            else:
                continue
            passed_over[index].append((name, reason))
            positions[index] += 1
            moved = True
        if not moved:
            return current, passed_over
