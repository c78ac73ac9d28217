# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Hyper-V classes of root/virtualization/v2 a host serves, and Win32_OptionalFeature (root/cimv2).

Property names and types follow Microsoft's HyperV_v2 MOF pages (MicrosoftDocs/win32 desktop-src/HyperV_v2); keys
follow their CIM parents: Msvm_ComputerSystem (CreationClassName, Name), Msvm_KvpExchangeComponent (a
CIM_LogicalDevice: CreationClassName, DeviceID, SystemCreationClassName, SystemName), setting data and jobs
(InstanceID), Msvm_VirtualSystemManagementService (a CIM_Service: CreationClassName, Name,
SystemCreationClassName, SystemName). None is a WMI singleton. KVP item arrays are ``embedded_instance`` strings.
Interval datetimes (ElapsedTime, TimeBeforeRemoval, ...) stay null: the lab's datetime type has no intervals.

``VM_GUEST_DATA`` is lab-internal: what a VM's integration services last published to the host (its intrinsic and
guest items), kept with the host so that a stopped VM or Data Exchange turned off can show nothing and come back.
"""

from . import jobs
from .schema import cim_class

HOST_ONLY = ("host",)

MSVM_COMPUTER_SYSTEM = cim_class(
    "root/virtualization/v2", "Msvm_ComputerSystem", keys=("CreationClassName", "Name"), machine_kinds=HOST_ONLY,
    properties="""
    AvailableRequestedStates:uint16[] Caption:string CommunicationStatus:uint16 CreationClassName:string
    Dedicated:uint16[] Description:string DetailedStatus:uint16 ElementName:string EnabledDefault:uint16
    EnabledState:uint16 EnhancedSessionModeState:uint16 FailedOverReplicationType:uint16 HealthState:uint16
    IdentifyingDescriptions:string[] InstallDate:datetime InstanceID:string LastApplicationConsistentReplicationTime:datetime
    LastReplicationTime:datetime LastReplicationType:uint16 LastSuccessfulBackupTime:datetime Name:string
    NameFormat:string NumberOfNumaNodes:uint16 OnTimeInMilliseconds:uint64 OperatingStatus:uint16
    OperationalStatus:uint16[] OtherDedicatedDescriptions:string[] OtherEnabledState:string
    OtherIdentifyingInfo:string[] PowerManagementCapabilities:uint16[] PrimaryOwnerContact:string
    PrimaryOwnerName:string PrimaryStatus:uint16 ProcessID:uint32 ReplicationHealth:uint16 ReplicationMode:uint16
    ReplicationState:uint16 RequestedState:uint16 ResetCapability:uint16 Roles:string[] Status:string
    StatusDescriptions:string[] TimeOfLastConfigurationChange:datetime TimeOfLastStateChange:datetime
    TransitioningToState:uint16
    """)

MSVM_VIRTUAL_SYSTEM_SETTING_DATA = cim_class(
    "root/virtualization/v2", "Msvm_VirtualSystemSettingData", keys=("InstanceID",), machine_kinds=HOST_ONLY,
    properties="""
    AdditionalRecoveryInformation:string AllowFullSCSICommandSet:boolean AllowReducedFcRedundancy:boolean
    Architecture:string AutomaticCriticalErrorAction:uint16 AutomaticCriticalErrorActionTimeout:datetime
    AutomaticRecoveryAction:uint16 AutomaticShutdownAction:uint16 AutomaticSnapshotsEnabled:boolean
    AutomaticStartupAction:uint16 AutomaticStartupActionDelay:datetime AutomaticStartupActionSequenceNumber:uint16
    BaseBoardSerialNumber:string BIOSGUID:string BIOSNumLock:boolean BIOSSerialNumber:string BootOrder:uint16[]
    BootSourceOrder:string[] Caption:string ChassisAssetTag:string ChassisSerialNumber:string ConfigurationDataRoot:string
    ConfigurationFile:string ConfigurationID:string ConsoleMode:uint16 CreationTime:datetime DebugChannelId:uint32
    DebugPort:uint32 DebugPortEnabled:uint16 Description:string ElementName:string EnhancedSessionTransportType:uint16
    GuestControlledCacheTypes:boolean GuestStateDataRoot:string GuestStateFile:string HighMmioGapSize:uint64
    IncrementalBackupEnabled:boolean InstanceID:string IsAutomaticSnapshot:boolean IsSaved:boolean
    LockOnDisconnect:boolean LogDataRoot:string LowMmioGapSize:uint64 NetworkBootPreferredProtocol:uint16 Notes:string[]
    Parent:string ParentPackage:string PauseAfterBootFailure:boolean RecoveryFile:string SecureBootEnabled:boolean
    SecureBootTemplateId:string SnapshotDataRoot:string SuspendDataRoot:string SwapFileDataRoot:string
    UserSnapshotType:uint16 Version:string VirtualNumaEnabled:boolean VirtualSystemIdentifier:string
    VirtualSystemSubType:string VirtualSystemType:string
    """)

MSVM_KVP_EXCHANGE_COMPONENT = cim_class(
    "root/virtualization/v2", "Msvm_KvpExchangeComponent",
    keys=("CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"), machine_kinds=HOST_ONLY,
    properties="""
    AdditionalAvailability:uint16[] Availability:uint16 AvailableRequestedStates:uint16[] Caption:string
    CommunicationStatus:uint16 CreationClassName:string Description:string DetailedStatus:uint16 DeviceID:string
    ElementName:string EnabledDefault:uint16 EnabledState:uint16 ErrorCleared:boolean ErrorDescription:string
    GuestExchangeItems:embedded_instance[] GuestIntrinsicExchangeItems:embedded_instance[] HealthState:uint16
    IdentifyingDescriptions:string[] InstallDate:datetime InstanceID:string LastErrorCode:uint32 MaxQuiesceTime:uint64
    Name:string OperatingStatus:uint16 OperationalStatus:uint16[] OtherEnabledState:string
    OtherIdentifyingInfo:string[] PowerManagementCapabilities:uint16[] PowerManagementSupported:boolean
    PowerOnHours:uint64 PrimaryStatus:uint16 RequestedState:uint16 Status:string StatusDescriptions:string[]
    StatusInfo:uint16 SystemCreationClassName:string SystemName:string TimeOfLastStateChange:datetime
    TotalPowerOnHours:uint64 TransitioningToState:uint16
    """)

MSVM_KVP_EXCHANGE_COMPONENT_SETTING_DATA = cim_class(
    "root/virtualization/v2", "Msvm_KvpExchangeComponentSettingData", keys=("InstanceID",), machine_kinds=HOST_ONLY,
    properties="""
    Address:string AddressOnParent:string AllocationUnits:string AutomaticAllocation:boolean
    AutomaticDeallocation:boolean Caption:string Connection:string[] ConsumerVisibility:uint16 Description:string
    DisableHostKVPItems:boolean ElementName:string EnabledState:uint16 HostExchangeItems:embedded_instance[]
    HostOnlyItems:embedded_instance[] HostResource:string[] InstanceID:string Limit:uint64 MappingBehavior:uint16
    OtherResourceType:string Parent:string PoolID:string Reservation:uint64 ResourceSubType:string ResourceType:uint16
    VirtualQuantity:uint64 VirtualQuantityUnits:string Weight:uint32
    """)

MSVM_VIRTUAL_SYSTEM_MANAGEMENT_SERVICE = cim_class(
    "root/virtualization/v2", "Msvm_VirtualSystemManagementService",
    keys=("CreationClassName", "Name", "SystemCreationClassName", "SystemName"), machine_kinds=HOST_ONLY,
    properties="""
    AvailableRequestedStates:uint16[] Caption:string CommunicationStatus:uint16 CreationClassName:string
    Description:string DetailedStatus:uint16 ElementName:string EnabledDefault:uint16 EnabledState:uint16
    HealthState:uint16 InstallDate:datetime InstanceID:string Name:string OperatingStatus:uint16
    OperationalStatus:uint16[] OtherEnabledState:string PrimaryOwnerContact:string PrimaryOwnerName:string
    PrimaryStatus:uint16 RequestedState:uint16 Started:boolean StartMode:string Status:string
    StatusDescriptions:string[] SystemCreationClassName:string SystemName:string TimeOfLastStateChange:datetime
    TransitioningToState:uint16
    """)

# Every Windows machine has it; hosts and guests alike (MicrosoftDocs/win32 desktop-src/CIMWin32Prov).
WIN32_OPTIONAL_FEATURE = cim_class(
    "root/cimv2", "Win32_OptionalFeature", keys=("Name",), properties="""
    Caption:string Description:string InstallDate:datetime InstallState:uint32 Name:string Status:string""")

VM_GUEST_DATA = cim_class("hvlab", "VmGuestData", keys=("VmId",), machine_kinds=(), properties="""
    VmId:string GuestMachine:string KvpStatus:uint16 IntrinsicNames:string[] IntrinsicValues:string[] GuestNames:string[]
    GuestValues:string[] RawGuestItems:string[]""")

CLASSES = (MSVM_COMPUTER_SYSTEM, MSVM_VIRTUAL_SYSTEM_SETTING_DATA, MSVM_KVP_EXCHANGE_COMPONENT,
           MSVM_KVP_EXCHANGE_COMPONENT_SETTING_DATA, MSVM_VIRTUAL_SYSTEM_MANAGEMENT_SERVICE, WIN32_OPTIONAL_FEATURE,
           VM_GUEST_DATA) + jobs.CLASSES
