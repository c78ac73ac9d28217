# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hvlab: a simulated fleet of Windows machines that answer WS-Management (WinRM) the way Windows does.

The protocol layer (parse a request, render a response or a fault) is kept apart from the state model (the fleet
and the CIM instances of each machine), as in moto. The lab imports nothing from the collection's ``plugins/``:
it exists to prove that code right or wrong, so it must not share it.

Protocol: ``service`` (entry point, ``WsmanService.handle`` -> ``Reply``), ``envelope`` (read a request),
``handlers`` (the operations), ``enumeration`` (contexts and paging), ``resources`` (resource URI -> class),
``wql``, ``cimxml`` (instances on the wire), ``responsexml``, ``faults`` (every fault as data), ``faultxml`` (the
one fault renderer), ``faultinjection``, ``stats``, ``namespaces``, ``xmlsafe``, ``xmltext``.
State: ``fleet`` (``Fleet``, ``Machine``), ``fleetfile`` / ``fleetspec`` (the fleet file, FLEET.md), ``seed*``
(initial instances), ``store`` (instances of a machine, and the log of their changes), ``schema`` / ``cimtypes`` / ``classes*`` (the CIM
classes), ``methods*`` / ``method_table`` (WMI methods), ``catalog`` (Windows and AVMA facts), ``activation`` (AVMA
decisions, pure), ``eventlog`` / ``classes_events`` (Win32_NTLogEvent), ``methods_activation`` (licensing methods),
``hyperv`` (hosts, VMs and the KVP exchange) / ``classes_virtualization`` / ``methods_hyperv`` / ``jobs`` /
``kvp_items`` / ``migration`` / ``fleetfile_hyperv``, ``registry`` / ``classes_registry`` / ``methods_registry``
(StdRegProv).
Transport: ``server``, ``certs``, ``admin``, ``cli``, ``statedir``.
"""
