# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AVMA as data: the public AVMA key catalog, editions and their eligibility, the host/guest matrix, host
eligibility, product-key validation, the Event 12309 outcomes, and the names of the KVP items the collection
publishes. Pure code: no I/O, no Ansible, no WS-Man.

Facts and their sources: shared reference ``avma-facts.md`` sections 1, 2, 3, 5 and 6. Licence states, the AVMA
status reasons (0xC004FD00 to 0xC004FD04) and build numbers live in ``_licensing.py`` and are reused here.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError
from ansible_collections.hyperv.avma.plugins.module_utils._licensing import (
    AVMA_STATUS_REASONS,
    RELEASES_BY_BUILD,
    edition_id_for_sku,
    release_for_build,
    status_reason,
)

__all__ = [
    "AVMA_KEYS", "AVMA_KVP_PREFIX", "AVMA_STATUS_REASONS", "AvmaKey", "STATUS_DIGEST_ITEM", "EVENT_OUTCOMES", "Edition", "EDITIONS",
    "UNCONFIRMED_RELEASES", "activatable_guest_releases", "avma_key_for", "avma_key_entry", "can_activate",
    "decode_avma_event", "decode_event_outcome", "edition_for", "guest_problems", "host_problems", "is_avma_key", "is_datacenter_edition",
    "kvp_name_matches", "mask_product_key", "published_items", "release_for_build", "status_digest", "status_items", "status_reason",
    "validate_product_key",
]

# The collection publishes its own guest KVP items (values of HKLM\SOFTWARE\Microsoft\Virtual Machine\Guest) under
# this fixed prefix, e.g. "HyperVAvma.LicenseStatus", so that they can always be found and removed again. Items of
# other software never start with it; the cleanup of stale items removes every value with this prefix.
AVMA_KVP_PREFIX = "HyperVAvma."

# The characters of a Windows product key: 24 letters and digits, plus N, which Windows 8 and later keys carry once.
PRODUCT_KEY_ALPHABET = "BCDFGHJKMNPQRTVWXY2346789"
_PRODUCT_KEY = re.compile(r"^[%s]{5}(-[%s]{5}){4}$" % (PRODUCT_KEY_ALPHABET, PRODUCT_KEY_ALPHABET))

# Key columns of Microsoft's AVMA table.
DATACENTER = "Datacenter"
STANDARD = "Standard"
ESSENTIALS = "Essentials"
AZURE_EDITION = "Datacenter: Azure Edition"


@dataclass(frozen=True)
class Edition:
    """A Windows Server edition by EditionID: the AVMA key column it uses (None: no AVMA key), whether it is a
    Server Core install, an evaluation, or a Datacenter edition (the only one that can host AVMA)."""

    edition_id: str
    key_column: str | None
    core: bool = False
    evaluation: bool = False
    datacenter: bool = False
    licensed_edition_id: str | None = None  # what an evaluation edition converts to


EDITIONS = {edition.edition_id.lower(): edition for edition in (
    Edition("ServerStandard", STANDARD),
    Edition("ServerStandardCore", STANDARD, core=True),
    Edition("ServerDatacenter", DATACENTER, datacenter=True),
    Edition("ServerDatacenterCore", DATACENTER, core=True, datacenter=True),
    Edition("ServerSolution", ESSENTIALS),
    Edition("ServerTurbine", AZURE_EDITION, datacenter=True),
    Edition("ServerTurbineCor", AZURE_EDITION, core=True, datacenter=True),
    Edition("ServerStandardEval", None, evaluation=True, licensed_edition_id="ServerStandard"),
    Edition("ServerDatacenterEval", None, evaluation=True, licensed_edition_id="ServerDatacenter"),
)}


@dataclass(frozen=True)
class AvmaKey:
    """One published AVMA key: the release whose row it is in, its column, and whether Microsoft confirms it."""

    release: str
    column: str
    key: str
    confirmed: bool = True


_KEY_ROWS = {
    "2012 R2": {DATACENTER: "Y4TGP-NPTV9-HTC2H-7MGQ3-DV4TW", STANDARD: "DBGBW-NPF86-BJVTX-K3WKJ-MTB6V",
                ESSENTIALS: "K2XGM-NMBT3-2R6Q8-WF2FK-P36R2"},
    "2016": {DATACENTER: "TMJ3Y-NTRTM-FJYXT-T22BY-CWG3J", STANDARD: "C3RCX-M6NRP-6CXC9-TW2F2-4RHYD",
             ESSENTIALS: "B4YNW-62DX9-W8V6M-82649-MHBKQ"},
    "2019": {DATACENTER: "H3RNG-8C32Q-Q8FRX-6TDXV-WMBMW", STANDARD: "TNK62-RXVTB-4P47B-2D623-4GF74",
             ESSENTIALS: "2CTP7-NHT64-BP62M-FV6GG-HFV28"},
    "2022": {DATACENTER: "W3GNR-8DDXR-2TFRP-H8P33-DV9BG", STANDARD: "YDFWN-MJ9JR-3DYRK-FXXRW-78VHK",
             AZURE_EDITION: "F7TB6-YKN8Y-FCC6R-KQ484-VMK3J"},
    "2025": {DATACENTER: "YQB4H-NKHHJ-Q6K4R-4VMY6-VCH67", STANDARD: "WWVGQ-PNHV9-B89P4-8GGM9-9HPQ4",
             AZURE_EDITION: "6NMQ9-T38WF-6MFGM-QYGYM-88J4F"},
}

# The 2025 row appears in many public scripts citing Microsoft's 2025 tab, but not on a Microsoft page we could read;
# so does the 2025 host row of the matrix.
UNCONFIRMED_RELEASES = frozenset({"2025"})

# Every published key, by (key row, column).
AVMA_KEYS = {
    (release, column): AvmaKey(release, column, key, confirmed=release not in UNCONFIRMED_RELEASES)
    for release, row in _KEY_ROWS.items() for column, key in row.items()
}
_AVMA_KEYS_BY_TEXT = {entry.key: entry for entry in AVMA_KEYS.values()}

# Release -> the key row it uses; the Semi-Annual Channel releases share the keys of their LTSC release.
# 2004 and 20H2 have no AVMA keys: they are absent.
KEY_ROW_OF_RELEASE = {
    "2012 R2": "2012 R2",
    "2016": "2016",
    "1709": "2016",
    "1803": "2016",
    "2019": "2019",
    "1903": "2019",
    "1909": "2019",
    "2022": "2022",
    "2025": "2025",
}
_KEY_ROW_ORDER = ("2012 R2", "2016", "2019", "2022", "2025")
_BUILDS_BY_RELEASE = {release: build for build, release in RELEASES_BY_BUILD.items()}

# Event 12309 outcomes (guest side): the words Windows uses for them, what they mean, what to do next.
EVENT_OUTCOMES = {
    "success": ("AVMA Success", "the Hyper-V host activated the guest", None),
    "invalid_host": ("Invalid Host", "the Hyper-V host did not answer or runs a version that cannot activate this guest",
                     "run the guest on a Windows Server Datacenter host of the guest's version or newer, with Data Exchange enabled for the VM"),
    "invalid_data": ("Invalid Data", "the exchange with the host failed: communication failure, corrupt data or mismatch",
                     "check the Data Exchange integration service on the host and in the guest (vmickvpexchange), then activate again"),
    "activation_denied": ("Activation Denied", "the host refused the request: the AVMA ID did not match",
                          "install the AVMA key of the guest's own version and edition, on a host that may activate that version"),
}
# A failure whose result code names no single outcome and whose words are not recognised (another display
# language, or a code such as the request limit that the outcome list does not name).
FAILED_OUTCOME = ("Failed", "the Hyper-V host did not activate the guest", "see the result code's meaning and next step")
# The outcomes a result code allows (HRESULTs of avma-facts section 4; which outcome goes with which code is
# inferred from their descriptions): 0xC004FD03 (unsupported version or ID mismatch) and 0xC004FD04 (host
# unresponsive or communication failure) fit two, so the words decide there.
_OUTCOMES_OF_CODE = {
    0: ("success",),
    0xC004FD01: ("invalid_host",),
    0xC004FD02: ("activation_denied",),
    0xC004FD03: ("invalid_host", "activation_denied"),
    0xC004FD04: ("invalid_host", "invalid_data"),
}
_HRESULT_TEXT = re.compile(r"\b0x([0-9A-Fa-f]{8})\b")
_OUTCOME_PATTERNS = tuple(
    (name, re.compile(r"\b" + r"\s*".join(re.escape(word) for word in words.split()) + r"\b", re.IGNORECASE))
    for name, (words, _meaning, _next) in EVENT_OUTCOMES.items()
)


# ------------------------------------------------------------------------------------------------------------------
# Product keys


def validate_product_key(key: str) -> str:
    """A product key in canonical form (upper case, trimmed), or AvmaValueError naming what is wrong.

    Five groups of five characters of the product-key alphabet (BCDFGHJKMNPQRTVWXY2346789) separated by hyphens;
    N at most once (keys of Windows 8 and later carry it once, older ones never). The message never repeats the key.
    """
    if not isinstance(key, str):
        raise AvmaValueError("the product key must be a string")
    canonical = key.strip().upper()
    if not _PRODUCT_KEY.match(canonical):
        raise AvmaValueError("the product key is not five groups of five characters separated by hyphens, from the letters and digits "
                             "%s (product keys never contain A, E, I, L, O, S, U, Z, 0, 1 or 5)" % PRODUCT_KEY_ALPHABET)
    if canonical.count("N") > 1:
        raise AvmaValueError("the product key contains the letter N more than once, which no Windows product key does")
    return canonical


def mask_product_key(key: str) -> str:
    """The only part of a key the collection shows: ``XXXXX-XXXXX-XXXXX-XXXXX-`` plus its last five characters."""
    return "XXXXX-XXXXX-XXXXX-XXXXX-" + key.strip().upper()[-5:]


def avma_key_entry(key: str | None) -> AvmaKey | None:
    """The AvmaKey of a published AVMA key text, or None for any other key."""
    return _AVMA_KEYS_BY_TEXT.get(key.strip().upper()) if isinstance(key, str) else None


def is_avma_key(key: str | None) -> bool:
    """True for the text of a published AVMA key."""
    return avma_key_entry(key) is not None


# ------------------------------------------------------------------------------------------------------------------
# Editions and versions


def edition_for(sku: int | None = None, edition_id: str | None = None, license_family: str | None = None) -> str | None:
    """The canonical EditionID of a machine: from OperatingSystemSKU first, else from the registry EditionID, else from
    the Windows product's LicenseFamily. Compared case-insensitively; an ID the catalog does not know is returned as
    given (it is then not eligible), None when there is nothing to go by."""
    candidates = (edition_id_for_sku(sku) if sku is not None else None, edition_id, license_family)
    for candidate in candidates:
        if candidate:
            known = EDITIONS.get(candidate.strip().lower())
            return known.edition_id if known else candidate.strip()
    return None


def is_datacenter_edition(edition_id: str | None) -> bool:
    """True for the Datacenter editions that can activate guests through AVMA: Datacenter and Datacenter: Azure
    Edition, Server Core included; not the evaluation edition."""
    edition = EDITIONS.get((edition_id or "").lower())
    return bool(edition and edition.datacenter)


def _release_name(release):
    """The catalog's spelling of a release name ('2012 r2' -> '2012 R2'), or the text as given."""
    text = str(release).strip() if release is not None else ""
    return next((known for known in _BUILDS_BY_RELEASE if known.lower() == text.lower()), text)


def _evaluation_message(edition):
    return ("%s is an evaluation edition, which AVMA cannot activate: convert it to %s first "
            "(DISM /online /Set-Edition:%s /ProductKey:<a product key of that edition> /AcceptEula, then restart)"
            % (edition.edition_id, edition.licensed_edition_id, edition.licensed_edition_id))


def avma_key_for(release: str | None, edition_id: str | None) -> str:
    """The public AVMA key for a guest of ``release`` ('2022', '1809' spelled '2019', ...) and ``edition_id``.

    Server Core installs share their edition's key. Raises AvmaValueError with what is wrong and what to do where no
    key exists: unknown release or edition, evaluation editions, 2004/20H2, Essentials of 2022 and 2025.
    """
    name = _release_name(release)
    edition = EDITIONS.get((edition_id or "").strip().lower())
    if not name:
        raise AvmaValueError("the Windows Server version is unknown (build not in the catalog), so no AVMA key can be chosen")
    if edition is None:
        raise AvmaValueError("edition %r is not a Windows Server edition AVMA knows (Datacenter, Standard, Essentials, "
                             "Datacenter: Azure Edition)" % (edition_id,))
    if edition.evaluation:
        raise AvmaValueError(_evaluation_message(edition))
    row = KEY_ROW_OF_RELEASE.get(name)
    if row is None:
        known = name in _BUILDS_BY_RELEASE
        raise AvmaValueError("Microsoft publishes no AVMA key for Windows Server %s; activate it with KMS or MAK instead" % name if known
                             else "Windows Server version %r is unknown, so no AVMA key can be chosen" % name)
    entry = AVMA_KEYS.get((row, edition.key_column))
    if entry is None:
        raise AvmaValueError("Microsoft publishes no AVMA key for Windows Server %s %s (%s); activate it with KMS or MAK instead"
                             % (name, edition.key_column, edition.edition_id))
    return entry.key


# ------------------------------------------------------------------------------------------------------------------
# Hosts and guests


def _host_key_row(host_release):
    """The newest key row whose release is not newer than the host (by build): a host activates its own generation
    and older ones."""
    build = _BUILDS_BY_RELEASE.get(_release_name(host_release))
    if build is None:
        return None
    rows = [row for row in _KEY_ROW_ORDER if _BUILDS_BY_RELEASE[row] <= build]
    return rows[-1] if rows else None


def activatable_guest_releases(host_release: str | None) -> tuple[str, ...]:
    """The guest releases a Datacenter host of ``host_release`` can activate, newest generation first (within a
    generation, newest build first): its own key generation and older ones. Empty for unknown releases."""
    host_row = _host_key_row(host_release)
    if host_row is None:
        return ()
    limit = _KEY_ROW_ORDER.index(host_row)
    releases = [release for release, row in KEY_ROW_OF_RELEASE.items() if _KEY_ROW_ORDER.index(row) <= limit]
    return tuple(sorted(releases, key=lambda release: (_KEY_ROW_ORDER.index(KEY_ROW_OF_RELEASE[release]), _BUILDS_BY_RELEASE[release]),
                        reverse=True))


def can_activate(host_release: str | None, guest_release: str | None) -> bool:
    """True when a Datacenter host of ``host_release`` can activate a guest of ``guest_release``."""
    return _release_name(guest_release) in activatable_guest_releases(host_release)


def _problem(code, message, remedy):
    return dict(code=code, message=message, remedy=remedy)


def host_problems(host_release: str | None, edition_id: str | None, activated: bool) -> list[dict[str, str]]:
    """Why a machine cannot activate guests through AVMA, as a list of {code, message, remedy} (empty: eligible).

    Codes: ``host_release_unknown``, ``host_not_datacenter``, ``host_not_activated``.
    """
    problems = []
    if _host_key_row(host_release) is None:
        problems.append(_problem("host_release_unknown", "the host's Windows Server version (%s) cannot activate guests through AVMA"
                                 % (host_release or "unknown"), "run the guests on a Windows Server 2012 R2 or later Datacenter host"))
    if not is_datacenter_edition(edition_id):
        problems.append(_problem("host_not_datacenter", "the host runs %s, not Windows Server Datacenter" % (edition_id or "an unknown edition"),
                                 "run the guests on a Windows Server Datacenter host (AVMA is a Datacenter right)"))
    if not activated:
        problems.append(_problem("host_not_activated", "the host itself is not activated",
                                 "activate the Hyper-V host (every node of a cluster), then activate the guests again"))
    return problems


def guest_problems(release: str | None, edition_id: str | None, host_release: str | None = None) -> list[dict[str, str]]:
    """Why a guest cannot be activated through AVMA, as a list of {code, message, remedy} (empty: eligible).

    Codes: ``guest_not_eligible`` (no AVMA key: unknown version or edition, evaluation, 2004/20H2, Essentials of 2022
    and 2025), ``guest_newer_than_host`` (only with ``host_release``).
    """
    problems = []
    try:
        avma_key_for(release, edition_id)
    except AvmaValueError as error:
        edition = EDITIONS.get((edition_id or "").lower())
        remedy = ("convert the evaluation edition to %s with DISM /Set-Edition" % edition.licensed_edition_id
                  if edition is not None and edition.evaluation else "activate this guest with KMS or MAK")
        problems.append(_problem("guest_not_eligible", error.message, remedy))
        return problems
    if host_release is not None and not can_activate(host_release, release):
        problems.append(_problem("guest_newer_than_host", "the guest runs Windows Server %s, which a Windows Server %s host cannot activate"
                                 % (_release_name(release), _release_name(host_release) or "unknown"),
                                 "move the guest to a Datacenter host of version %s or newer" % _release_name(release)))
    return problems


# ------------------------------------------------------------------------------------------------------------------
# Events


def _result_code(message: str | None, insertion_strings: Iterable[str | None]) -> int | None:
    """The HRESULT an AVMA event carries: an insertion string that is one (``0xC004FD02``), else the first in the
    message. Which insertion string holds it is unconfirmed, so every one is looked at."""
    for text in insertion_strings:
        if isinstance(text, str):
            match = _HRESULT_TEXT.fullmatch(text.strip())
            if match:
                return int(match.group(1), 16)
    match = _HRESULT_TEXT.search(message) if isinstance(message, str) else None
    return int(match.group(1), 16) if match else None


def _outcome(name: str, result_code: int | None, decoded_from: str) -> dict[str, Any]:
    words, meaning, next_step = EVENT_OUTCOMES[name] if name in EVENT_OUTCOMES else FAILED_OUTCOME
    reason = status_reason(result_code) if result_code is not None else None
    return dict(name=name, text=words, meaning=meaning, next_step=next_step, success=name == "success",
                result_code=reason["hex"] if reason else None, result_meaning=reason["meaning"] if reason else None,
                decoded_from=decoded_from)


def decode_avma_event(event_id: int | None, message: str | None, insertion_strings: Iterable[str | None] = ()) -> dict[str, Any] | None:
    """The outcome of an AVMA event (12309 on a guest, 12310 on a host) from its codes first: the event ID says
    whether it is an AVMA event at all, the HRESULT in its insertion strings or message says success (0) or which
    failure; the English outcome words only decide where the code allows two outcomes, or when there is no code.
    So a guest in another display language is decoded all the same.

    Returns {name, text, meaning, next_step, success, result_code, result_meaning, decoded_from} (``decoded_from``
    ``result_code`` or ``words``; name ``failed`` for a failure code the words do not narrow down), or None.
    """
    if event_id not in (12309, 12310):
        return None
    strings = list(insertion_strings or ())
    code = _result_code(message, strings)
    by_words = decode_event_outcome(message, *strings)
    if code is None:
        return None if by_words is None else _outcome(by_words["name"], None, "words")
    candidates = _OUTCOMES_OF_CODE.get(code & 0xFFFFFFFF)
    if candidates is None:
        return _outcome("failed", code, "result_code")
    if len(candidates) == 1:
        return _outcome(candidates[0], code, "result_code")
    if by_words is not None and by_words["name"] in candidates:
        return _outcome(by_words["name"], code, "words")
    return _outcome("failed", code, "result_code")


def decode_event_outcome(*texts: str | None) -> dict[str, Any] | None:
    """The Event 12309 outcome found in the given texts (message, insertion strings), as {name, text, meaning,
    next_step, success}; None when none of the known outcome words occur. The exact texts Windows writes are
    unconfirmed, so the match is on the words alone, case-insensitively, anywhere in the text."""
    for text in texts:
        if not isinstance(text, str):
            continue
        for name, pattern in _OUTCOME_PATTERNS:
            if pattern.search(text):
                words, meaning, next_step = EVENT_OUTCOMES[name]
                return dict(name=name, text=words, meaning=meaning, next_step=next_step, success=name == "success")
    return None


# ------------------------------------------------------------------------------------------------------------------
# KVP items the collection publishes


def status_items(facts: dict[str, Any]) -> dict[str, str]:
    """The guest KVP items (name -> value, all strings) that publish a guest's AVMA state, from activation facts
    (``_licensing.activation_facts``). Only values that change with the state: no timestamps of the run itself."""
    os_part = facts.get("os") or {}
    product = facts.get("windows_product") or {}
    reason = product.get("license_status_reason") or {}
    values = {
        "Release": os_part.get("release"),
        "Edition": os_part.get("edition_id"),
        "PartialProductKey": product.get("partial_product_key"),
        "Channel": "AVMA" if product.get("is_avma_key") else product.get("channel"),
        "LicenseStatus": product.get("license_status_name") or "NoKey",
        "LicenseStatusReason": reason.get("hex"),
        "HostMachineName": product.get("avma_host_machine_name"),
        "LastActivationTime": product.get("avma_last_activation_time"),
    }
    return {AVMA_KVP_PREFIX + name: "" if value is None else str(value) for name, value in values.items()}


# The item that says, in one value, which status items the collection published last: a run reads it alone (one
# request) instead of every status item (one request each), and rewrites the items when it differs.
STATUS_DIGEST_ITEM = AVMA_KVP_PREFIX + "StatusDigest"


def status_digest(items: dict[str, str]) -> str:
    """The digest of published status items (status_items): 16 hex characters of SHA-256 over ``name=value`` lines
    in name order. It tells whether the items changed; it protects nothing (a guest writes what it likes)."""
    text = "\n".join("%s=%s" % (name, items[name]) for name in sorted(items))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def published_items(facts: dict[str, Any]) -> dict[str, str]:
    """What the collection publishes into a guest's KVP for its activation facts: status_items and, last,
    STATUS_DIGEST_ITEM with their digest."""
    items = status_items(facts)
    return dict(items, **{STATUS_DIGEST_ITEM: status_digest(items)})


def kvp_name_matches(name: str, patterns: Iterable[str] = ()) -> bool:
    """True for a KVP item of the collection (its name starts with AVMA_KVP_PREFIX), or one matching one of
    ``patterns``: names or glob patterns (``*``, ``?``, ``[...]``), compared case-insensitively as the registry
    compares value names."""
    lowered = name.lower()
    if lowered.startswith(AVMA_KVP_PREFIX.lower()):
        return True
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)
