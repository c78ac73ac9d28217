# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Invoke: method dispatch, typed parameters, _OUTPUT rendering, method failures as HTTP 200, and the faults."""

from hvlab.method_table import default_method_table
from hvlab.methods import MethodResult, method

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import (
    NS, WMI, call, fault_summary, find, fixture, invoke_request, local, make_service, parse, text)

SERVICE_URI = WMI + "SoftwareLicensingService"
PRODUCT_URI = WMI + "SoftwareLicensingProduct"
VERSION = {"Version": "10.0.20348.1"}


def test_refresh_license_status_returns_zero_and_writes_nothing():
    service = make_service()
    reply, root = call(service, "g2022dc", invoke_request("SoftwareLicensingService", "RefreshLicenseStatus", selectors=VERSION))
    assert reply.status == 200 and not reply.wrote
    assert text(root, "s:Header/a:Action") == SERVICE_URI + "/RefreshLicenseStatusResponse"
    output = find(root, "s:Body/{%s}RefreshLicenseStatus_OUTPUT" % SERVICE_URI)
    assert [local(child.tag) for child in output] == ["ReturnValue"]
    assert output.find("{%s}ReturnValue" % SERVICE_URI).text == "0"
    stats = service.stats()["machines"]["g2022dc"]
    assert stats["requests"] == {"Invoke": 1, "Invoke:SoftwareLicensingService.RefreshLicenseStatus": 1}
    assert stats["writes"] == {} and stats["total_writes"] == 0


def test_output_has_the_shape_of_a_real_method_output():
    """Like the iDRAC capture: <p:Method_OUTPUT> in the class namespace, out parameters as direct children."""
    real = parse(fixture("invoke_response_error_returnvalue2_dell_idrac_dracclient.xml"))
    real_output = find(real, "s:Body")[0]
    _reply, root = call(make_service(), "g2022dc", invoke_request("SoftwareLicensingService", "RefreshLicenseStatus",
                                                                  selectors=VERSION))
    output = find(root, "s:Body")[0]
    assert local(output.tag).endswith("_OUTPUT") and local(real_output.tag).endswith("_OUTPUT")
    assert output.tag.startswith("{%s}" % SERVICE_URI)
    assert "ReturnValue" in [local(child.tag) for child in real_output]


def test_spec_example_request_retargeted_to_a_lab_method():
    """The MS-WSMV 4.1.4 Invoke request, pointed at SoftwareLicensingService.RefreshLicenseStatus."""
    data = fixture("spec_ms-wsmv_4.1.4_invoke_win32_process_create_request.xml")
    data = data.replace(b"root/cimv2/Win32_Process/Create", b"root/cimv2/SoftwareLicensingService/RefreshLicenseStatus")
    data = data.replace(b"root/cimv2/Win32_Process", b"root/cimv2/SoftwareLicensingService")
    data = data.replace(b"</s:Header>", b'<w:SelectorSet><w:Selector Name="Version">10.0.20348.1</w:Selector></w:SelectorSet></s:Header>')
    service = make_service()
    reply, root = call(service, "g2022dc", data)
    # The spec body still carries Create's parameters: WMI refuses parameters the method does not take.
    assert reply.status == 500
    assert fault_summary(root)[1:] == ("w:InvalidParameter", [2150858810], 0x8004102F)
    start, end = data.rindex(b"<p:Create_INPUT "), data.rindex(b"</p:Create_INPUT>") + len(b"</p:Create_INPUT>")
    data = data[:start] + b'<p:RefreshLicenseStatus_INPUT xmlns:p="%s"/>' % SERVICE_URI.encode() + data[end:]
    reply, root = call(service, "g2022dc", data)
    assert reply.status == 200
    assert text(root, "s:Header/a:RelatesTo") == "uuid:9A989269-283B-4624-BAC5-BC291F72E854"


def test_spec_example_for_a_class_the_lab_does_not_have():
    reply, root = call(make_service(), "g2022dc", fixture("spec_ms-wsmv_4.1.4_invoke_win32_process_create_request.xml"))
    assert reply.status == 500 and fault_summary(root)[2:] == ([2150858752], 0x80041010)


def test_instance_method_without_keys_is_the_singleton_fault():
    reply, root = call(make_service(), "g2022dc", invoke_request("SoftwareLicensingService", "RefreshLicenseStatus"))
    assert reply.status == 500 and fault_summary(root)[2] == [2150859002]


def test_instance_method_on_a_missing_instance():
    reply, root = call(make_service(), "g2022dc", invoke_request("SoftwareLicensingService", "RefreshLicenseStatus",
                                                                 selectors={"Version": "1.2.3"}))
    assert reply.status == 500 and fault_summary(root)[2] == [2150858752]


def test_unknown_method_is_refused_with_invalid_method():
    reply, root = call(make_service(), "g2022dc", invoke_request("SoftwareLicensingService", "NoSuchMethod", selectors=VERSION))
    assert reply.status == 500
    assert fault_summary(root) == ("s:Sender", "a:ActionNotSupported", [2150858753], 0x8004102E)


def test_method_names_are_case_insensitive():
    reply, root = call(make_service(), "g2022dc", invoke_request("SoftwareLicensingService", "refreshlicensestatus",
                                                                 selectors=VERSION))
    assert reply.status == 200
    assert find(root, "s:Body/{%s}RefreshLicenseStatus_OUTPUT" % SERVICE_URI) is not None


def probe_service():
    """The foundation service with two test methods registered in its own table."""
    seen = []

    def probe(call_):
        seen.append(call_)
        names = call_.params["Names"]
        return MethodResult(0 if call_.params["Value"] else 2,
                            out={"Doubled": (call_.params["Value"] or 0) * 2, "Names": names, "Seen": call_.instance["ID"]},
                            wrote=bool(call_.params["Flag"]))

    def static_probe(call_):
        seen.append(call_)
        return MethodResult(0, out={"When": call_.params["When"]})

    table = default_method_table()
    table.register(method("root/cimv2", "SoftwareLicensingProduct", "Probe", probe,
                          params="Value:uint32 Names:string[] Flag:boolean", out="Doubled:uint32 Names:string[] Seen:string"))
    table.register(method("root/cimv2", "SoftwareLicensingService", "StaticProbe", static_probe, static=True,
                          params="When:datetime", out="When:datetime"))
    return make_service(methods=table), seen


def first_product_id(service, machine="g2022dc"):
    fleet_machine = service.fleet.machines[machine]
    cls = fleet_machine.registry.lookup("root/cimv2", "SoftwareLicensingProduct")
    return fleet_machine.store.instances(cls)[0]["ID"]


def test_typed_parameters_arrays_and_sorted_output():
    service, seen = probe_service()
    row_id = first_product_id(service)
    params = "<p:Value>21</p:Value><p:Names>a</p:Names><p:Names>b</p:Names><p:Flag>false</p:Flag>"
    reply, root = call(service, "g2022dc", invoke_request("SoftwareLicensingProduct", "Probe", params, {"ID": row_id}))
    assert reply.status == 200 and not reply.wrote
    assert seen[0].params == {"Value": 21, "Names": ["a", "b"], "Flag": False}
    assert seen[0].instance["ID"] == row_id and seen[0].user == "Administrator"
    output = find(root, "s:Body/{%s}Probe_OUTPUT" % PRODUCT_URI)
    assert [(local(child.tag), child.text) for child in output] == [
        ("Doubled", "42"), ("Names", "a"), ("Names", "b"), ("ReturnValue", "0"), ("Seen", row_id)]


def test_method_failure_is_http_200_with_a_non_zero_return_value():
    service, _seen = probe_service()
    params = '<p:Value xsi:nil="true" xmlns:xsi="%s"/>' % NS["xsi"]
    reply, root = call(service, "g2022dc", invoke_request("SoftwareLicensingProduct", "Probe", params,
                                                          {"ID": first_product_id(service)}))
    assert reply.status == 200
    output = find(root, "s:Body/{%s}Probe_OUTPUT" % PRODUCT_URI)
    assert output.find("{%s}ReturnValue" % PRODUCT_URI).text == "2"
    names = output.find("{%s}Names" % PRODUCT_URI)
    assert names.get("{%s}nil" % NS["xsi"]) == "true"


def test_a_writing_method_is_counted_and_flagged():
    service, _seen = probe_service()
    body = invoke_request("SoftwareLicensingProduct", "Probe", "<p:Value>1</p:Value><p:Flag>true</p:Flag>",
                          {"ID": first_product_id(service)})
    reply, _root = call(service, "g2022dc", body)
    assert reply.wrote
    stats = service.stats()
    assert stats["machines"]["g2022dc"]["writes"] == {"Invoke": 1, "Invoke:SoftwareLicensingProduct.Probe": 1}
    assert stats["total_writes"] == 1 and stats["total_requests"] == 1


def test_static_method_needs_no_selectors():
    service, seen = probe_service()
    reply, root = call(service, "g2022dc", invoke_request("SoftwareLicensingService", "StaticProbe",
                                                          "<p:When>20261120083000.000000+060</p:When>"))
    assert reply.status == 200 and seen[0].instance is None
    assert seen[0].params["When"] == "2026-11-20T08:30:00+01:00"
    output = find(root, "s:Body/{%s}StaticProbe_OUTPUT" % SERVICE_URI)
    assert output.find("{%s}When/{%s}Datetime" % (SERVICE_URI, NS["cim"])).text == "2026-11-20T08:30:00+01:00"


def test_bad_parameters_are_refused():
    service, seen = probe_service()
    row = {"ID": first_product_id(service)}
    for params in ("<p:Value>many</p:Value>", "<p:Value>-1</p:Value>", "<p:Unknown>1</p:Unknown>", "<p:Flag>maybe</p:Flag>"):
        reply, root = call(service, "g2022dc", invoke_request("SoftwareLicensingProduct", "Probe", params, row))
        assert reply.status == 500 and fault_summary(root)[1:3] == ("w:InvalidParameter", [2150858810]), params
    assert seen == []


def test_wrong_input_element_is_refused():
    service, seen = probe_service()
    body = invoke_request("SoftwareLicensingProduct", "Probe", "", {"ID": first_product_id(service)}).replace(
        b"Probe_INPUT", b"Other_INPUT")
    reply, _root = call(service, "g2022dc", body)
    assert reply.status == 500 and seen == []
