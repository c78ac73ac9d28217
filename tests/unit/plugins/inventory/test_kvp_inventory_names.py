# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The data side of the hyperv.avma.kvp inventory: host entries, host variables, AVMA status items and host names."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._avma import AVMA_KVP_PREFIX, status_items
from ansible_collections.hyperv.avma.plugins.plugin_utils._inventory_kvp import (
    PLUGIN_WINRM_OPTIONS,
    assign_hostnames,
    avma_status,
    dns_name,
    guest_hostvars,
    host_entries,
    hostname_candidates,
    kvp_address,
    safe_host_name,
)

NO_OPTIONS = dict.fromkeys(PLUGIN_WINRM_OPTIONS)


def vm_record(name="web01", vm_id="B2D9C3E4-1F5A-4C6B-8D7E-9F0A1B2C3D4E", fqdn="web01.corp.example", guest_items=None, ipv4=(), ipv6=()):
    """One entry of _hyperv.read_host_kvp's vms."""
    return dict(
        name=name, id=vm_id, state="running", state_code=2,
        data_exchange=dict(enabled=True, status="OK", status_code=2, operational_status=[2]),
        intrinsic_items={"FullyQualifiedDomainName": fqdn} if fqdn else {},
        guest_items=dict(guest_items or {}), host_items={"Owner": "ops"}, host_only_items={},
        intrinsic_facts=dict(fqdn=fqdn, os_name=None, os_version=None, os_build=None, os_release=None, os_edition_sku=None, os_edition_id=None,
                             ipv4_addresses=list(ipv4), ipv6_addresses=list(ipv6), rdp_ipv4_addresses=[], rdp_ipv6_addresses=[],
                             integration_services_version=None),
        issues=[],
    )


# -- host entries ------------------------------------------------------------------------------------------------------


def test_host_entries_merge_entry_options_over_plugin_options():
    plugin = dict(NO_OPTIONS, winrm_user="Administrator", winrm_password="plugin-pw", winrm_scheme="http")
    entries = host_entries(["hv01", dict(name="hv02", winrm_host="127.0.50.2", winrm_scheme="https", winrm_password="host-pw")], plugin)
    assert [entry.name for entry in entries] == ["hv01", "hv02"]
    assert entries[0].options == dict(host="hv01", user="Administrator", password="plugin-pw", scheme="http")
    assert entries[1].options == dict(host="127.0.50.2", user="Administrator", password="host-pw", scheme="https")
    assert "host-pw" in entries[1].secrets


@pytest.mark.parametrize("entries, message", [
    ([], "lists no Hyper-V host"),
    ([42], "hyperv_hosts[0] must be a host name or a mapping"),
    ([dict(winrm_host="127.0.50.1")], "hyperv_hosts[0]: missing required arguments: name"),
    (["hv01", dict(name="HV01")], "hyperv_hosts[1]: HV01 is listed more than once"),
    ([dict(name="hv01", winrm_prot=5986)], "hyperv_hosts[0]: unknown option winrm_prot. Supported parameters include: name, winrm_allow_basic_over_http"),
    ([dict(name="hv01", winrm_port="https", winrm_password="S3cret-Value")], "hyperv_hosts[0]: argument 'winrm_port' is of type"),
])
def test_host_entries_refuse_mistakes_and_name_the_entry(entries, message):
    with pytest.raises(ValueError) as error:
        host_entries(entries, NO_OPTIONS)
    assert message in str(error.value)
    assert "S3cret-Value" not in str(error.value)


# -- host variables ----------------------------------------------------------------------------------------------------


def test_avma_status_reads_the_published_items():
    published = {AVMA_KVP_PREFIX + "Release": "2022", "hypervavma.licensestatus": "Licensed", AVMA_KVP_PREFIX + "Channel": "AVMA",
                 AVMA_KVP_PREFIX + "LicenseStatusReason": "0x00000000", AVMA_KVP_PREFIX + "HostMachineName": "", "Role": "web"}
    status = avma_status(published)
    assert status == dict(published=True, activated=True, release="2022", edition=None, partial_product_key=None, channel="AVMA",
                          license_status="Licensed", license_status_reason="0x00000000", host_machine_name=None, last_activation_time=None)


def test_avma_status_knows_every_item_the_collection_publishes():
    items = status_items({"os": {"release": "2022", "edition_id": "ServerDatacenter"},
                          "windows_product": {"partial_product_key": "DV9BG", "is_avma_key": True, "license_status_name": "Notification",
                                              "license_status_reason": {"hex": "0xC004FD04"}}})
    status = avma_status(items)
    assert status["published"] is True and status["activated"] is False
    assert (status["edition"], status["partial_product_key"], status["license_status"], status["license_status_reason"]) == (
        "ServerDatacenter", "DV9BG", "Notification", "0xC004FD04")


def test_avma_status_without_items():
    status = avma_status({"Role": "web"})
    assert status["published"] is False and status["activated"] is None and status["license_status"] is None


def test_guest_hostvars_layout():
    hostvars = guest_hostvars("hv01", vm_record(guest_items={"Role": "web"}))
    assert set(hostvars) == {"hyperv_host", "hyperv_vm", "kvp", "avma_published", "kvp_issues"}
    assert hostvars["hyperv_host"] == "hv01"
    assert hostvars["hyperv_vm"]["name"] == "web01" and hostvars["hyperv_vm"]["data_exchange"]["status"] == "OK"
    assert hostvars["kvp"]["fqdn"] == "web01.corp.example"
    assert hostvars["kvp"]["guest_items"] == {"Role": "web"} and hostvars["kvp"]["host_items"] == {"Owner": "ops"}


@pytest.mark.parametrize("ipv4, ipv6, expected", [
    (["10.0.0.5", "10.0.0.6"], ["2001:db8::5"], "10.0.0.5"),
    ([], ["fe80::1", "2001:db8::5"], "2001:db8::5"),
    (["0.0.0.0", "224.0.0.1"], ["fe80::1"], None),
    ([], [], None),
])
def test_kvp_address(ipv4, ipv6, expected):
    assert kvp_address(guest_hostvars("hv01", vm_record(ipv4=ipv4, ipv6=ipv6))) == expected


# -- host names ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("WEB01.Corp.Example.", "web01.corp.example"),
    ("web_01-a", "web_01-a"),
    ("{{ lookup('pipe', 'id') }}.corp", None),
    ("web 01.corp", None),
    ("-web.corp", None),
    ("a..b", None),
    ("a" * 64 + ".corp", None),
    ("", None),
    (None, None),
])
def test_dns_name(text, expected):
    assert dns_name(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Web Server (01)", "Web_Server__01_"),
    ("{{ lookup('pipe','id') }}", "___lookup__pipe___id_____"),
    ("--limit", "limit"),
    ("...", None),
    ("  ", None),
])
def test_safe_host_name_leaves_no_template_syntax(text, expected):
    assert safe_host_name(text) == expected


def test_candidates_fall_back_from_an_invalid_fqdn_to_the_vm_name_and_id():
    hostvars = guest_hostvars("hv01", vm_record(name="web 01", fqdn="{{ evil }}"))
    candidates, issues = hostname_candidates("fqdn", hostvars)
    assert candidates == ["web_01", "B2D9C3E4-1F5A-4C6B-8D7E-9F0A1B2C3D4E"]
    assert [issue["code"] for issue in issues] == ["invalid_fqdn"]


def test_candidates_of_a_vm_without_kvp_data_need_no_issue():
    candidates, issues = hostname_candidates("fqdn", guest_hostvars("hv01", vm_record(fqdn=None)))
    assert candidates == ["web01", "B2D9C3E4-1F5A-4C6B-8D7E-9F0A1B2C3D4E"] and issues == []


def test_template_candidate_is_made_safe():
    candidates, issues = hostname_candidates("template", guest_hostvars("hv01", vm_record()), "{{ x }}.hv01")
    assert candidates[0] == "___x___.hv01" and issues == []
    candidates, issues = hostname_candidates("template", guest_hostvars("hv01", vm_record()), "")
    assert candidates[0] == "web01" and [issue["code"] for issue in issues] == ["empty_hostname_template"]


def test_a_claimed_name_goes_to_no_claimant():
    names, passed_over = assign_hostnames([["web01.corp", "web01", "ID-1"], ["WEB01.corp", "spoof", "ID-2"], ["db01.corp", "db01", "ID-3"]])
    assert names == ["web01", "spoof", "db01.corp"]
    assert passed_over == [[("web01.corp", "claimed by 2 guests")], [("WEB01.corp", "claimed by 2 guests")], []]


def test_names_fall_back_until_unique():
    names, _passed_over = assign_hostnames([["a.corp", "same", "ID-1"], ["a.corp", "same", "ID-2"], ["same", "ID-3"]])
    assert names == ["ID-1", "ID-2", "ID-3"]


def test_hyperv_host_names_are_reserved():
    names, passed_over = assign_hostnames([["hv01.corp.example", "vm1", "ID-1"], ["hv02", "vm2", "ID-2"], ["127.0.50.1", "vm3", "ID-3"],
                                           ["127.web", "vm4", "ID-4"]], reserved=["hv01", "HV02.corp.example", "127.0.50.1", None])
    assert names == ["vm1", "vm2", "vm3", "127.web"]
    assert passed_over[0] == [("hv01.corp.example", "named like the Hyper-V host hv01")]
    assert passed_over[2] == [("127.0.50.1", "the name or address of a Hyper-V host")]
