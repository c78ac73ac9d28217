# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows licensing decisions as pure functions: which product key a machine accepts, and how an AVMA request ends.

Written from shared/reference/avma-facts.md (sections 1-3, 5) and slerror.h; no I/O and no lab state, so every rule
is tested by itself. ``methods_activation`` gathers the inputs from the fleet and applies the results.

What no public source settles is marked "inferred" here and in FLEET.md: which 0xC004FD0x reason each failure gets,
the 12309 outcome of each failure, and where the semi-annual releases sit in the host/guest matrix.
"""

import re
from dataclasses import dataclass

from . import catalog

# Software Licensing HRESULTs (slerror.h), with the message texts Windows shows for them.
SL_E_PKEY_NOT_INSTALLED = 0xC004F014
SL_E_INVALID_PRODUCT_KEY = 0xC004F050
SL_E_MISMATCHED_PRODUCT_SKU = 0xC004F069
SL_E_VL_BINDING_SERVICE_UNAVAILABLE = 0xC004F074
SL_I_OOB_GRACE_PERIOD = 0x4004F00C
SL_E_IA_INVALID_VIRTUALIZATION_PLATFORM = 0xC004FD01
SL_E_IA_PARENT_PARTITION_NOT_ACTIVATED = 0xC004FD02
SL_E_IA_ID_MISMATCH = 0xC004FD03
SL_E_IA_MACHINE_NOT_BOUND = 0xC004FD04

SL_MESSAGES = {
    SL_E_PKEY_NOT_INSTALLED: "The Software Licensing Service reported that the product key is not available.",
    SL_E_INVALID_PRODUCT_KEY: "The Software Licensing Service reported that the product key is invalid.",
    SL_E_MISMATCHED_PRODUCT_SKU: "The Software Licensing Service reported that the product SKU is not found.",
    SL_E_VL_BINDING_SERVICE_UNAVAILABLE: (
        "The Software Licensing Service reported that the product could not be activated. No Key Management Service "
        "(KMS) could be contacted. Please see the Application Event Log for additional information."),
    SL_E_IA_INVALID_VIRTUALIZATION_PLATFORM: "Windows isn't running on a supported Microsoft Hyper-V virtualization platform.",
    SL_E_IA_PARENT_PARTITION_NOT_ACTIVATED: "Windows isn't activated on the host machine. Please contact your system administrator.",
    SL_E_IA_ID_MISMATCH: "The host machine can't activate the edition of Windows on the virtual machine.",
    SL_E_IA_MACHINE_NOT_BOUND: "Windows isn't activated.",
}

# Five groups of five characters of the product key alphabet (the N of Windows 8 and later keys included).
PRODUCT_KEY = re.compile(r"^[BCDFGHJKMNPQRTVWXY2346789]{5}(?:-[BCDFGHJKMNPQRTVWXY2346789]{5}){4}$")

# OperatingSystemSKU of the Datacenter editions, the only hosts that activate guests (avma-facts sections 2 and 3).
DATACENTER_SKUS = frozenset((8, 12, 407, 408))

# Where each release sits in the host/guest matrix: a host activates guests of its generation or older. The
# semi-annual releases use the keys of the LTSC release before them (1709/1803: 2016, 1903/1909: 2019), so they sit
# with it as guests and as hosts; 2004/20H2 (no AVMA key, hosts only) sit with 2019. Inferred for the semi-annual
# hosts and for the 2025 row (avma-facts section 2).
AVMA_GENERATIONS = {
    "2012 R2": 0,
    "2016": 1, "1709": 1, "1803": 1,
    "2019": 2, "1903": 2, "1909": 2, "2004": 2, "20H2": 2,
    "2022": 3,
    "2025": 4,
}

# The four results a guest logs in Event 12309 (avma-facts section 5).
OUTCOME_SUCCESS = "AVMA Success"
OUTCOME_INVALID_HOST = "Invalid Host"
OUTCOME_INVALID_DATA = "Invalid Data"
OUTCOME_ACTIVATION_DENIED = "Activation Denied"
OUTCOMES = (OUTCOME_SUCCESS, OUTCOME_INVALID_HOST, OUTCOME_INVALID_DATA, OUTCOME_ACTIVATION_DENIED)

# An AVMA licence is renewed every 7 days (inferred), so a fresh one has that much left.
AVMA_LICENSE_MINUTES = 7 * 24 * 60
# What a KMS activation grants (180 days) and the grace a newly installed non-AVMA key starts with (30 days, inferred).
KMS_LICENSE_MINUTES = 180 * 24 * 60
NEW_KEY_GRACE_MINUTES = 30 * 24 * 60

NON_AVMA_CHANNELS = ("mak", "retail", "kms", "oem")


class KeyRejected(ValueError):
    """InstallProductKey refuses the key with ``hresult`` (SL_E_INVALID_PRODUCT_KEY or SL_E_MISMATCHED_PRODUCT_SKU)."""

    def __init__(self, hresult):
        super().__init__("0x%08X %s" % (hresult, SL_MESSAGES[hresult]))
        self.hresult = hresult


@dataclass(frozen=True)
class KeyGrant:
    """A key InstallProductKey takes: its catalog channel name, the last five characters, the ProductKeyChannel."""

    channel: str
    partial_key: str
    product_key_channel: str


def normalize_key(text):
    """``text`` upper-cased and trimmed, the way the licensing service reads a key."""
    return str(text).strip().upper()


def edition_family(edition):
    """The key column an edition shares with its Core variant; an evaluation edition is a family of its own."""
    return edition.key_column if edition.key_column is not None else edition.edition_id


def public_avma_keys():
    """Every published AVMA key, upper case."""
    return frozenset(key for version in catalog.VERSIONS for _column, key in version.avma_keys)


def check_product_key(key, version, edition, accepted_keys=()):
    """The ``KeyGrant`` for installing ``key`` on a machine of ``version`` and ``edition`` (catalog entries), or
    ``KeyRejected``.

    An AVMA key installs only on its own version and edition family (Core shares its edition's key, evaluation
    editions take none): the key of another edition of the same release is a SKU mismatch (0xC004F069), a key of
    another release is unknown to this one (0xC004F050). A declared key (``fleetspec.AcceptedKey``) installs on its edition
    family and is a SKU mismatch elsewhere. Anything else is invalid (0xC004F050).
    """
    key = normalize_key(key)
    if not PRODUCT_KEY.match(key):
        raise KeyRejected(SL_E_INVALID_PRODUCT_KEY)
    avma = catalog.avma_key(version, edition)
    if avma is not None and key == avma.upper():
        channel = catalog.CHANNELS["avma"]
        return KeyGrant(channel.name, key[-5:], channel.product_key_channel)
    if key in {release_key.upper() for _column, release_key in version.avma_keys}:
        raise KeyRejected(SL_E_MISMATCHED_PRODUCT_SKU)
    for accepted in accepted_keys:
        if normalize_key(accepted.key) != key:
            continue
        key_edition = catalog.EDITIONS_BY_ID[accepted.edition_id.lower()]
        if edition_family(key_edition) != edition_family(edition):
            raise KeyRejected(SL_E_MISMATCHED_PRODUCT_SKU)
        channel = catalog.CHANNELS[accepted.channel]
        return KeyGrant(channel.name, key[-5:], accepted.product_key_channel or channel.product_key_channel)
    raise KeyRejected(SL_E_INVALID_PRODUCT_KEY)


def key_activates(channel, partial_key, accepted_keys=()):
    """Whether Activate() licenses a non-AVMA key: as its declaration says, else every channel but KMS (the lab has
    no KMS host to reach)."""
    for accepted in accepted_keys:
        if accepted.channel == channel and normalize_key(accepted.key)[-5:] == partial_key:
            return accepted.activates
    return channel != "kms"


@dataclass(frozen=True)
class HostView:
    """What a guest's AVMA request meets: the VM (``running``, ``data_exchange_enabled``) and its host
    (``computer_name``, ``version_name``, ``sku``, ``activated``: the host's Windows product is Licensed)."""

    computer_name: str
    version_name: str
    sku: int
    activated: bool
    running: bool
    data_exchange_enabled: bool


@dataclass(frozen=True)
class AvmaDecision:
    """How one AVMA request ends: ``licensed``, the LicenseStatusReason / activation HRESULT (0 on success), the
    Event 12309 ``outcome``, and whether the request reached the host (which then logs Event 12310)."""

    licensed: bool
    reason: int
    outcome: str
    reached_host: bool


def can_host_activate(host_version_name, guest_version_name):
    """True when a Datacenter host of this release may activate a guest of that release (avma-facts section 2)."""
    return AVMA_GENERATIONS[host_version_name] >= AVMA_GENERATIONS[guest_version_name]


def decide_avma(guest_version_name, host):
    """The ``AvmaDecision`` for a guest of ``guest_version_name`` with an AVMA key; ``host`` is a ``HostView``, or
    None when the guest is not a VM of a Hyper-V host. Checks in this order, the first failure wins (the reasons and
    outcomes are inferred from the SL_E_IA_* texts and the 12309 outcome descriptions):

    1. no Hyper-V host: 0xC004FD01, Invalid Host, the request goes nowhere;
    2. VM not running or Data Exchange off: 0xC004FD04 (not bound), Invalid Host, nothing reaches the host;
    3. host not Datacenter: 0xC004FD03, Invalid Host (not a supported host), the host logs the request;
    4. host not activated: 0xC004FD02, Activation Denied;
    5. guest newer than the host: 0xC004FD03, Activation Denied (the host does not know the guest's AVMA ID);
    6. otherwise AVMA Success.
    """
    if host is None:
        return AvmaDecision(False, SL_E_IA_INVALID_VIRTUALIZATION_PLATFORM, OUTCOME_INVALID_HOST, False)
    if not host.running or not host.data_exchange_enabled:
        return AvmaDecision(False, SL_E_IA_MACHINE_NOT_BOUND, OUTCOME_INVALID_HOST, False)
    if host.sku not in DATACENTER_SKUS:
        return AvmaDecision(False, SL_E_IA_ID_MISMATCH, OUTCOME_INVALID_HOST, True)
    if not host.activated:
        return AvmaDecision(False, SL_E_IA_PARENT_PARTITION_NOT_ACTIVATED, OUTCOME_ACTIVATION_DENIED, True)
    if not can_host_activate(host.version_name, guest_version_name):
        return AvmaDecision(False, SL_E_IA_ID_MISMATCH, OUTCOME_ACTIVATION_DENIED, True)
    return AvmaDecision(True, 0, OUTCOME_SUCCESS, True)
