# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Classes of root/cimv2 the lab serves, with the property names and types of the Windows classes.

None of them is a WMI singleton: each has key properties (Win32_OperatingSystem.Name, Win32_ComputerSystem.Name,
SoftwareLicensingService.Version, SoftwareLicensingProduct.ID), so Windows wants the keys in a Get or an instance
Invoke even though a machine has one operating system and one licensing service.
"""

from .schema import cim_class

WIN32_OPERATING_SYSTEM = cim_class(
    "root/cimv2", "Win32_OperatingSystem", keys=("Name",), properties="""
    BootDevice:string BuildNumber:string BuildType:string Caption:string CodeSet:string CountryCode:string
    CreationClassName:string CSCreationClassName:string CSDVersion:string CSName:string CurrentTimeZone:sint16
    DataExecutionPrevention_32BitApplications:boolean DataExecutionPrevention_Available:boolean
    DataExecutionPrevention_Drivers:boolean DataExecutionPrevention_SupportPolicy:uint8 Debug:boolean
    Description:string Distributed:boolean EncryptionLevel:uint32 ForegroundApplicationBoost:uint8
    FreePhysicalMemory:uint64 FreeSpaceInPagingFiles:uint64 FreeVirtualMemory:uint64 InstallDate:datetime
    LargeSystemCache:uint32 LastBootUpTime:datetime LocalDateTime:datetime Locale:string Manufacturer:string
    MaxNumberOfProcesses:uint32 MaxProcessMemorySize:uint64 MUILanguages:string[] Name:string
    NumberOfLicensedUsers:uint32 NumberOfProcesses:uint32 NumberOfUsers:uint32 OperatingSystemSKU:uint32
    Organization:string OSArchitecture:string OSLanguage:uint32 OSProductSuite:uint32 OSType:uint16
    OtherTypeDescription:string PAEEnabled:boolean PlusProductID:string PlusVersionNumber:string
    PortableOperatingSystem:boolean Primary:boolean ProductType:uint32 RegisteredUser:string SerialNumber:string
    ServicePackMajorVersion:uint16 ServicePackMinorVersion:uint16 SizeStoredInPagingFiles:uint64 Status:string
    SuiteMask:uint32 SystemDevice:string SystemDirectory:string SystemDrive:string TotalSwapSpaceSize:uint64
    TotalVirtualMemorySize:uint64 TotalVisibleMemorySize:uint64 Version:string WindowsDirectory:string
    """)

SOFTWARE_LICENSING_SERVICE = cim_class(
    "root/cimv2", "SoftwareLicensingService", keys=("Version",), properties="""
    ClientMachineID:string DiscoveredKeyManagementServiceMachineIpAddress:string
    DiscoveredKeyManagementServiceMachineName:string DiscoveredKeyManagementServiceMachinePort:uint32
    IsKeyManagementServiceMachine:uint32 KeyManagementServiceActivationDisabled:boolean KeyManagementServiceCurrentCount:uint32
    KeyManagementServiceDnsPublishing:boolean KeyManagementServiceFailedRequests:uint32
    KeyManagementServiceHostCaching:boolean KeyManagementServiceLicensedRequests:uint32
    KeyManagementServiceListeningPort:uint32 KeyManagementServiceLookupDomain:string
    KeyManagementServiceLowPriority:boolean KeyManagementServiceMachine:string
    KeyManagementServiceNonGenuineGraceRequests:uint32 KeyManagementServiceNotificationRequests:uint32
    KeyManagementServiceOOBGraceRequests:uint32 KeyManagementServiceOOTGraceRequests:uint32
    KeyManagementServicePort:uint32 KeyManagementServiceProductKeyID:string KeyManagementServiceTotalRequests:uint32
    KeyManagementServiceUnlicensedRequests:uint32 OA2xBiosMarkerMinorVersion:uint32 OA2xBiosMarkerStatus:uint32
    OA3xOriginalProductKey:string OA3xOriginalProductKeyDescription:string OA3xOriginalProductKeyPkPn:string
    PolicyCacheRefreshRequired:uint32 RemainingWindowsReArmCount:uint32 RequiredClientCount:uint32
    TokenActivationAdditionalInfo:string TokenActivationCertificateThumbprint:string
    TokenActivationGrantNumber:uint32 TokenActivationILID:string TokenActivationILVID:uint32 Version:string
    VLActivationInterval:uint32 VLRenewalInterval:uint32
    """)

SOFTWARE_LICENSING_PRODUCT = cim_class(
    "root/cimv2", "SoftwareLicensingProduct", keys=("ID",), properties="""
    ADActivationCsvlkPid:string ADActivationCsvlkSkuId:string ADActivationObjectDN:string
    ADActivationObjectName:string ApplicationID:string AutomaticVMActivationHostDigitalPid2:string
    AutomaticVMActivationHostMachineName:string AutomaticVMActivationLastActivationTime:datetime Description:string
    DiscoveredKeyManagementServiceMachineIpAddress:string DiscoveredKeyManagementServiceMachineName:string
    DiscoveredKeyManagementServiceMachinePort:uint32 EvaluationEndDate:datetime ExtendedGrace:uint32
    GenuineStatus:uint32 GracePeriodRemaining:uint32 IAID:string ID:string IsKeyManagementServiceMachine:uint32
    KeyManagementServiceCurrentCount:uint32 KeyManagementServiceFailedRequests:uint32
    KeyManagementServiceLicensedRequests:uint32 KeyManagementServiceLookupDomain:string
    KeyManagementServiceMachine:string KeyManagementServiceNonGenuineGraceRequests:uint32
    KeyManagementServiceNotificationRequests:uint32 KeyManagementServiceOOBGraceRequests:uint32
    KeyManagementServiceOOTGraceRequests:uint32 KeyManagementServicePort:uint32
    KeyManagementServiceProductKeyID:string KeyManagementServiceTotalRequests:uint32
    KeyManagementServiceUnlicensedRequests:uint32 LicenseDependsOn:string LicenseFamily:string
    LicenseIsAddon:boolean LicenseStatus:uint32 LicenseStatusReason:uint32 MachineURL:string Name:string
    OfflineInstallationId:string PartialProductKey:string ProcessorURL:string ProductKeyChannel:string
    ProductKeyID:string ProductKeyID2:string ProductKeyURL:string RemainingAppReArmCount:uint32
    RemainingSkuReArmCount:uint32 RequiredClientCount:uint32 TokenActivationAdditionalInfo:string
    TokenActivationCertificateThumbprint:string TokenActivationGrantNumber:uint32 TokenActivationILID:string
    TokenActivationILVID:uint32 TrustedTime:datetime UseLicenseURL:string ValidationURL:string
    VLActivationInterval:uint32 VLActivationType:uint32 VLActivationTypeEnabled:uint32 VLRenewalInterval:uint32
    """)

# What the machine is: on a Hyper-V VM, Manufacturer "Microsoft Corporation" and Model "Virtual Machine" (the values
# Hyper-V's virtual firmware reports, as tools that detect Hyper-V guests read them).
WIN32_COMPUTER_SYSTEM = cim_class(
    "root/cimv2", "Win32_ComputerSystem", keys=("Name",), properties="""
    Caption:string CreationClassName:string DNSHostName:string Domain:string HypervisorPresent:boolean
    Manufacturer:string Model:string Name:string NumberOfLogicalProcessors:uint32 NumberOfProcessors:uint32
    PartOfDomain:boolean Status:string SystemFamily:string SystemType:string TotalPhysicalMemory:uint64
    """)

CLASSES = (WIN32_OPERATING_SYSTEM, WIN32_COMPUTER_SYSTEM, SOFTWARE_LICENSING_SERVICE, SOFTWARE_LICENSING_PRODUCT)
