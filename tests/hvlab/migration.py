# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live migration of a VM to another host of the fleet (admin route ``POST /migrate``).

The VM keeps its GUID, name, state, Data Exchange setting, host-pushed items and what its guest publishes; on the
new host an exchange round runs at once, so the guest's ``Guest\\Parameters`` name the new host. A stopped VM moves
the same way (a "quick" move of its configuration).
"""

from . import hyperv


class MigrationError(ValueError):
    """A migration the lab refuses; the message says why."""


def migrate(fleet, request):
    """Move ``request["vm"]`` (name or GUID; ``request["from"]``, a host name, picks one when several VMs share the
    name) to host ``request["to"]``. Returns ``{"vm", "vm_id", "from", "to"}``; ``MigrationError`` otherwise."""
    if not isinstance(request, dict) or set(request) - {"vm", "to", "from"}:
        raise MigrationError("a migration is a JSON object with vm, to and optional from")
    vm_name, target_name, source_name = request.get("vm"), request.get("to"), request.get("from")
    if not isinstance(vm_name, str) or not isinstance(target_name, str) or not isinstance(source_name, (str, type(None))):
        raise MigrationError("vm and to must be strings (and from, when given)")
    target = next((host for host in hyperv.hosts(fleet) if host.name.lower() == target_name.lower()), None)
    if target is None or not target.spec.hyperv.installed:
        raise MigrationError("%r is not a Hyper-V host of the fleet" % target_name)
    candidates = [(host, record) for host, record in hyperv.vms_named(fleet, vm_name)
                  if source_name is None or host.name.lower() == source_name.lower()]
    if not candidates:
        raise MigrationError("no VM %r%s" % (vm_name, "" if source_name is None else " on %r" % source_name))
    if len(candidates) > 1:
        raise MigrationError("%d VMs are called %r (on %s): give from, or the VM's GUID"
                             % (len(candidates), vm_name, ", ".join(host.name for host, _record in candidates)))
    source, record = candidates[0]
    if source is target:
        raise MigrationError("VM %r already runs on %r" % (record.name, target.name))
    moved = hyperv.move_vm(fleet, source, target, record)
    return {"vm": moved.name, "vm_id": moved.vm_id, "from": source.name, "to": target.name}
