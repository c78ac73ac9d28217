# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows Server facts the simulated machines follow, typed as data (shared/reference/avma-facts.md, sections 1-4).

This is the lab's own copy, written from the facts page: the collection keeps its catalog in its domain layer and
the lab must not share it, so that a wrong entry on one side shows up as a test failure.
"""

from dataclasses import dataclass

# The DNS domain of the lab's machines: FullyQualifiedDomainName and the host names a guest's Guest\Parameters carry.
LAB_DNS_DOMAIN = "hvlab.test"

WINDOWS_APPLICATION_ID = "55c92734-d682-4d71-983e-d6ec3f16059f"
OFFICE_APPLICATION_ID = "0ff1ce15-a989-479d-af46-f275c6370663"

LICENSE_STATUS = {
    "unlicensed": 0,
    "licensed": 1,
    "oob_grace": 2,
    "oot_grace": 3,
    "non_genuine_grace": 4,
    "notification": 5,
    "extended_grace": 6,
}


@dataclass(frozen=True)
class Channel:
    """How a key was sold: the Description suffix slmgr reads and the ProductKeyChannel WMI reports."""

    name: str
    description_channel: str
    product_key_channel: str


# What ProductKeyChannel shows for an AVMA key is unconfirmed (avma-facts "Unconfirmed" 2); the fleet file can set it.
CHANNELS = {
    "avma": Channel("avma", "VIRTUAL_MACHINE_ACTIVATION", "Retail"),
    "kms": Channel("kms", "VOLUME_KMSCLIENT", "Volume:GVLK"),
    "mak": Channel("mak", "VOLUME_MAK", "Volume:MAK"),
    "retail": Channel("retail", "RETAIL", "Retail"),
    "oem": Channel("oem", "OEM_DM", "OEM:DM"),
}
NO_KEY_CHANNEL = "none"


@dataclass(frozen=True)
class Edition:
    """An edition by OperatingSystemSKU / EditionID, with the AVMA key column it uses (None: no AVMA key)."""

    sku: int
    edition_id: str
    caption_suffix: str
    key_column: str
    evaluation: bool = False


EDITIONS = (
    Edition(7, "ServerStandard", "Standard", "Standard"),
    Edition(8, "ServerDatacenter", "Datacenter", "Datacenter"),
    Edition(12, "ServerDatacenterCore", "Datacenter", "Datacenter"),
    Edition(13, "ServerStandardCore", "Standard", "Standard"),
    Edition(50, "ServerSolution", "Essentials", "Essentials"),
    Edition(79, "ServerStandardEval", "Standard Evaluation", None, evaluation=True),
    Edition(80, "ServerDatacenterEval", "Datacenter Evaluation", None, evaluation=True),
    Edition(407, "ServerTurbine", "Datacenter: Azure Edition", "AzureEdition"),
    Edition(408, "ServerTurbineCor", "Datacenter: Azure Edition", "AzureEdition"),
)
EDITIONS_BY_ID = {edition.edition_id.lower(): edition for edition in EDITIONS}
EDITIONS_BY_SKU = {edition.sku: edition for edition in EDITIONS}


@dataclass(frozen=True)
class WindowsVersion:
    """A Windows Server release: catalog name, build, WMI Version string, product name and its AVMA keys."""

    name: str
    build: int
    product_name: str
    editions: tuple
    avma_keys: tuple = ()   # ((key column, key), ...)

    @property
    def version(self):
        return "6.3.%d" % self.build if self.build == 9600 else "10.0.%d" % self.build

    def avma_key(self, key_column):
        return dict(self.avma_keys).get(key_column)


_LTSC = ("ServerStandard", "ServerDatacenter", "ServerStandardCore", "ServerDatacenterCore", "ServerSolution",
         "ServerStandardEval", "ServerDatacenterEval")
_LTSC_NO_ESSENTIALS = tuple(edition for edition in _LTSC if edition != "ServerSolution")
_SEMI_ANNUAL = ("ServerStandardCore", "ServerDatacenterCore")
_AZURE = ("ServerTurbine", "ServerTurbineCor")

_KEYS_2012R2 = (("Datacenter", "Y4TGP-NPTV9-HTC2H-7MGQ3-DV4TW"), ("Standard", "DBGBW-NPF86-BJVTX-K3WKJ-MTB6V"),
                ("Essentials", "K2XGM-NMBT3-2R6Q8-WF2FK-P36R2"))
_KEYS_2016 = (("Datacenter", "TMJ3Y-NTRTM-FJYXT-T22BY-CWG3J"), ("Standard", "C3RCX-M6NRP-6CXC9-TW2F2-4RHYD"),
              ("Essentials", "B4YNW-62DX9-W8V6M-82649-MHBKQ"))
_KEYS_2019 = (("Datacenter", "H3RNG-8C32Q-Q8FRX-6TDXV-WMBMW"), ("Standard", "TNK62-RXVTB-4P47B-2D623-4GF74"),
              ("Essentials", "2CTP7-NHT64-BP62M-FV6GG-HFV28"))
_KEYS_2022 = (("Datacenter", "W3GNR-8DDXR-2TFRP-H8P33-DV9BG"), ("Standard", "YDFWN-MJ9JR-3DYRK-FXXRW-78VHK"),
              ("AzureEdition", "F7TB6-YKN8Y-FCC6R-KQ484-VMK3J"))
# The 2025 row is unconfirmed against Microsoft (avma-facts section 1).
_KEYS_2025 = (("Datacenter", "YQB4H-NKHHJ-Q6K4R-4VMY6-VCH67"), ("Standard", "WWVGQ-PNHV9-B89P4-8GGM9-9HPQ4"),
              ("AzureEdition", "6NMQ9-T38WF-6MFGM-QYGYM-88J4F"))

VERSIONS = (
    WindowsVersion("2012 R2", 9600, "Windows Server 2012 R2", _LTSC, _KEYS_2012R2),
    WindowsVersion("2016", 14393, "Windows Server 2016", _LTSC, _KEYS_2016),
    WindowsVersion("1709", 16299, "Windows Server", _SEMI_ANNUAL, _KEYS_2016),
    WindowsVersion("1803", 17134, "Windows Server", _SEMI_ANNUAL, _KEYS_2016),
    WindowsVersion("2019", 17763, "Windows Server 2019", _LTSC, _KEYS_2019),
    WindowsVersion("1903", 18362, "Windows Server", _SEMI_ANNUAL, _KEYS_2019),
    WindowsVersion("1909", 18363, "Windows Server", _SEMI_ANNUAL, _KEYS_2019),
    WindowsVersion("2004", 19041, "Windows Server", _SEMI_ANNUAL),
    WindowsVersion("20H2", 19042, "Windows Server", _SEMI_ANNUAL),
    WindowsVersion("2022", 20348, "Windows Server 2022", _LTSC + _AZURE, _KEYS_2022),
    WindowsVersion("2025", 26100, "Windows Server 2025", _LTSC_NO_ESSENTIALS + _AZURE, _KEYS_2025),
)
VERSIONS_BY_NAME = {version.name.lower(): version for version in VERSIONS}


def caption(version, edition):
    """Win32_OperatingSystem.Caption, e.g. ``Microsoft Windows Server 2022 Datacenter``."""
    return "Microsoft %s %s" % (version.product_name, edition.caption_suffix)


def avma_key(version, edition):
    """The public AVMA key for this version and edition, or None where none exists (evaluation, 2004/20H2, ...)."""
    if edition.key_column is None:
        return None
    return version.avma_key(edition.key_column)


def product_name(edition_id):
    """SoftwareLicensingProduct.Name of a Windows edition, e.g. ``Windows(R), ServerDatacenter edition``."""
    return "Windows(R), %s edition" % edition_id


def windows_description(channel):
    """SoftwareLicensingProduct.Description of a Windows product of the given ``Channel``."""
    return "Windows(R) Operating System, %s channel" % channel.description_channel
