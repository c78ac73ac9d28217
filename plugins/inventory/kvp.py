# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: kvp
short_description: Inventory of the guests of Hyper-V hosts, from their Data Exchange (KVP) items
version_added: 0.1.0
author: hyperv.avma contributors (@hyperv-avma)
description:
  - Reads the Data Exchange (Key-Value Pair Exchange) items of every VM of the listed Hyper-V hosts, from the hosts
    alone (no access to the guests), and makes one inventory host of each VM.
  - Each Hyper-V host costs three WS-Management enumerations (plus paging), whatever the number of its VMs.
  - The host variables of a guest are C(hyperv_host), C(hyperv_vm), C(kvp), C(avma_published) and C(kvp_issues); see the
    notes. With O(compose), O(groups) and O(keyed_groups) they make further variables and groups, for example a
    group per OS edition and per activation state.
  - B(KVP data is written by the guest and is not secured), so a compromised guest can publish anything. Every value
    that comes from KVP stays untrusted data, never templated (marked unsafe on ansible-core before 2.19, never
    marked trusted on 2.19 and later); group names made from it are sanitised, and no connection variable is set
    from it unless O(use_kvp_address=true).
  - The configuration file must end in C(.kvp.yml) or C(.kvp.yaml).
options:
  plugin:
    description: The name of this plugin; marks the file as its configuration.
    required: true
    type: str
    choices: [hyperv.avma.kvp]
  hyperv_hosts:
    description:
      - The Hyper-V hosts whose VMs make the inventory, read in this order.
      - Each entry is a host name or address, or a mapping with C(name) (the name the guests' C(hyperv_host) variable
        shows), optionally C(winrm_host) (the address to connect to; defaults to C(name)), and any other C(winrm_*)
        option of this plugin, which then applies to that host only.
      - A guest may not take the inventory name of a listed host, its address, or its computer name (see
        O(hostname_source)).
    required: true
    type: list
    elements: raw
  hostname_source:
    description:
      - What names a guest in the inventory.
      - V(fqdn) the fully qualified domain name the guest publishes (KVP C(FullyQualifiedDomainName)), in lower
        case, when it is a valid DNS name.
      - V(vm_name) the VM name on the Hyper-V host.
      - V(template) the result of O(hostname_template).
      - Characters other than letters, digits, C(.), C(-) and C(_) in a VM name or a template's result become C(_).
      - When the chosen source gives nothing usable (a VM that does not run publishes no FQDN), or a name that more
        than one guest claims, or the name of a Hyper-V host, the guest is named after its VM name, and failing
        that after its VM ID; each such case is listed in the guest's C(kvp_issues) and warned about. A guest
        therefore cannot take the name of another machine by publishing it; the claimants all lose it.
    type: str
    choices: [fqdn, vm_name, template]
    default: fqdn
  hostname_template:
    description:
      - "A Jinja2 template giving a guest's inventory name from its host variables (C(hyperv_host), C(hyperv_vm),
        C(kvp), C(avma_published)), for example C({{ hyperv_vm.name }}.{{ hyperv_host }})."
      - Required when O(hostname_source=template). The values it reads stay untrusted; templates inside them are
        not expanded.
      - A template that fails is an error with O(strict=true); otherwise the guest is named as when the template
        gives nothing.
    type: str
  use_kvp_address:
    description:
      - Set C(ansible_host) of each guest to the address it publishes through KVP (its first IPv4 address, else
        its first IPv6 address that is not link-local).
      - This is a trust decision. The guest chooses that address, so a compromised guest can make Ansible connect,
        and send the credentials of the play, to any machine it names, the controller included. Leave it V(false)
        unless you trust every guest, and prefer names the DNS resolves, or addresses from a source you control set
        through O(compose).
    type: bool
    default: false
  concurrency:
    description:
      - How many Hyper-V hosts are read at the same time, each over its own connection.
    type: int
    default: 4
  winrm_user:
    description:
      - User name for the Hyper-V hosts, as V(user), V(DOMAIN\\user) or V(user@DOMAIN.COM) (Kerberos).
      - When not set, no user (as for O(winrm_transport=certificate)).
    type: str
    env:
      - name: HYPERV_AVMA_WINRM_USER
    ini:
      - section: hyperv_avma_kvp
        key: winrm_user
  winrm_password:
    description:
      - Password of O(winrm_user). Never logged nor shown in messages.
      - Give it through the environment rather than in the configuration file.
      - When not set, no password (a Kerberos ticket already in the credential cache, or a client certificate).
    type: str
    env:
      - name: HYPERV_AVMA_WINRM_PASSWORD
  winrm_port:
    description:
      - TCP port of the WinRM listener.
      - When not set, V(5985) when O(winrm_scheme=http) and V(5986) otherwise.
    type: int
    env:
      - name: HYPERV_AVMA_WINRM_PORT
    ini:
      - section: hyperv_avma_kvp
        key: winrm_port
  winrm_scheme:
    description:
      - V(http) or V(https).
      - When not set, V(http) when O(winrm_port=5985), otherwise V(https).
    type: str
    choices: [http, https]
    env:
      - name: HYPERV_AVMA_WINRM_SCHEME
    ini:
      - section: hyperv_avma_kvp
        key: winrm_scheme
  winrm_path:
    description:
      - URL path of the WinRM listener.
    type: str
    default: /wsman
    env:
      - name: HYPERV_AVMA_WINRM_PATH
    ini:
      - section: hyperv_avma_kvp
        key: winrm_path
  winrm_transport:
    description:
      - Authentication protocol.
      - V(ntlm), V(kerberos) and V(credssp) encrypt messages over HTTP (see O(winrm_message_encryption)).
      - V(basic) over HTTP is refused unless O(winrm_allow_basic_over_http=true).
    type: str
    choices: [basic, certificate, credssp, kerberos, ntlm]
    default: ntlm
    env:
      - name: HYPERV_AVMA_WINRM_TRANSPORT
    ini:
      - section: hyperv_avma_kvp
        key: winrm_transport
  winrm_server_cert_validation:
    description:
      - Whether the server's TLS certificate is validated.
    type: str
    choices: [validate, ignore]
    default: validate
    env:
      - name: HYPERV_AVMA_WINRM_SERVER_CERT_VALIDATION
    ini:
      - section: hyperv_avma_kvp
        key: winrm_server_cert_validation
  winrm_ca_trust_path:
    description:
      - PEM file or directory of CA certificates that the server certificates are validated against, instead of the
        system trust store.
      - When not set, the system trust store.
    type: path
    env:
      - name: HYPERV_AVMA_WINRM_CA_TRUST_PATH
    ini:
      - section: hyperv_avma_kvp
        key: winrm_ca_trust_path
  winrm_message_encryption:
    description:
      - HTTP message encryption (NTLM, Kerberos, CredSSP). V(auto) encrypts over HTTP and leaves it to TLS over HTTPS.
    type: str
    choices: [auto, always, never]
    default: auto
    env:
      - name: HYPERV_AVMA_WINRM_MESSAGE_ENCRYPTION
    ini:
      - section: hyperv_avma_kvp
        key: winrm_message_encryption
  winrm_operation_timeout_sec:
    description:
      - WS-Management OperationTimeout of each request, in seconds.
    type: int
    default: 20
    env:
      - name: HYPERV_AVMA_WINRM_OPERATION_TIMEOUT_SEC
    ini:
      - section: hyperv_avma_kvp
        key: winrm_operation_timeout_sec
  winrm_read_timeout_sec:
    description:
      - HTTP read timeout, in seconds; must be greater than O(winrm_operation_timeout_sec).
      - When not set, O(winrm_operation_timeout_sec) + 10.
    type: int
    env:
      - name: HYPERV_AVMA_WINRM_READ_TIMEOUT_SEC
    ini:
      - section: hyperv_avma_kvp
        key: winrm_read_timeout_sec
  winrm_cert_pem:
    description:
      - Client certificate (PEM) for O(winrm_transport=certificate).
      - When not set, none.
    type: path
    env:
      - name: HYPERV_AVMA_WINRM_CERT_PEM
    ini:
      - section: hyperv_avma_kvp
        key: winrm_cert_pem
  winrm_cert_key_pem:
    description:
      - Private key (PEM) of O(winrm_cert_pem).
      - When not set, none.
    type: path
    env:
      - name: HYPERV_AVMA_WINRM_CERT_KEY_PEM
    ini:
      - section: hyperv_avma_kvp
        key: winrm_cert_key_pem
  winrm_kerberos_delegation:
    description:
      - Request a delegable Kerberos ticket.
    type: bool
    default: false
    env:
      - name: HYPERV_AVMA_WINRM_KERBEROS_DELEGATION
    ini:
      - section: hyperv_avma_kvp
        key: winrm_kerberos_delegation
  winrm_kerberos_hostname_override:
    description:
      - Host name used for the Kerberos service principal instead of the host's address.
      - When not set, the host's address (its C(winrm_host), or its C(name)).
    type: str
    env:
      - name: HYPERV_AVMA_WINRM_KERBEROS_HOSTNAME_OVERRIDE
    ini:
      - section: hyperv_avma_kvp
        key: winrm_kerberos_hostname_override
  winrm_kinit_mode:
    description:
      - V(managed) runs C(kinit) with O(winrm_user) (V(user@REALM)) and O(winrm_password) into a private credential
        cache; V(manual) uses the ticket already in the credential cache (C(KRB5CCNAME)).
      - When not set, V(managed) when a password is given, otherwise V(manual).
    type: str
    choices: [managed, manual]
    env:
      - name: HYPERV_AVMA_WINRM_KINIT_MODE
    ini:
      - section: hyperv_avma_kvp
        key: winrm_kinit_mode
  winrm_kinit_cmd:
    description:
      - The C(kinit) command for O(winrm_kinit_mode=managed).
    type: str
    default: kinit
    env:
      - name: HYPERV_AVMA_WINRM_KINIT_CMD
    ini:
      - section: hyperv_avma_kvp
        key: winrm_kinit_cmd
  winrm_kinit_args:
    description:
      - Arguments for C(kinit); they replace the default C(-f) that O(winrm_kerberos_delegation=true) adds.
      - When not set, C(kinit) gets only the principal (and C(-f) for delegation).
    type: str
    env:
      - name: HYPERV_AVMA_WINRM_KINIT_ARGS
    ini:
      - section: hyperv_avma_kvp
        key: winrm_kinit_args
  winrm_kinit_env_vars:
    description:
      - Environment variables passed to C(kinit) besides C(PATH), C(KRB5_CONFIG) and C(KRB5_TRACE).
      - When not set, none.
    type: list
    elements: str
    env:
      - name: HYPERV_AVMA_WINRM_KINIT_ENV_VARS
    ini:
      - section: hyperv_avma_kvp
        key: winrm_kinit_env_vars
  winrm_credssp_disable_tlsv1_2:
    description:
      - Allow CredSSP over TLS versions older than 1.2, for old Windows hosts.
    type: bool
    default: false
    env:
      - name: HYPERV_AVMA_WINRM_CREDSSP_DISABLE_TLSV1_2
    ini:
      - section: hyperv_avma_kvp
        key: winrm_credssp_disable_tlsv1_2
  winrm_proxy:
    description:
      - HTTP proxy URL for the WinRM traffic.
      - When not set, the environment's proxy settings apply.
    type: str
    env:
      - name: HYPERV_AVMA_WINRM_PROXY
    ini:
      - section: hyperv_avma_kvp
        key: winrm_proxy
  winrm_retries:
    description:
      - How many times a failed read is retried, with backoff (connection refused, reset or dropped, read timeout,
        HTTP 503, operation timeout; an enumeration whose answer was lost or whose context expired starts again).
        Each retry after a connection-level failure opens and authenticates a new connection.
    type: int
    default: 3
    env:
      - name: HYPERV_AVMA_WINRM_RETRIES
    ini:
      - section: hyperv_avma_kvp
        key: winrm_retries
  winrm_retry_max_sec:
    description:
      - Upper bound, in seconds, of the time spent on one request and its retries.
    type: float
    default: 120
    env:
      - name: HYPERV_AVMA_WINRM_RETRY_MAX_SEC
    ini:
      - section: hyperv_avma_kvp
        key: winrm_retry_max_sec
  winrm_allow_basic_over_http:
    description:
      - Allow O(winrm_transport=basic) over plain HTTP, which sends the password in clear text.
    type: bool
    default: false
    env:
      - name: HYPERV_AVMA_WINRM_ALLOW_BASIC_OVER_HTTP
    ini:
      - section: hyperv_avma_kvp
        key: winrm_allow_basic_over_http
  winrm_capture_dir:
    description:
      - Record every WS-Man request and answer of each host read into this directory (one JSON file per host), with
        passwords, product keys, names, user names, domains and addresses replaced by stable placeholders; see the
        fidelity guide. Never publish the directory's C(.capture-key) file.
      - When not set, nothing is recorded.
    type: path
    env:
      - name: HYPERV_AVMA_CAPTURE_DIR
    ini:
      - section: hyperv_avma_kvp
        key: winrm_capture_dir
  strict:
    description:
      - With V(true), an expression of O(compose), O(groups) or O(keyed_groups) that fails is an error, and so are
        a Hyper-V host that cannot be read (unreachable, refused credentials, no Hyper-V), which the error names,
        and a O(hostname_template) that fails.
      - With V(false), failing expressions are skipped, and a host that cannot be read is warned about while the
        inventory is built from the other hosts.
      - An error of an inventory plugin fails the run only with C(ANSIBLE_INVENTORY_UNPARSED_FAILED=true) (or
        C(inventory_unparsed_failed) in C(ansible.cfg)); otherwise Ansible shows it as a warning and goes on
        without this inventory source.
requirements:
  - pywinrm >= 0.4.3 on the controller
notes:
  - "C(hyperv_host): the name of the Hyper-V host in O(hyperv_hosts) that the VM runs on."
  - "C(hyperv_vm): C(name), C(id) (the VM GUID), C(state) (V(running), V(off), ...), C(state_code), and
    C(data_exchange) (C(enabled), C(status) such as V(OK) or V(No Contact), C(status_code), C(operational_status))."
  - "C(kvp): what the guest publishes by itself, decoded: C(fqdn), C(os_name), C(os_version), C(os_build),
    C(os_release) (V(2022), ...), C(os_edition_sku), C(os_edition_id) (V(ServerDatacenter), ...),
    C(ipv4_addresses), C(ipv6_addresses), C(rdp_ipv4_addresses), C(rdp_ipv6_addresses),
    C(integration_services_version); and the items themselves as name to value maps: C(intrinsic_items),
    C(guest_items) (what programs in the guest publish), C(host_items) (what the host pushed to the guest) and
    C(host_only_items). A VM that does not run, or whose Data Exchange is off, publishes nothing: its facts are
    null."
  - "C(avma_published): the activation status the collection publishes from the guest (C(hyperv.avma.product_key) with
    C(publish_kvp), the C(hyperv.avma.guest_activation) role), read from the guest items named C(HyperVAvma.*):
    C(published), C(activated) (Licensed on the AVMA channel), C(release), C(edition), C(partial_product_key),
    C(channel), C(license_status) (V(Licensed), V(Notification), V(NoKey), ...), C(license_status_reason),
    C(host_machine_name), C(last_activation_time). Fields the guest did not publish are null."
  - "C(kvp_issues): problems found in the guest's KVP data (values cut to 1024 characters, items that could not be
    read, template markers, control characters, invalid addresses) and in naming it, as C(source), C(name),
    C(code), C(message)."
  - With caching enabled, a run reads the Hyper-V hosts only when the cache is empty or expired (or with
    C(--flush-cache)); a run in which a host could not be read is not cached.
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
"""

EXAMPLES = r"""
# hyperv.kvp.yml: the guests of two Hyper-V hosts, grouped by OS edition, by activation state and by Hyper-V host.
# The password comes from the environment: HYPERV_AVMA_WINRM_PASSWORD.
plugin: hyperv.avma.kvp
hyperv_hosts:
  - hv01.corp.example.com
  - name: hv02.corp.example.com
    winrm_scheme: https
    winrm_ca_trust_path: /etc/pki/corp-ca.pem
winrm_user: CORP\svc-ansible
keyed_groups:
  - key: kvp.os_edition_id
    prefix: edition
    default_value: unknown
  - key: avma_published.license_status
    prefix: activation
    default_value: unpublished
  - key: hyperv_host
    prefix: hyperv_host
groups:
  avma_activated: avma_published.activated
  data_exchange_off: hyperv_vm.data_exchange.enabled == false
compose:
  # The guests' names come from their KVP FQDN, which the DNS resolves: connect over WinRM to that name.
  ansible_connection: "'winrm'"
  ansible_port: 5986

# A second file, hyperv-names.kvp.yml: guests named after their VM and their Hyper-V host, cached for an hour.
# plugin: hyperv.avma.kvp
# hyperv_hosts: [hv01.corp.example.com]
# hostname_source: template
# hostname_template: "{{ hyperv_vm.name | lower }}.{{ hyperv_host }}"
# cache: true
# cache_plugin: ansible.builtin.jsonfile
# cache_connection: ~/.cache/ansible/hyperv_kvp
# cache_timeout: 3600
"""

import concurrent.futures

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient
from ansible_collections.hyperv.avma.plugins.module_utils import _kerberos
from ansible_collections.hyperv.avma.plugins.module_utils._connection import build_settings
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaError
from ansible_collections.hyperv.avma.plugins.module_utils._hyperv import read_host_kvp
from ansible_collections.hyperv.avma.plugins.module_utils._kvp import shown_name
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WsmanClient
from ansible_collections.hyperv.avma.plugins.plugin_utils._inventory_kvp import (
    NAMING_ISSUE_SOURCE,
    PLUGIN_WINRM_OPTIONS,
    assign_hostnames,
    guest_hostvars,
    host_entries,
    hostname_candidates,
    kvp_address,
    taken_name_issue,
    trusted_template,
    untrusted,
)
from ansible_collections.hyperv.avma.plugins.plugin_utils._run_command import run_command

_CACHE_FORMAT = 1
_MAX_NAMED_IN_WARNING = 10


def open_client(settings):
    """The one WS-Man client of a Hyper-V host."""
    return CimClient(WsmanClient(settings))


def _scrubbed(text, secrets):
    for secret in secrets:
        if secret:
            text = text.replace(secret, "********")
    return text


def _named(items):
    shown = ", ".join(items[:_MAX_NAMED_IN_WARNING])
    return shown + (" and %d more" % (len(items) - _MAX_NAMED_IN_WARNING) if len(items) > _MAX_NAMED_IN_WARNING else "")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """The guests of Hyper-V hosts, from the hosts' KVP data."""

    NAME = "hyperv.avma.kvp"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((".kvp.yml", ".kvp.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        # kinit (Kerberos with a password) runs as a local command of this controller process.
        _kerberos.command_runner = run_command
        super().parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        entries = self._host_entries()

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        results = None
        if use_cache and cache:
            results = self._cached(cache_key)
        if results is None:
            results = self._read_hosts(entries)
            if use_cache and not any(result.get("error") for result in results):
                self._cache[cache_key] = dict(format=_CACHE_FORMAT, hosts=results)
        self._populate(entries, results)

    # -- reading -----------------------------------------------------------------------------------------------------

    def _host_entries(self):
        if self.get_option("hostname_source") == "template" and not self.get_option("hostname_template"):
            raise AnsibleParserError("hostname_source=template needs hostname_template")
        if self.get_option("concurrency") < 1:
            raise AnsibleParserError("concurrency must be at least 1")
        try:
            entries = host_entries(self.get_option("hyperv_hosts"), {name: self.get_option(name) for name in PLUGIN_WINRM_OPTIONS})
        except ValueError as error:
            raise AnsibleParserError(str(error)) from error
        # Settings mistakes (no user, Basic over HTTP, ...) are configuration errors whatever strict says.
        for entry in entries:
            try:
                build_settings(entry.options, label=entry.name)
            except AvmaError as error:
                raise AnsibleParserError(_scrubbed("hyperv_hosts %s: %s" % (entry.name, error), entry.secrets)) from error
        return entries

    def _cached(self, cache_key):
        try:
            cached = self._cache[cache_key]
        except KeyError:
            return None
        if not isinstance(cached, dict) or cached.get("format") != _CACHE_FORMAT:
            return None
        return cached["hosts"]

    def _read_hosts(self, entries):
        workers = min(self.get_option("concurrency"), len(entries))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(self._read_host, entries))

    @staticmethod
    def _read_host(entry):
        """``{name, host_name, vms}`` of one Hyper-V host, or ``{name, error}`` when it cannot be read."""
        try:
            client = open_client(build_settings(entry.options, label=entry.name))
            try:
                kvp = read_host_kvp(client)[0]
            finally:
                client.close()
        except AvmaError as error:
            return dict(name=entry.name, error=_scrubbed(str(error), entry.secrets))
        return dict(name=entry.name, host_name=kvp["host_name"], vms=kvp["vms"])

    # -- building the inventory --------------------------------------------------------------------------------------

    def _populate(self, entries, results):
        strict = self.get_option("strict")
        reserved = []
        for entry in entries:
            reserved.extend((entry.name, entry.options["host"]))
        failures = ["Hyper-V host %s could not be read: %s" % (result["name"], result["error"]) for result in results if result.get("error")]
        if failures and strict:
            raise AnsibleError("hyperv.avma.kvp: " + "; ".join(failures))
        for failure in failures:
            self.display.warning("hyperv.avma.kvp: %s; its guests are left out of the inventory" % failure)
        guests = []
        seen_ids = {}
        for result in results:
            if result.get("error"):
                continue
            reserved.append(result["host_name"])
            for vm in result["vms"]:
                if vm["id"] in seen_ids:
                    self.display.warning("hyperv.avma.kvp: VM %s (%s) is listed by both %s and %s; it is kept once, as a guest of %s"
                                         % (shown_name(vm["name"]), vm["id"], seen_ids[vm["id"]], result["name"], seen_ids[vm["id"]]))
                    continue
                seen_ids[vm["id"]] = result["name"]
                guests.append(untrusted(guest_hostvars(result["name"], vm)))

        names = self._host_names(guests, reserved, strict)
        for name, hostvars in zip(names, guests):
            self._add_guest(name, hostvars, strict)
        # Problems in naming a guest have had their own warnings.
        troubled = [name for name, hostvars in zip(names, guests) if any(issue["source"] != NAMING_ISSUE_SOURCE for issue in hostvars["kvp_issues"])]
        if troubled:
            self.display.warning("hyperv.avma.kvp: %d guests published KVP data with problems (see their kvp_issues; the values are kept as "
                                 "untrusted data, never templated): %s" % (len(troubled), _named(troubled)))

    def _host_names(self, guests, reserved, strict):
        source = self.get_option("hostname_source")
        candidate_lists = []
        naming_issues = []
        for hostvars in guests:
            templated = self._templated_name(hostvars, strict) if source == "template" else None
            candidates, issues = hostname_candidates(source, hostvars, templated)
            candidate_lists.append(candidates)
            naming_issues.append(issues)
        names, passed_over = assign_hostnames(candidate_lists, reserved)
        for name, hostvars, issues, skipped in zip(names, guests, naming_issues, passed_over):
            issues = issues + [taken_name_issue(candidate, reason) for candidate, reason in skipped]
            if issues:
                hostvars["kvp_issues"].extend(untrusted(issues))
                self.display.warning("hyperv.avma.kvp: VM %s on %s is named %s in the inventory: %s"
                                     % (shown_name(hostvars["hyperv_vm"]["name"]), hostvars["hyperv_host"], name,
                                        "; ".join(issue["message"] for issue in issues)))
        return names

    def _templated_name(self, hostvars, strict):
        self.templar.available_variables = hostvars
        try:
            name = self.templar.template(trusted_template(self.get_option("hostname_template")))
        except AnsibleError as error:
            message = "hostname_template failed for VM %s on %s: %s" % (shown_name(hostvars["hyperv_vm"]["name"]), hostvars["hyperv_host"], error)
            if strict:
                raise AnsibleParserError(message) from error
            self.display.warning("hyperv.avma.kvp: " + message)
            return None
        return None if name is None else str(name)

    def _add_guest(self, name, hostvars, strict):
        self.inventory.add_host(name)
        for variable, value in hostvars.items():
            self.inventory.set_variable(name, variable, value)
        if self.get_option("use_kvp_address"):
            address = kvp_address(hostvars)
            if address is not None:
                self.inventory.set_variable(name, "ansible_host", untrusted(address))
        self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)
