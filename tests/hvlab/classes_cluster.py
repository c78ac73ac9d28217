# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failover clusters (root/MSCluster): hosts whose ``hyperv.cluster`` names the same cluster are its nodes, and each
of them answers for the whole cluster, as a cluster node does.

- ``MSCluster_Node`` (key Name): one per node, Name = the node's computer name, State 0 (Up).
- ``MSCluster_Resource`` (key Name): one per VM of any node, Name ``Virtual Machine <VM name>`` (the name Failover
  Cluster Manager gives a VM's resource), Type ``Virtual Machine``, OwnerGroup the VM's name (its role),
  OwnerNode the computer name of the node it runs on now, State 2 (Online); so a VM moved between nodes (POST
  /migrate) is owned by its new node at once.

Both are rebuilt from the nodes' state on every read. A host outside any cluster has none of them. Which classes and
properties Windows serves over WS-Man for this (rights: cluster administrators) is unconfirmed; the names follow
Microsoft's Failover Cluster WMI provider reference.
"""

from .schema import cim_class

NODE_UP = 0
RESOURCE_ONLINE = 2
VM_RESOURCE_TYPE = "Virtual Machine"


def _refresh_nodes(machine):
    store = machine.store
    for node in list(store.instances(MSCLUSTER_NODE)):
        store.remove(MSCLUSTER_NODE, node)
    for peer in machine.cluster_peers:
        store.add(MSCLUSTER_NODE, MSCLUSTER_NODE.new_instance(
            Name=peer.spec.os.computer_name, State=NODE_UP, Caption=peer.spec.os.computer_name,
            Description="Failover cluster node", NodeHighestVersion=peer.spec.os.build))


def _refresh_resources(machine):
    from .classes_virtualization import MSVM_COMPUTER_SYSTEM  # pylint: disable=import-outside-toplevel

    store = machine.store
    for resource in list(store.instances(MSCLUSTER_RESOURCE)):
        store.remove(MSCLUSTER_RESOURCE, resource)
    for peer in machine.cluster_peers:
        for system in peer.store.instances(MSVM_COMPUTER_SYSTEM):
            if system["Caption"] != "Virtual Machine":
                continue
            store.add(MSCLUSTER_RESOURCE, MSCLUSTER_RESOURCE.new_instance(
                Name="Virtual Machine %s" % system["ElementName"], Type=VM_RESOURCE_TYPE, OwnerGroup=system["ElementName"],
                OwnerNode=peer.spec.os.computer_name, State=RESOURCE_ONLINE))


MSCLUSTER_NODE = cim_class(
    "root/MSCluster", "MSCluster_Node", keys=("Name",), machine_kinds=("host",), refresh=_refresh_nodes, properties="""
    Caption:string Description:string Name:string NodeHighestVersion:uint32 State:uint32
    """)

MSCLUSTER_RESOURCE = cim_class(
    "root/MSCluster", "MSCluster_Resource", keys=("Name",), machine_kinds=("host",), refresh=_refresh_resources, properties="""
    Name:string OwnerGroup:string OwnerNode:string State:uint32 Type:string
    """)

CLASSES = (MSCLUSTER_NODE, MSCLUSTER_RESOURCE)
