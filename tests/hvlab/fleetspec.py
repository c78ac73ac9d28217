# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validated content of a fleet file (see FLEET.md), as frozen dataclasses. ``fleetfile`` builds them."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credential:
    """One account a machine accepts. ``domain`` is empty for a local account."""

    user: str
    password: str
    domain: str = ""


@dataclass(frozen=True)
class OsSpec:
    """What Win32_OperatingSystem reports. ``version`` and ``edition`` are ``catalog`` entries."""

    version: object
    edition: object
    caption: str
    build: int
    sku: int
    computer_name: str

    @property
    def version_string(self):
        return "6.3.%d" % self.build if self.build == 9600 else "10.0.%d" % self.build


@dataclass(frozen=True)
class LicenseSpec:
    """The installed Windows key and its state; ``channel`` is a ``catalog.CHANNELS`` name or ``none``."""

    channel: str
    status: int
    status_reason: int
    grace_minutes: int
    partial_product_key: str = None
    avma_host: str = None
    last_avma_activation: str = None
    product_key_channel: str = None


@dataclass(frozen=True)
class ExtraProduct:
    """A licensing row besides the Windows one: another application's, or a Windows add-on."""

    application_id: str
    name: str
    description: str
    license_family: str
    channel: str
    status: int
    addon: bool
    partial_product_key: str = None


@dataclass(frozen=True)
class AcceptedKey:
    """A non-AVMA product key the machine accepts (fleet file ``accepted_keys``): its channel (mak, retail, kms, oem),
    the EditionID it licenses, whether Activate() licenses it, and an optional ProductKeyChannel override."""

    key: str
    channel: str
    edition_id: str
    activates: bool
    product_key_channel: str = None


@dataclass(frozen=True)
class SeedEvent:
    """An event-log record the machine starts with (fleet file ``events``); ``event_type`` is an ``eventlog``
    type name, ``message`` None means the lab's text for the event ID; ``count`` records of it are written,
    ``every_seconds`` apart from ``time`` on (a large log in one line)."""

    log: str
    event_id: int
    time: str
    source: str
    event_type: str
    insertion_strings: tuple = ()
    message: str = None
    count: int = 1
    every_seconds: float = 0.0


@dataclass(frozen=True)
class WireSpec:
    """How a machine writes what Windows' wire form leaves open (fleet file ``wire``; FLEET.md, "Wire forms")."""

    embedded_instance_form: str = "escaped"
    kvp_item_shape: str = "full"
    job_reference: str = "direct"
    named_entities: str = "invalid_parameter"
    event_order: str = "oldest_first"
    event_language: str = "en"
    embedded_object_form: str = "wscim"


@dataclass(frozen=True)
class VmSpec:
    """A guest as a VM of its Hyper-V host (fleet file ``vm``). Items are ``((name, value), ...)`` in file order;
    ``raw_guest_items`` are embedded-instance texts served verbatim; ``host_computer_name`` and ``host_fqdn`` name
    the host the guest starts on (filled in by the fleet reader)."""

    name: str
    running: bool = True
    data_exchange: bool = True
    status: int = 2
    fqdn: str = ""
    guest_items: tuple = ()
    host_items: tuple = ()
    raw_guest_items: tuple = ()
    host_only_items: tuple = ()
    host_computer_name: str = ""
    host_fqdn: str = ""


@dataclass(frozen=True)
class SyntheticVmsSpec:
    """VMs of a host without a machine of their own (fleet file ``synthetic_vms``): ``count`` VMs named
    ``<name_prefix><number>``, all alike, their intrinsic items generated from ``os`` (an ``OsSpec``)."""

    count: int
    name_prefix: str
    running: bool
    data_exchange: bool
    os: object
    guest_items: tuple = ()


@dataclass(frozen=True)
class HypervSpec:
    """A host's Hyper-V (fleet file ``hyperv``): the role installed, how KVP jobs run (``jobs`` async: ReturnValue
    4096 and a job that stays Running for ``job_polls`` reads, or ``job_seconds`` when positive; sync: ReturnValue 0)."""

    installed: bool = True
    jobs: str = "async"
    job_polls: int = 1
    job_seconds: float = 0.0
    job_success_state: str = "completed"
    data_exchange_switch: str = "resource_settings"
    add_existing: str = "invalid_parameter"
    cluster: str = ""
    cluster_access: str = "allowed"
    cluster_resource_names: str = "vm_name"
    long_key_names: str = "refuse"


@dataclass(frozen=True)
class CertificateMapping:
    """A WinRM client certificate mapping (``WSMan:\\localhost\\ClientCertificate``): a certificate of the lab CA
    whose UPN (subject alternative name) is ``subject`` logs on as the machine's account ``user``."""

    subject: str
    user: str


@dataclass(frozen=True)
class WinrmAuthSpec:
    """Which authentication methods the machine's WinRM service allows (``WSMan:\\localhost\\Service\\Auth``; fleet
    file ``winrm_auth``). Defaults as the lab always served: Basic and Negotiate on; Kerberos on as on Windows;
    CredSSP and Certificate off, as on Windows until an administrator enables them."""

    basic: bool = True
    negotiate: bool = True
    kerberos: bool = True
    credssp: bool = False
    certificate: bool = False
    certificate_mappings: tuple = ()


@dataclass(frozen=True)
class WinrmConfigSpec:
    """The machine's WinRM service limits (``WSMan:\\localhost``; fleet file ``winrm_config``): ``max_batch_items``
    (MaxBatchItems, default 32000 as on Windows) caps the items of one Enumerate or Pull answer, whatever the
    client's MaxElements, so a small value makes every enumeration of more items than that Pull."""

    max_batch_items: int = 32000


@dataclass(frozen=True)
class MachineSpec:
    """One machine of the fleet file, defaults merged and every field checked."""

    name: str
    address: str
    kind: str
    credentials: tuple
    inventory: dict = field(default_factory=dict)
    hyperv_host: str = None
    os: OsSpec = None
    license: LicenseSpec = None
    extra_products: tuple = ()
    fault_style: str = "combined"
    wire: WireSpec = field(default_factory=WireSpec)
    vm: VmSpec = None
    hyperv: HypervSpec = None
    synthetic_vms: SyntheticVmsSpec = None
    guests: tuple = ()       # host only: the specs of the guests that start as its VMs
    accepted_keys: tuple = ()
    events: tuple = ()
    winrm_auth: WinrmAuthSpec = field(default_factory=WinrmAuthSpec)
    winrm_config: WinrmConfigSpec = field(default_factory=WinrmConfigSpec)
