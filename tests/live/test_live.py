# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live suite (configuration: conftest.py). Read-only tests first, then, with HYPERV_AVMA_LIVE_WRITE=1 and a
disposable VM, the changing ones. Each test reports what the system showed for the unconfirmed points it touches
(numbers as in docs/docsite/rst/guide_fidelity.rst)."""

import copy
import importlib
import time
from xml.etree import ElementTree

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils import _avma, _events, _guest_licensing, _hyperv, _kvp
from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClass, resource_uri
from ansible_collections.hyperv.avma.plugins.module_utils._errors import CimJobFailedError, CimMethodError, WsmanFaultError
from ansible_collections.hyperv.avma.plugins.module_utils._guest_registry import HKLM, KVP_KEYS, enum_values, get_string_value
from ansible_collections.hyperv.avma.plugins.module_utils._xml import local_name, parse_xml

CIM_XML_SCHEMA_URI = "http://schemas.dmtf.org/wbem/cim-xml/2/cim-schema/2/*"
SCHEMA_OPTIONS = {"IncludeInheritedElements": "true", "IncludeQualifiers": "true"}
MODULES = ("_cim", "_events", "_guest_licensing", "_guest_registry", "_hyperv")
LIVE_ITEM = "HyperVAvma.LiveTest"
LIVE_DUPLICATE = "HyperVAvma.LiveDuplicate"
# 263 characters: 528 bytes as a VMBus key (UTF-16 and its NUL), past the 512 the VMBus carries.
LIVE_LONG_KEY = "HyperVAvma.LiveLongKey." + "k" * 240
EXCHANGE_WAIT_SEC = 60
NO_SUCH_METHOD = "HypervAvmaNoSuchMethod"


def params_for(spec, **given):
    params = {name: copy.deepcopy(option.get("default")) for name, option in spec.items()}
    params.update(given)
    return params


def classes_used():
    """Every CimClass the collection's operations declare, once each."""
    found = {}
    for name in MODULES:
        module = importlib.import_module("ansible_collections.hyperv.avma.plugins.module_utils." + name)
        for value in vars(module).values():
            if isinstance(value, CimClass):
                found[(value.namespace, value.name)] = value
    return sorted(found.values(), key=lambda cls: (cls.namespace, cls.name))


# -- read-only ------------------------------------------------------------------------------------------------------


def test_host_readiness(host, shown, cluster_node_addresses):
    result = _hyperv.host_info_task(host, params_for(_hyperv.HOST_INFO_SPEC, cluster_node_addresses=cluster_node_addresses), False, False)
    shown("host readiness", "ready=%s problems=%s" % (result["ready"], [problem["code"] for problem in result["problems"]]))
    shown("point 4 (Degraded)", "Data Exchange status codes of running VMs: %s" % sorted(
        {vm["data_exchange_status_code"] for vm in result["vms"] if vm["state"] == "running"}, key=str))
    assert result["host"]["hyperv_installed"] is True


def _vm_resources(host):
    """What the VM resources of the cluster look like: how PrivateProperties came on the wire, whether they name their
    VM by VmID, and whether those that run here are named after their VM."""
    raw = host._wsman.enumerate(resource_uri("root/MSCluster", "*"),
                                wql="SELECT Name, PrivateProperties FROM MSCluster_Resource WHERE Type = 'Virtual Machine'")
    forms = {}
    for item in raw:
        for element in (element for element in item.iter() if local_name(element.tag) == "PrivateProperties"):
            form = "element %s" % local_name(element[0].tag) if len(element) else "CIM-XML text" if (element.text or "").lstrip().startswith("<") else "empty"
            forms[form] = forms.get(form, 0) + 1
    rows = host.query(_hyperv.CLUSTER_RESOURCE, "Type = 'Virtual Machine'")
    _name, vms = _hyperv.read_vms(host)
    local = {vm["id"]: vm["name"] for vm in vms}
    with_id = [row for row in rows if _hyperv._resource_vm_id(row)]
    here = [row for row in with_id if _hyperv._resource_vm_id(row) in local]
    named = [row for row in here if (row["OwnerGroup"] or "").casefold() == local[_hyperv._resource_vm_id(row)].casefold()]
    return "%d resources; PrivateProperties as %s; VmID in %d of them; %d run here, %d of those with a role named after their VM" % (
        len(rows), ", ".join("%s x%d" % item for item in sorted(forms.items())) or "nothing", len(with_id), len(here), len(named))


def test_cluster_nodes(host, shown, cluster_node_addresses):
    result = _hyperv.host_info_task(host, params_for(_hyperv.HOST_INFO_SPEC, cluster_node_addresses=cluster_node_addresses), False, False)
    cluster = result["cluster"]
    if cluster is None:
        shown("point 6 (failover cluster)", "not a cluster node (no root/MSCluster, or no MSCluster_Node rows)")
        return
    if not cluster["checked"]:
        shown("point 6 (failover cluster)", "not checked: %s" % cluster["error"])
        return
    shown("point 6 (failover cluster)", "; ".join("%s %s checked=%s activated=%s%s" % (
        node["name"], node["state"], node["checked"], node["activated"], " (%s)" % node["error"] if node["error"] else "")
        for node in cluster["nodes"]))
    shown("point 6 (VM resources)", _vm_resources(host))
    assert any(node["checked"] for node in cluster["nodes"])


def test_the_fault_for_a_method_that_does_not_exist(host, shown):
    """Read-only: Invoke of a made-up method name on the management service, which cannot change anything."""
    service = _hyperv.management_service(host)
    try:
        answer = host.invoke(_hyperv.MANAGEMENT_SERVICE, NO_SUCH_METHOD, {}, selectors=service)
    except WsmanFaultError as error:
        shown("fault for a method that does not exist", "%s; taken for a missing method: %s" % (error.message, _hyperv.method_missing(error)))
        assert _hyperv.method_missing(error), "the collection would not recognise this as a missing method"
        return
    except CimMethodError as error:
        shown("fault for a method that does not exist", "answered ReturnValue %d (%s)" % (error.return_value, error.meaning))
        raise
    raise AssertionError("the host answered a method that does not exist: %r" % (answer,))


def _raw_item_forms(host):
    """How GuestIntrinsicExchangeItems come on the wire: escaped text (or CDATA: the same once parsed) or nested."""
    forms = set()
    items = host._wsman.enumerate(resource_uri(_hyperv.V2, "*"), wql="SELECT SystemName, GuestIntrinsicExchangeItems FROM Msvm_KvpExchangeComponent")
    for item in items:
        for element in item.iter():
            if local_name(element.tag) == "GuestIntrinsicExchangeItems":
                if len(element):
                    forms.add("nested elements")
                elif (element.text or "").lstrip().startswith("<"):
                    forms.add("escaped text or CDATA")
    return forms


def test_kvp_of_every_vm(host, shown):
    result = _hyperv.kvp_info_task(host, params_for(_hyperv.KVP_INFO_SPEC), False, False)
    shown("unconfirmed 5 (item wire form)", ", ".join(sorted(_raw_item_forms(host))) or "no running VM with intrinsic items")
    intrinsic_names = sorted({name for vm in result["vms"] for name in vm["intrinsic_items"]})
    shown("point 8 (OSVendor, OSSignature)", "intrinsic item names: %s" % ", ".join(intrinsic_names))
    guest_names = sorted({name for vm in result["vms"] for name in vm["guest_items"]})
    shown("unconfirmed 4 (items AVMA publishes)", "guest item names seen: %s" % ", ".join(guest_names))
    host_only = [len(value) for vm in result["vms"] for value in vm["host_only_items"].values()]
    shown("point 8 (HostOnlyItems size)", "longest host-only value: %s characters" % (max(host_only) if host_only else "none"))
    assert result["vms"] is not None
    assert all(issue["code"] != "undecodable" for vm in result["vms"] for issue in vm["issues"])


def test_guest_activation_facts(guest, shown):
    facts = _guest_licensing.activation_facts_task(guest, {}, False, False)["ansible_facts"]["avma"]
    product = facts["windows_product"] or {}
    shown("unconfirmed 2 (ProductKeyChannel)", "%r with Description %r" % (product.get("channel"), product.get("description")))
    shown("point 8 (DigitalPid2)", repr(product.get("avma_host_digital_pid2")))
    assert facts["os"]["build"]


def _event_report(cim, event_id, shown, who):
    rows = cim.query(_events.NT_LOG_EVENT, _events.events_query((event_id,)), limit=50)
    numbers = [row["RecordNumber"] for row in rows]
    order = "oldest first" if numbers == sorted(numbers) else "newest first" if numbers == sorted(numbers, reverse=True) else "neither"
    shown("point 7 (%s row order)" % who, "%d rows, %s: %s" % (len(numbers), order, numbers[:10]))
    for row in rows[:3]:
        record = _events.event_record(row)
        shown("unconfirmed 3 (%d on the %s)" % (event_id, who), "provider %r, strings %r, message %r, outcome %r" % (
            record["provider"], record["insertion_strings"], record["message"], record["outcome"]))


def test_host_avma_events(host, shown):
    _event_report(host, _events.HOST_EVENT_ID, shown, "host")


def test_guest_avma_events(guest, shown):
    _event_report(guest, _events.GUEST_EVENT_ID, shown, "guest")


def _schema_properties(answer):
    """``{name lower-cased: (name, TYPE, is array, embedded class or None)}`` of a CIM-XML CLASS answer, whether the
    CLASS comes as an element or as escaped text."""
    cls = next((element for element in answer.iter() if local_name(element.tag) == "CLASS"), None)
    if cls is None:
        text = "".join(answer.itertext()).strip()
        cls = parse_xml(text) if text.startswith("<") else None
    if cls is None:
        raise AssertionError("the schema answer holds no CLASS")
    properties = {}
    for prop in cls:
        kind = local_name(prop.tag)
        if kind not in ("PROPERTY", "PROPERTY.ARRAY", "PROPERTY.REFERENCE"):
            continue
        embedded = next((value.text for qualifier in prop if local_name(qualifier.tag) == "QUALIFIER"
                         and (qualifier.get("NAME") or "").lower() in ("embeddedinstance", "embeddedobject") for value in qualifier),
                        prop.get("EmbeddedObject"))
        cim_type = "reference" if kind == "PROPERTY.REFERENCE" else (prop.get("TYPE") or "").lower()
        properties[(prop.get("NAME") or "").lower()] = (prop.get("NAME"), cim_type, kind == "PROPERTY.ARRAY", embedded)
    return properties


def test_class_schemas_match_the_code(host, shown):
    """Get of every class's definition on the schema resource, compared with what the code assumes: each property
    the code reads exists, its array-ness is the code's, and its type is the code's (an embedded instance is a
    string with an EmbeddedInstance qualifier)."""
    problems = []
    try:
        cluster_node = _hyperv._cluster_rows(host, _hyperv.CLUSTER_NODE) is not None
    except _hyperv.ClusterNotCheckedError:
        cluster_node = False  # reported by test_cluster_nodes
    for cls in classes_used():
        if cls.namespace.lower().startswith("root/mscluster") and not cluster_node:
            continue  # only cluster nodes have these classes, and only an account with read access to the cluster reads them
        try:
            answer = host._wsman.get(CIM_XML_SCHEMA_URI, {"__cimnamespace": cls.namespace, "ClassName": cls.name}, options=SCHEMA_OPTIONS)
        except Exception as error:  # noqa: BLE001  (report every class, then fail)
            problems.append("%s: no schema (%s)" % (cls.name, error))
            continue
        schema = _schema_properties(answer)
        for prop in cls.properties:
            found = schema.get(prop.name.lower())
            if found is None:
                problems.append("%s.%s: not in the schema" % (cls.name, prop.name))
                continue
            _name, cim_type, is_array, embedded = found
            # an embedded instance is a string with a qualifier; an embedded object (a property typed by a class, such as
            # PrivateProperties) may also come as TYPE "object"
            expected_types = ("string", "object") if prop.type == "instance" else (prop.type,)
            if cim_type not in expected_types or is_array != prop.array or (prop.type == "instance" and not embedded):
                problems.append("%s.%s: schema says %s%s%s, code assumes %s%s" % (
                    cls.name, prop.name, cim_type, "[]" if is_array else "", " (EmbeddedInstance %s)" % embedded if embedded else "",
                    prop.type, "[]" if prop.array else ""))
    shown("class schemas", "%d classes compared; %s" % (len(classes_used()), "; ".join(problems) or "all as the code assumes"))
    assert problems == []


# -- changing (HYPERV_AVMA_LIVE_WRITE=1, a disposable VM) -----------------------------------------------------------


def _wait(condition, what):
    deadline = time.monotonic() + EXCHANGE_WAIT_SEC
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    raise AssertionError("%s did not happen within %d s" % (what, EXCHANGE_WAIT_SEC))


def _guest_value(guest, key, name):
    """The guest's registry value ``name`` under the KVP key, or None when the key does not list it."""
    if name.lower() not in {listed.lower() for listed, _kind in enum_values(guest, KVP_KEYS[key], hive=HKLM)}:
        return None
    return get_string_value(guest, KVP_KEYS[key], name, hive=HKLM)


def _host_guest_items(host, vm):
    return _hyperv.kvp_info_task(host, params_for(_hyperv.KVP_INFO_SPEC, vms=[vm]), False, False)["vms"][0]["guest_items"]


def _disposable(host, name):
    _host_name, vms = _hyperv.read_vms(host)
    return next(vm for vm in vms if vm["name"] == name)


def _raw_host_item(host, vm_id, name):
    """How the host shows the host-pushed item ``name`` of VM ``vm_id`` on the wire (form and text, bounded)."""
    items = host._wsman.enumerate(resource_uri(_hyperv.V2, "*"), wql="SELECT InstanceID, HostExchangeItems FROM %s WHERE InstanceID LIKE '%%%s%%'"
                                  % (_hyperv.KVP_SETTING.name, vm_id))
    for item in items:
        for element in (element for element in item.iter() if local_name(element.tag) == "HostExchangeItems"):
            if len(element):
                form, text = "nested elements", "".join(ElementTree.tostring(child, encoding="unicode") for child in element)
            else:
                form, text = "text", element.text or ""
            if name in text:
                return "%s: %s" % (form, " ".join(text.split())[:300])
    return "not shown by the host"


@pytest.mark.live_write
def test_a_host_item_with_markup_reaches_the_guest_changes_and_goes_again(host, guest, disposable_vm, shown):
    """Every KVP method: AddKvpItems, ModifyKvpItems, RemoveKvpItems, each item value holding markup."""
    value, changed = "R&D <live> ?a=1&b=2", "R&D <changed> \"quoted\" 'single'"
    params = params_for(_hyperv.KVP_ITEM_SPEC, vms=[disposable_vm], items={LIVE_ITEM: value}, job_poll_interval=0.5)
    result = _hyperv.kvp_item_task(host, params, False, False)
    assert "failed" not in result, result.get("msg")
    assert [change["action"] for change in result["changes"]] == ["add"]
    _wait(lambda: _guest_value(guest, "external", LIVE_ITEM) == value, "the item reaching the guest's External key")
    shown("point 2 (numeric character references)", "a host item holding & and < was accepted and reached the guest")
    modified = _hyperv.kvp_item_task(host, dict(params, items={LIVE_ITEM: changed}), False, False)
    assert "failed" not in modified and [change["action"] for change in modified["changes"]] == ["modify"], modified
    _wait(lambda: _guest_value(guest, "external", LIVE_ITEM) == changed, "the changed item reaching the guest's External key")
    shown("unconfirmed 6 (DataItems wire form)", "AddKvpItems and ModifyKvpItems took DataItems as one element per escaped "
          "embedded instance; the host shows the item as %s" % _raw_host_item(host, _disposable(host, disposable_vm)["id"], LIVE_ITEM))
    removed = _hyperv.kvp_item_task(host, dict(params, state="absent", items=None, names=[LIVE_ITEM]), False, False)
    assert "failed" not in removed and [change["action"] for change in removed["changes"]] == ["remove"], removed.get("msg")
    _wait(lambda: _guest_value(guest, "external", LIVE_ITEM) is None, "the item leaving the guest's External key")
    shown("unconfirmed 6 (RemoveKvpItems)", "RemoveKvpItems took the same DataItems form and the item left the guest")


def _kvp_call(host, vm, method, name, data=""):
    """One KVP method with one item, sent as the collection sends it but without its checks; waits for the job.
    Returns the job's final state, or raises CimMethodError / CimJobFailedError."""
    params = {"TargetSystem": _hyperv.vm_reference(vm["id"]), "DataItems": [_hyperv._data_item(name, data)]}
    answer = host.invoke(_hyperv.MANAGEMENT_SERVICE, method, params, selectors=_hyperv.management_service(host))
    return host.wait_for_job(answer.job, timeout=120, poll_interval=0.5) if answer.job is not None else {"JobState": None}


def _how_answered(call):
    try:
        state = call()
    except CimMethodError as error:
        return "ReturnValue %d (%s) at once" % (error.return_value, error.meaning), False
    except CimJobFailedError as error:
        return "a job that ended in %s (error code %s: %s)" % (error.job_state, error.error_code, error.error_description), False
    return ("accepted: a job that ended in %s" % state["JobState"]) if state["JobState"] is not None else "accepted: ReturnValue 0", True


@pytest.mark.live_write
def test_an_add_of_an_existing_name_and_a_key_longer_than_the_vmbus_carries(host, guest, disposable_vm, shown):
    vm = _disposable(host, disposable_vm)
    _kvp_call(host, vm, "AddKvpItems", LIVE_DUPLICATE, "first")
    try:
        answer, _accepted = _how_answered(lambda: _kvp_call(host, vm, "AddKvpItems", LIVE_DUPLICATE, "second"))
        shown("point 8 (Add of an existing name)", answer)
    finally:
        _kvp_call(host, vm, "RemoveKvpItems", LIVE_DUPLICATE)
    size = _kvp.utf16_key_bytes(LIVE_LONG_KEY)
    answer, accepted = _how_answered(lambda: _kvp_call(host, vm, "AddKvpItems", LIVE_LONG_KEY, "long"))
    if accepted:
        try:
            deadline = time.monotonic() + EXCHANGE_WAIT_SEC
            received = None
            while received is None and time.monotonic() < deadline:
                received = next((name for name, _kind in enum_values(guest, KVP_KEYS["external"], hive=HKLM)
                                 if name.startswith(LIVE_LONG_KEY[:23])), None)
                time.sleep(1)
            answer += "; the guest received %s" % ("a name of %d characters" % len(received) if received else "nothing within %d s" % EXCHANGE_WAIT_SEC)
        finally:
            _kvp_call(host, vm, "RemoveKvpItems", LIVE_LONG_KEY)
    shown("point 8 (VMBus key size)", "a name of %d characters (%d bytes as a VMBus key): %s" % (len(LIVE_LONG_KEY), size, answer))


@pytest.mark.live_write
def test_a_guest_item_reaches_the_host_and_goes_again(host, guest, disposable_vm):
    params = params_for(_hyperv.KVP_ITEM_SPEC, scope="guest", items={LIVE_ITEM: "from the guest"})
    assert "failed" not in _hyperv.kvp_item_task(guest, params, False, False)
    _wait(lambda: _host_guest_items(host, disposable_vm).get(LIVE_ITEM) == "from the guest", "the guest item reaching the host")
    assert "failed" not in _hyperv.kvp_item_task(guest, dict(params, state="absent", items=None, names=[LIVE_ITEM]), False, False)
    _wait(lambda: LIVE_ITEM not in _host_guest_items(host, disposable_vm), "the guest item leaving the host")


@pytest.mark.live_write
def test_data_exchange_off_and_on(host, disposable_vm, shown):
    _name, vms = _hyperv.read_vms(host)
    vm = next(vm for vm in vms if vm["name"] == disposable_vm)
    setting = _hyperv.read_settings(host, with_items=False)[vm["id"]]
    service = _hyperv.management_service(host)
    options = dict(job_timeout=120, job_poll_interval=0.5)
    try:
        methods = _hyperv.set_data_exchange(host, service, vm, setting, False, options)
        shown("point 3 / unconfirmed 8 (Data Exchange switch)", "the host took %s" % methods[0][0])
        assert _hyperv.read_settings(host, with_items=False)[vm["id"]]["EnabledState"] == 3
    finally:
        _hyperv.set_data_exchange(host, service, vm, setting, True, options)
    assert _hyperv.read_settings(host, with_items=False)[vm["id"]]["EnabledState"] == 2


@pytest.mark.live_write
def test_install_the_avma_key_activate_replace_it_and_the_stale_data_goes(guest, host, disposable_vm, replacement_key, shown):
    params = params_for(_guest_licensing.PRODUCT_KEY_SPEC, publish_kvp=True)
    installed = _guest_licensing.product_key_task(guest, params, False, False)
    release, edition = installed["os"].get("release"), installed["os"].get("edition_id")
    table_key = _avma.avma_key_for(release, edition)
    outcome = "%s guest with the table's key ...%s: %s" % (release, table_key[-5:], installed["after"]["license_status"])
    shown("unconfirmed 1 (2025 keys)", outcome + ("; this settles the 2025 row for %s" % edition if release == "2025"
                                                  else "; not a 2025 guest, so the 2025 row stays unconfirmed"))
    assert installed["after"]["is_avma"] and installed["after"]["license_status"] == "Licensed", installed
    shown("AVMA activation", "after: %s" % installed["after"])
    if not replacement_key:
        pytest.skip("HYPERV_AVMA_LIVE_REPLACEMENT_KEY not set: the key is not replaced")
    try:
        replaced = _guest_licensing.product_key_task(guest, dict(params, key=replacement_key, publish_kvp=False), False, False)
        assert replaced["after"]["is_avma"] is False
        _wait(lambda: not any(name.startswith("HyperVAvma.") for name in _host_guest_items(host, disposable_vm)),
              "the stale AVMA items leaving the host's view")
    finally:
        _guest_licensing.product_key_task(guest, params, False, False)
