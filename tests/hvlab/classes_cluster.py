# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failover clusters (root/MSCluster): hosts whose ``hyperv.cluster`` names the same cluster are its nodes, and each
of them answers for the whole cluster, as a cluster node does.

- ``MSCluster_Node`` (key Name): one per node, Name = the node's computer name, State 0 (Up).
- ``MSCluster_Resource`` (key Name): one per VM of any node, Type ``Virtual Machine``, OwnerNode the computer name of
  the node it runs on now, State 2 (Online), so a VM moved between nodes (POST /migrate) is owned by its new node at
  once; and PrivateProperties, an embedded ``MSCluster_Property`` whose ``VmID`` is the VM's GUID (lower case, as
  Microsoft's "VmId" private property page shows it), the one thing that names the VM whatever the resource is
  called. With ``hyperv.cluster_resource_names: vm_name`` the resource is Name ``Virtual Machine <VM name>`` and
  OwnerGroup (its role) the VM's name, as Failover Cluster Manager names them; with ``role_name`` both were renamed
  (OwnerGroup ``Role <first 8 hex digits of the VM ID>``, Name ``Virtual Machine`` and that role), as an
  administrator may.

Both are rebuilt from the nodes' state on every read. A host outside any cluster has none of them. A node with
``hyperv.cluster_access`` other than ``allowed`` refuses every read of them, as a node does to an account without read
access to the cluster: ``wmi_access_denied`` (WBEM_E_ACCESS_DENIED from the provider) or ``wsman_access_denied``
(WinRM's own "Access is denied.", code 5). Which classes and properties Windows serves over WS-Man for this (rights:
cluster read access and root/MSCluster), and which of the two faults a refusal takes, is unconfirmed; the names
follow Microsoft's Failover Cluster WMI provider reference.
"""

from . import faults
from .kvp_items import render_instance
from .schema import cim_class

NODE_UP = 0
RESOURCE_ONLINE = 2
VM_RESOURCE_TYPE = "Virtual Machine"
PROPERTY_CLASS = "MSCluster_Property"
CLUSTER_ACCESS = ("allowed", "wmi_access_denied", "wsman_access_denied")
CLUSTER_RESOURCE_NAMES = ("vm_name", "role_name")


def _refuse_unless_allowed(machine, cim_class):
    access = machine.spec.hyperv.cluster_access if machine.spec.hyperv is not None else "allowed"
    if access == "wmi_access_denied":
        raise faults.wmi_access_denied(cim_class.namespace, cim_class.name)
    if access == "wsman_access_denied":
        raise faults.access_denied()


def _refresh_nodes(machine):
    _refuse_unless_allowed(machine, MSCLUSTER_NODE)
    store = machine.store
    for node in list(store.instances(MSCLUSTER_NODE)):
        store.remove(MSCLUSTER_NODE, node)
    for peer in machine.cluster_peers:
        store.add(MSCLUSTER_NODE, MSCLUSTER_NODE.new_instance(
            Name=peer.spec.os.computer_name, State=NODE_UP, Caption=peer.spec.os.computer_name,
            Description="Failover cluster node", NodeHighestVersion=peer.spec.os.build))


def vm_resource_names(vm_name, vm_id, naming):
    """(resource Name, OwnerGroup) of the resource of VM ``vm_name`` with ID ``vm_id`` under ``naming``."""
    group = vm_name if naming == "vm_name" else "Role %s" % vm_id[:8].upper()
    return "%s %s" % (VM_RESOURCE_TYPE, group), group


def _private_properties(vm_id):
    return render_instance(PROPERTY_CLASS, (("VmID", "string", vm_id.lower()), ("OfflineAction", "uint32", 1),
                                            ("ShutdownAction", "uint32", 0), ("CheckHeartbeat", "uint32", 1)))


def _refresh_resources(machine):
    from .classes_virtualization import MSVM_COMPUTER_SYSTEM  # pylint: disable=import-outside-toplevel

    _refuse_unless_allowed(machine, MSCLUSTER_RESOURCE)
    store = machine.store
    for resource in list(store.instances(MSCLUSTER_RESOURCE)):
        store.remove(MSCLUSTER_RESOURCE, resource)
    for peer in machine.cluster_peers:
        for system in peer.store.instances(MSVM_COMPUTER_SYSTEM):
            if system["Caption"] != "Virtual Machine":
                continue
            name, group = vm_resource_names(system["ElementName"], system["Name"], machine.spec.hyperv.cluster_resource_names)
            store.add(MSCLUSTER_RESOURCE, MSCLUSTER_RESOURCE.new_instance(
                Name=name, Type=VM_RESOURCE_TYPE, OwnerGroup=group, OwnerNode=peer.spec.os.computer_name, State=RESOURCE_ONLINE,
                PrivateProperties=_private_properties(system["Name"])))


MSCLUSTER_NODE = cim_class(
    "root/MSCluster", "MSCluster_Node", keys=("Name",), machine_kinds=("host",), refresh=_refresh_nodes, properties="""
    Caption:string Description:string Name:string NodeHighestVersion:uint32 State:uint32
    """)

MSCLUSTER_RESOURCE = cim_class(
    "root/MSCluster", "MSCluster_Resource", keys=("Name",), machine_kinds=("host",), refresh=_refresh_resources, properties="""
    Name:string OwnerGroup:string OwnerNode:string PrivateProperties:embedded_object State:uint32 Type:string
    """)

CLASSES = (MSCLUSTER_NODE, MSCLUSTER_RESOURCE)
