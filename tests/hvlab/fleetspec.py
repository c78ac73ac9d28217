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
