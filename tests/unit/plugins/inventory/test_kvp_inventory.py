# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The hyperv.avma.kvp inventory plugin, parsing real configuration files into a real InventoryData, with a fake
CimClient per Hyper-V host that answers the three enumerations of _hyperv.read_host_kvp and counts them."""

from __future__ import annotations

import os
import types

import pytest
import yaml
from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.doc_fragments import constructed, inventory_cache

from ansible_collections.hyperv.avma.plugins.inventory import kvp
from ansible_collections.hyperv.avma.plugins.module_utils._cim import EmbeddedInstance
from ansible_collections.hyperv.avma.plugins.module_utils._connection import DEFAULTS, WINRM_ARGUMENT_SPEC, build_settings
from ansible_collections.hyperv.avma.plugins.module_utils._errors import WinrmAuthenticationError, WinrmTransportError
from ansible_collections.hyperv.avma.plugins.plugin_utils._inventory_kvp import PLUGIN_WINRM_OPTIONS, trusted_template

PLUGIN = "hyperv.avma.kvp"
PASSWORD = "Inv-Passw0rd!secret"
HOSTILE = "{{ lookup('pipe', 'id') }}"
WEB_ID = "B2D9C3E4-1F5A-4C6B-8D7E-9F0A1B2C3D4E"
APP_ID = "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"
OFF_ID = "11111111-2222-3333-4444-555555555555"
CORE_ID = "22222222-3333-4444-5555-666666666666"
BAD_ID = "33333333-4444-5555-6666-777777777777"
PUBLISHED = {"HyperVAvma.Release": "2022", "HyperVAvma.Edition": "ServerDatacenter", "HyperVAvma.Channel": "AVMA",
             "HyperVAvma.LicenseStatus": "Licensed", "HyperVAvma.LicenseStatusReason": "0x00000000"}


def plugin_options():
    """The plugin's options as ansible-core's plugin loader defines them: its DOCUMENTATION merged over the two
    ansible.builtin fragments it extends (read directly: the collection loader is not installed in unit tests)."""
    documentation = yaml.safe_load(kvp.DOCUMENTATION)
    assert documentation["extends_documentation_fragment"] == ["ansible.builtin.constructed", "ansible.builtin.inventory_cache"]
    options = documentation["options"]
    for fragment in (constructed.ModuleDocFragment, inventory_cache.ModuleDocFragment):
        for name, option in yaml.safe_load(fragment.DOCUMENTATION)["options"].items():
            options[name] = dict(option, **options.get(name, {}))
    return options


C.config.initialize_plugin_configuration_definitions("inventory", PLUGIN, plugin_options())


def item(name, data, source):
    return EmbeddedInstance("Msvm_KvpExchangeDataItem", {"Data": data, "Name": name, "Source": source},
                            {"Data": "string", "Name": "string", "Source": "uint16"})


class FakeHyperV:
    """Duck type of CimClient for read_host_kvp: a Hyper-V host and its VMs; ``queries`` records each enumeration."""

    def __init__(self, computer_name, error=None):
        self.computer_name = computer_name
        self.error = error
        self.systems = [dict(Name=computer_name, ElementName=computer_name, EnabledState=2)]
        self.components = []
        self.settings = []
        self.queries = []
        self.closed = False

    def add_vm(self, name, vm_id, *, fqdn=None, sku=8, build=20348, address=None, guest=None, running=True):
        self.systems.append(dict(Name=vm_id, ElementName=name, EnabledState=2 if running else 3))
        intrinsic = {"OSEditionId": str(sku), "OSBuildNumber": str(build), "OSVersion": "10.0.%d" % build}
        if fqdn is not None:
            intrinsic["FullyQualifiedDomainName"] = fqdn
        if address is not None:
            intrinsic["NetworkAddressIPv4"] = address
        if running:
            self.components.append(dict(SystemName=vm_id, OperationalStatus=[2],
                                        GuestIntrinsicExchangeItems=[item(key, value, 2) for key, value in intrinsic.items()],
                                        GuestExchangeItems=[item(key, value, 1) for key, value in (guest or {}).items()]))
        self.settings.append(dict(InstanceID="Microsoft:%s\\2A34B1C2-FD73-4043-8A5B-DD2159BC743F" % vm_id, EnabledState=2,
                                  HostExchangeItems=[item("Owner", "ops", 0)], HostOnlyItems=None))
        return self

    def query(self, cim_class, where=None, *, properties=None, limit=None, max_elements=None, shape=None):
        rows = self._rows(cim_class, where, properties=properties, limit=limit, max_elements=max_elements)
        return rows if shape is None else [shape(row) for row in rows]

    def _rows(self, cim_class, where=None, *, properties=None, limit=None, max_elements=None):
        self.queries.append(cim_class.name)
        if self.error is not None:
            raise self.error
        rows = {"Msvm_ComputerSystem": self.systems, "Msvm_KvpExchangeComponent": self.components,
                "Msvm_KvpExchangeComponentSettingData": self.settings}[cim_class.name]
        return [{prop.name: row.get(prop.name) for prop in cim_class.properties} for row in rows]

    def close(self):
        self.closed = True


class RecordingDisplay:
    def __init__(self):
        self.warnings = []

    def warning(self, message, *args, **kwargs):
        self.warnings.append(message)

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def lab():
    """Two Hyper-V hosts, as the fake clients by address."""
    hv01 = FakeHyperV("HV01")
    hv01.add_vm("web01", WEB_ID, fqdn="WEB01.corp.example", address="10.0.0.11", guest=dict(PUBLISHED, Role="web"))
    hv01.add_vm("app01", APP_ID, fqdn="app01.corp.example", sku=7, build=17763, address="10.0.0.12",
                guest={"HyperVAvma.LicenseStatus": "Notification", "HyperVAvma.Channel": "AVMA"})
    hv01.add_vm("Old Batch (2016)", OFF_ID, running=False)
    hv02 = FakeHyperV("HV02")
    hv02.add_vm("core01", CORE_ID, fqdn="core01.corp.example", sku=12, address="10.0.0.21", guest=PUBLISHED)
    hv02.add_vm("bad01", BAD_ID, fqdn=HOSTILE + ".corp", sku=7, address="10.0.0.22",
                guest={"HyperVAvma.LicenseStatus": HOSTILE, HOSTILE: "a template as a name"})
    return {"127.0.50.1": hv01, "127.0.50.2": hv02}


BASE_CONFIG = dict(plugin=PLUGIN, hyperv_hosts=[dict(name="hv01", winrm_host="127.0.50.1"), dict(name="hv02", winrm_host="127.0.50.2")],
                   winrm_user="Administrator", winrm_password=PASSWORD, winrm_scheme="http")


class Run:
    """Parses configurations with fake clients; ``opened`` lists the WinrmSettings of every client opened."""

    def __init__(self, tmp_path, monkeypatch):
        self.tmp_path = tmp_path
        self.clients = lab()
        self.opened = []
        self.display = None
        monkeypatch.setattr(kvp, "open_client", self.open_client)
        for name in list(os.environ):
            if name.startswith("HYPERV_AVMA_WINRM_"):
                monkeypatch.delenv(name)

    def open_client(self, settings):
        self.opened.append(settings)
        return self.clients[settings.host]

    def __call__(self, flush_cache=False, without=(), **config):
        """Parse BASE_CONFIG updated with ``config``, less the options named in ``without``; ``flush_cache`` as with
        ``--flush-cache``."""
        path = self.tmp_path / "hosts.kvp.yml"
        config = {name: value for name, value in dict(BASE_CONFIG, **config).items() if name not in without}
        path.write_text(yaml.safe_dump(config))
        plugin = kvp.InventoryModule()
        plugin._load_name = plugin.ansible_name = PLUGIN
        plugin._redirected_names = [PLUGIN]  # what ansible-core's plugin loader sets
        plugin.display = self.display = RecordingDisplay()
        inventory = InventoryData()
        plugin.parse(inventory, DataLoader(), str(path), cache=not flush_cache)
        try:
            plugin.update_cache_if_changed()  # as ansible-core's InventoryManager does after each source
        except AttributeError:  # no cache configured
            pass
        return types.SimpleNamespace(inventory=inventory, plugin=plugin, warnings=self.display.warnings,
                                     hostvars={name: host.vars for name, host in inventory.hosts.items()},
                                     groups={name: sorted(host.name for host in group.get_hosts()) for name, group in inventory.groups.items()})


@pytest.fixture()
def run(tmp_path, monkeypatch):
    return Run(tmp_path, monkeypatch)


def render(templar, template):
    """``template`` rendered as a playbook's template is: trusted, over the untrusted host variables."""
    return templar.template(trusted_template(template))


def strings(value):
    """Every string in ``value``, keys included."""
    if isinstance(value, dict):
        return [text for key, entry in value.items() for text in strings(key) + strings(entry)]
    if isinstance(value, (list, tuple)):
        return [text for entry in value for text in strings(entry)]
    return [value] if isinstance(value, str) else []


# -- files, options, requests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, accepted", [("fleet.kvp.yml", True), ("fleet.kvp.yaml", True), ("fleet.yml", False), ("kvp.yml", False)])
def test_verify_file_takes_only_kvp_yml(tmp_path, name, accepted):
    path = tmp_path / name
    path.write_text("plugin: %s\n" % PLUGIN)
    assert kvp.InventoryModule().verify_file(str(path)) is accepted


def test_connection_options_are_the_modules_options():
    options = plugin_options()
    assert set(PLUGIN_WINRM_OPTIONS) == {name for name in options if name.startswith("winrm_")}
    effective = build_settings({"host": "hv01", "user": "u", "password": "p"})
    for name in PLUGIN_WINRM_OPTIONS:
        spec = WINRM_ARGUMENT_SPEC[name]
        assert options[name]["type"] == spec["type"], name
        assert options[name].get("choices") == spec.get("choices"), name
        # A documented default is the one that applies; an option without one says what applies when it is not set.
        if "default" in options[name]:
            field = name[len("winrm_"):]
            # allow_basic_over_http is checked when the settings are built, and not kept in them.
            assert options[name]["default"] == getattr(effective, field, DEFAULTS.get(field)), name
        else:
            assert any(line.startswith("When not set") for line in options[name]["description"]), name
    assert options["winrm_password"]["env"] == [{"name": "HYPERV_AVMA_WINRM_PASSWORD"}] and "ini" not in options["winrm_password"]


def test_one_client_and_three_enumerations_per_hyperv_host(run):
    result = run()
    assert [settings.host for settings in run.opened] == ["127.0.50.1", "127.0.50.2"]
    for client in run.clients.values():
        assert client.queries == ["Msvm_ComputerSystem", "Msvm_KvpExchangeComponent", "Msvm_KvpExchangeComponentSettingData"]
        assert client.closed
    assert len(result.hostvars) == 5


def test_entry_options_override_plugin_options_and_the_password_comes_from_the_environment(run, monkeypatch):
    monkeypatch.setenv("HYPERV_AVMA_WINRM_PASSWORD", "from-env")
    hosts = [dict(name="hv01", winrm_host="127.0.50.1"),
             dict(name="hv02", winrm_host="127.0.50.2", winrm_scheme="https", winrm_transport="basic", winrm_password="hv02-only",
                  winrm_ca_trust_path="/lab/ca.pem")]
    run(without=["winrm_password"], hyperv_hosts=hosts)
    hv01, hv02 = run.opened
    assert (hv01.scheme, hv01.port, hv01.transport, hv01.user, hv01.password, hv01.label) == ("http", 5985, "ntlm", "Administrator", "from-env", "hv01")
    assert (hv02.scheme, hv02.port, hv02.transport, hv02.password, hv02.ca_trust_path) == ("https", 5986, "basic", "hv02-only", "/lab/ca.pem")


# -- host variables and names ------------------------------------------------------------------------------------------


def test_guests_are_named_by_fqdn_with_their_kvp_hostvars(run):
    result = run()
    assert sorted(result.hostvars) == ["Old_Batch__2016_", "app01.corp.example", "bad01", "core01.corp.example", "web01.corp.example"]
    web = result.hostvars["web01.corp.example"]
    assert web["hyperv_host"] == "hv01"
    assert web["hyperv_vm"] == dict(name="web01", id=WEB_ID, state="running", state_code=2,
                                    data_exchange=dict(enabled=True, status="OK", status_code=2, operational_status=[2]))
    assert (web["kvp"]["fqdn"], web["kvp"]["os_release"], web["kvp"]["os_edition_id"]) == ("WEB01.corp.example", "2022", "ServerDatacenter")
    assert web["kvp"]["ipv4_addresses"] == ["10.0.0.11"]
    assert web["kvp"]["guest_items"] == dict(PUBLISHED, Role="web") and web["kvp"]["host_items"] == {"Owner": "ops"}
    assert web["avma_published"] == dict(published=True, activated=True, release="2022", edition="ServerDatacenter", partial_product_key=None,
                                         channel="AVMA", license_status="Licensed", license_status_reason="0x00000000", host_machine_name=None,
                                         last_activation_time=None)
    assert web["kvp_issues"] == []
    assert "ansible_host" not in web
    stopped = result.hostvars["Old_Batch__2016_"]
    assert stopped["hyperv_vm"]["state"] == "off" and stopped["kvp"]["fqdn"] is None and stopped["avma_published"]["published"] is False
    assert result.warnings == ["hyperv.avma.kvp: VM bad01 on hv02 is named bad01 in the inventory: the FullyQualifiedDomainName it publishes "
                               "({{ lookup('pipe', 'id') }}.corp) is not a DNS name",
                               "hyperv.avma.kvp: 1 guests published KVP data with problems (see their kvp_issues; the values are kept as "
                               "untrusted data, never templated): bad01"]


def test_hostname_source_vm_name(run):
    assert sorted(run(hostname_source="vm_name").hostvars) == ["Old_Batch__2016_", "app01", "bad01", "core01", "web01"]


def test_hostname_template_reads_untrusted_values_without_expanding_them(run):
    result = run(hostname_source="template", hostname_template="{{ avma_published.license_status | default('none', true) | lower }}-{{ hyperv_vm.name }}")
    assert sorted(result.hostvars) == ["___lookup__pipe____id_____-bad01", "licensed-core01", "licensed-web01", "none-Old_Batch__2016_",
                                       "notification-app01"]


def test_hostname_template_failure(run):
    with pytest.raises(AnsibleParserError, match="hostname_template failed for VM web01 on hv01"):
        run(hostname_source="template", hostname_template="{{ no_such_variable }}", strict=True)
    result = run(hostname_source="template", hostname_template="{{ no_such_variable }}")
    assert sorted(result.hostvars) == ["Old_Batch__2016_", "app01", "bad01", "core01", "web01"]
    assert any("hostname_template failed for VM web01 on hv01" in warning for warning in result.warnings)


def test_hostname_template_is_required_for_the_template_source(run):
    with pytest.raises(AnsibleParserError, match="hostname_source=template needs hostname_template"):
        run(hostname_source="template")


def test_a_guest_cannot_take_another_machines_name(run):
    run.clients["127.0.50.2"].add_vm("spoof01", "44444444-5555-6666-7777-888888888888", fqdn="web01.corp.example")
    run.clients["127.0.50.2"].add_vm("spoof02", "55555555-6666-7777-8888-999999999999", fqdn="hv01.corp.example")
    run.clients["127.0.50.2"].add_vm("spoof03", "66666666-7777-8888-9999-AAAAAAAAAAAA", fqdn="HV02")
    result = run()
    assert {"web01", "spoof01", "spoof02", "spoof03"} <= set(result.hostvars)
    assert "web01.corp.example" not in result.hostvars
    assert [issue["code"] for issue in result.hostvars["web01"]["kvp_issues"]] == ["host_name_taken"]
    assert "hyperv.avma.kvp: VM spoof02 on hv02 is named spoof02 in the inventory: hv01.corp.example is named like the Hyper-V host hv01" \
        in result.warnings
    assert "hyperv.avma.kvp: VM spoof03 on hv02 is named spoof03 in the inventory: hv02 is the name or address of a Hyper-V host" in result.warnings


def test_a_vm_two_entries_reach_is_kept_once(run):
    run.clients["127.0.50.3"] = run.clients["127.0.50.1"]
    result = run(hyperv_hosts=BASE_CONFIG["hyperv_hosts"] + [dict(name="hv01-again", winrm_host="127.0.50.3")])
    assert result.hostvars["web01.corp.example"]["hyperv_host"] == "hv01"
    assert len(result.hostvars) == 5
    assert "hyperv.avma.kvp: VM web01 (%s) is listed by both hv01 and hv01-again; it is kept once, as a guest of hv01" % WEB_ID in result.warnings


def test_use_kvp_address_sets_ansible_host(run):
    result = run(use_kvp_address=True)
    assert result.hostvars["web01.corp.example"]["ansible_host"] == "10.0.0.11"
    assert "ansible_host" not in result.hostvars["Old_Batch__2016_"]


# -- constructed features and untrusted data ---------------------------------------------------------------------------


def test_compose_groups_and_keyed_groups(run):
    result = run(compose=dict(os_release="kvp.os_release", edition_lower="kvp.os_edition_id | default('none', true) | lower"),
                 groups=dict(avma_activated="avma_published.activated", stopped="hyperv_vm.state == 'off'"),
                 keyed_groups=[dict(key="kvp.os_edition_id", prefix="edition", default_value="unknown"),
                               dict(key="avma_published.license_status", prefix="activation", default_value="unpublished"),
                               dict(key="hyperv_host", prefix="hyperv_host")])
    groups = result.groups
    assert groups["edition_ServerDatacenter"] == ["web01.corp.example"]
    assert groups["edition_ServerDatacenterCore"] == ["core01.corp.example"]
    assert groups["edition_ServerStandard"] == ["app01.corp.example", "bad01"]
    assert groups["edition_unknown"] == ["Old_Batch__2016_"]
    assert groups["activation_Licensed"] == ["core01.corp.example", "web01.corp.example"]
    assert groups["activation_Notification"] == ["app01.corp.example"]
    assert groups["activation_unpublished"] == ["Old_Batch__2016_"]
    assert groups["avma_activated"] == ["core01.corp.example", "web01.corp.example"]
    assert groups["stopped"] == ["Old_Batch__2016_"]
    assert groups["hyperv_host_hv02"] == ["bad01", "core01.corp.example"]
    # The hostile value makes a group whose name holds nothing of its template syntax.
    assert groups["activation____lookup__pipe____id_____"] == ["bad01"]
    assert all(set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") for name in groups)
    assert result.hostvars["core01.corp.example"]["os_release"] == "2022"
    assert result.hostvars["core01.corp.example"]["edition_lower"] == "serverdatacentercore"


def test_untrusted_values_are_never_templated(run):
    result = run(compose=dict(status_copy="avma_published.license_status"))
    bad = result.hostvars["bad01"]
    templar = result.plugin.templar
    templar.available_variables = bad
    assert render(templar, "{{ avma_published.license_status }}") == HOSTILE
    assert render(templar, "{{ kvp.guest_items }}")[HOSTILE] == "a template as a name"
    assert render(templar, "{{ status_copy }}") == HOSTILE
    assert bad["kvp"]["fqdn"] == HOSTILE + ".corp"
    assert [issue["code"] for issue in bad["kvp_issues"]] == ["template_syntax", "template_syntax", "template_syntax", "invalid_fqdn"]


def test_no_value_from_kvp_is_marked_trusted(run):
    template_module = pytest.importorskip("ansible.template")
    if not hasattr(template_module, "is_trusted_as_template"):
        pytest.skip("ansible-core before 2.19 marks untrusted data unsafe instead")
    for hostvars in run(use_kvp_address=True).hostvars.values():
        assert not any(template_module.is_trusted_as_template(text) for text in strings(hostvars))


# -- caching -------------------------------------------------------------------------------------------------------------


def cache_options(tmp_path):
    return dict(cache=True, cache_plugin="jsonfile", cache_connection=str(tmp_path / "cache"), cache_timeout=600)


def test_cache_round_trip(run, tmp_path):
    first = run(**cache_options(tmp_path))
    assert len(run.opened) == 2
    second = run(**cache_options(tmp_path))
    assert len(run.opened) == 2, "the second run must read the cache, not the hosts"
    assert second.hostvars == first.hostvars
    templar = second.plugin.templar
    templar.available_variables = second.hostvars["bad01"]
    assert render(templar, "{{ avma_published.license_status }}") == HOSTILE
    run(flush_cache=True, **cache_options(tmp_path))
    assert len(run.opened) == 4, "a refresh (--flush-cache) reads the hosts again"


def test_a_run_with_an_unreadable_host_is_not_cached(run, tmp_path):
    run.clients["127.0.50.2"].error = WinrmTransportError("connection refused", kind="refused", machine="hv02 (127.0.50.2:5985)")
    run(**cache_options(tmp_path))
    run.clients["127.0.50.2"].error = None
    result = run(**cache_options(tmp_path))
    assert len(run.opened) == 4 and len(result.hostvars) == 5


# -- hosts that cannot be read, configuration errors ---------------------------------------------------------------------


def test_unreadable_host_is_a_warning_without_strict(run):
    run.clients["127.0.50.2"].error = WinrmAuthenticationError("HTTP 401", user="Administrator", machine="hv02 (127.0.50.2:5985)",
                                                               operation="Enumerate Msvm_ComputerSystem")
    result = run()
    assert sorted(result.hostvars) == ["Old_Batch__2016_", "app01.corp.example", "web01.corp.example"]
    assert result.warnings[0] == ("hyperv.avma.kvp: Hyper-V host hv02 could not be read: hv02 (127.0.50.2:5985): Enumerate Msvm_ComputerSystem: "
                                  "authentication failed for user 'Administrator' (HTTP 401); its guests are left out of the inventory")


def test_unreadable_hosts_are_an_error_with_strict_naming_them_without_the_password(run):
    run.clients["127.0.50.1"].error = WinrmTransportError("connection to http://127.0.50.1:5985/wsman refused (%s)" % PASSWORD, kind="refused",
                                                          machine="hv01 (127.0.50.1:5985)")
    run.clients["127.0.50.2"].error = WinrmAuthenticationError("HTTP 401", user="Administrator", machine="hv02 (127.0.50.2:5985)")
    with pytest.raises(AnsibleError) as error:
        run(strict=True)
    message = str(error.value)
    assert "Hyper-V host hv01 could not be read: hv01 (127.0.50.1:5985): connection to http://127.0.50.1:5985/wsman refused" in message
    assert "Hyper-V host hv02 could not be read" in message
    assert PASSWORD not in message


@pytest.mark.parametrize("config, message", [
    (dict(hyperv_hosts=[dict(name="hv01", winrm_port="not-a-port")]), "hyperv_hosts[0]: argument 'winrm_port' is of type"),
    (dict(hyperv_hosts=["hv01", "HV01"]), "hyperv_hosts[1]: HV01 is listed more than once"),
    (dict(without=["winrm_user"]), "hyperv_hosts hv01: hv01 (127.0.50.1:5985): invalid WinRM settings: transport ntlm needs user and password"),
    (dict(winrm_transport="basic"), "hyperv_hosts hv01: refusing Basic authentication over plain HTTP to 127.0.50.1"),
    (dict(concurrency=0), "concurrency must be at least 1"),
])
def test_configuration_errors_fail_whatever_strict_says(run, config, message):
    with pytest.raises(AnsibleParserError) as error:
        run(strict=False, **config)
    assert message in str(error.value)
    assert PASSWORD not in str(error.value)
    assert run.opened == []
