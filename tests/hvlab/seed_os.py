# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Win32_OperatingSystem and Win32_ComputerSystem instances of a machine, from its fleet spec.

Values not in the fleet file are fixed (no clock, no randomness): a lab state must be the same on every run. Their
shape follows the txwinrm capture of Win32_OperatingSystem (tests/unit/hvlab/fixtures/).
"""

import hashlib

from .classes_cimv2 import WIN32_COMPUTER_SYSTEM, WIN32_OPERATING_SYSTEM

# OSProductSuite / SuiteMask bits: 0x10 terminal services, 0x100 single-user TS, 0x80 Datacenter (Windows SDK).
SUITE_DATACENTER = 0x190
SUITE_OTHER = 0x110


def stable_number(*parts, modulo):
    """A number in [0, modulo) derived from ``parts``: the same fleet always yields the same values."""
    digest = hashlib.sha256("|".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % modulo


def operating_system(spec):
    """The complete Win32_OperatingSystem instance for ``MachineSpec`` ``spec``."""
    os_spec = spec.os
    suite = SUITE_DATACENTER if "Datacenter" in os_spec.edition.caption_suffix else SUITE_OTHER
    day = 1 + stable_number(spec.name, "install", modulo=28)
    return WIN32_OPERATING_SYSTEM.new_instance(
        BootDevice="\\Device\\HarddiskVolume1",
        BuildNumber=str(os_spec.build),
        BuildType="Multiprocessor Free",
        Caption=os_spec.caption,
        CodeSet="1252",
        CountryCode="1",
        CreationClassName="Win32_OperatingSystem",
        CSCreationClassName="Win32_ComputerSystem",
        CSName=os_spec.computer_name,
        CurrentTimeZone=0,
        DataExecutionPrevention_32BitApplications=True,
        DataExecutionPrevention_Available=True,
        DataExecutionPrevention_Drivers=True,
        DataExecutionPrevention_SupportPolicy=3,
        Debug=False,
        Description="",
        Distributed=False,
        EncryptionLevel=256,
        ForegroundApplicationBoost=2,
        FreePhysicalMemory=2516582,
        FreeSpaceInPagingFiles=1441792,
        FreeVirtualMemory=3959423,
        InstallDate="2025-03-%02dT10:14:07Z" % day,
        LastBootUpTime="2026-11-%02dT06:02:41.5Z" % day,
        LocalDateTime="2026-11-28T09:00:00.125Z",
        Locale="0409",
        Manufacturer="Microsoft Corporation",
        MaxNumberOfProcesses=4294967295,
        MaxProcessMemorySize=137438953344,
        MUILanguages=["en-US"],
        Name="%s|C:\\Windows|\\Device\\Harddisk0\\Partition2" % os_spec.caption,
        NumberOfLicensedUsers=0,
        NumberOfProcesses=58 + stable_number(spec.name, "processes", modulo=40),
        NumberOfUsers=1,
        OperatingSystemSKU=os_spec.sku,
        Organization="",
        OSArchitecture="64-bit",
        OSLanguage=1033,
        OSProductSuite=suite,
        OSType=18,
        PortableOperatingSystem=False,
        Primary=True,
        ProductType=3,
        RegisteredUser="Windows User",
        SerialNumber="00454-60000-%05d-AA%03d" % (
            stable_number(spec.name, "serial", modulo=100000), stable_number(spec.name, "serial2", modulo=1000)),
        ServicePackMajorVersion=0,
        ServicePackMinorVersion=0,
        SizeStoredInPagingFiles=1441792,
        Status="OK",
        SuiteMask=suite,
        SystemDevice="\\Device\\HarddiskVolume2",
        SystemDirectory="C:\\Windows\\system32",
        SystemDrive="C:",
        TotalVirtualMemorySize=5636096,
        TotalVisibleMemorySize=4194304,
        Version=os_spec.version_string,
        WindowsDirectory="C:\\Windows",
    )


def computer_system(spec):
    """The Win32_ComputerSystem instance: a guest is a Hyper-V VM (Microsoft's virtual hardware), a host runs on
    made-up physical hardware with a hypervisor."""
    guest = spec.kind == "guest"
    return WIN32_COMPUTER_SYSTEM.new_instance(
        Caption=spec.os.computer_name,
        CreationClassName="Win32_ComputerSystem",
        DNSHostName=spec.os.computer_name.lower(),
        Domain="hvlab.test",
        HypervisorPresent=True,
        Manufacturer="Microsoft Corporation" if guest else "Contoso Hardware",
        Model="Virtual Machine" if guest else "Rack Server R740",
        Name=spec.os.computer_name,
        NumberOfLogicalProcessors=4 if guest else 64,
        NumberOfProcessors=1 if guest else 2,
        PartOfDomain=True,
        Status="OK",
        SystemFamily="Virtual Machine" if guest else "Rack Server",
        SystemType="x64-based PC",
        TotalPhysicalMemory=8589398016 if guest else 549755813888,
    )
