# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every transport a Windows fleet uses, by real ansible-playbook runs against the lab: Kerberos from a throwaway MIT
KDC (tests/kerberos_realm.py) and CredSSP, each over HTTP with message encryption and over HTTPS, and client
certificates.
Each gives the same results as NTLM, and the lab's counters show which mechanism served the requests; each failure
says in one line what is wrong and what to do; -vvvv shows no password, key or ticket.

Needs the Kerberos tools (Debian krb5-kdc, krb5-admin-server, krb5-user, libkrb5-dev) and tests/requirements-auth.txt
(tools/lib.sh ensure_auth_extras). Without them the module is skipped, unless HYPERV_AVMA_REQUIRE_TRANSPORTS=1 (the
test command sets it), which turns the skip into a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import re
import sys
import time

import pytest
import yaml

from kerberos_realm import KerberosRealm, machine_fqdn, missing_tools  # pylint: disable=import-error
from saved_results import saved  # pylint: disable=import-error

FLEET = "transports.yml"
HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MACHINES = yaml.safe_load((HERE / "fleets" / FLEET).read_text())["machines"]
REALM_USER = "avmaops"
PRINCIPAL = "avmaops@HVLAB.TEST"
REALM_PASSWORD = "Ops-Passw0rd!"
LOCAL_PASSWORD = "Lab-Passw0rd!"
CERT_UPN = "certops@hvlab.test"
GUEST, HOST, LOCKED = "trg22", "trhv", "trlocked"
MECHANISM = {"kerberos_http": "kerberos", "kerberos_https": "kerberos", "credssp": "credssp", "credssp_http": "credssp",
             "certificate": "certificate"}

MISSING = missing_tools() + [module for module in ("gssapi", "krb5", "kerberos", "requests_credssp")
                             if importlib.util.find_spec(module) is None]
if MISSING and os.environ.get("HYPERV_AVMA_REQUIRE_TRANSPORTS") != "1":
    pytest.skip("Kerberos/CredSSP test requirements missing: %s" % ", ".join(MISSING), allow_module_level=True)


@pytest.fixture(scope="module")
def realm(tmp_path_factory):
    """The realm HVLAB.TEST: the user avmaops and HTTP/<machine>.hvlab.test for every lab machine, in a keytab."""
    assert not MISSING, "Kerberos/CredSSP test requirements missing: %s (tools/lib.sh ensure_auth_extras)" % ", ".join(MISSING)
    directory = tmp_path_factory.mktemp("kdc")
    kdc = KerberosRealm(directory).start()
    try:
        kdc.add_user(REALM_USER, REALM_PASSWORD)
        kdc.keytab = directory / "http.keytab"
        kdc.add_service_keytab([machine_fqdn(name) for name in MACHINES], kdc.keytab)
        yield kdc
    finally:
        kdc.stop()


@pytest.fixture(scope="module")
def lab_environment(realm):
    """The lab accepts Kerberos with the realm's keytab."""
    return dict(realm.env(), KRB5_KTNAME="FILE:%s" % realm.keytab)


@pytest.fixture(scope="module")
def certificates(lab, tmp_path_factory, hvlab_cli):
    """Client certificates: mapped (lab CA, UPN certops@hvlab.test), unmapped (lab CA, another UPN), untrusted
    (another CA); each a (cert, key) pair of paths."""
    from hvlab.certs import CertificateAuthority  # pylint: disable=import-error,import-outside-toplevel

    directory = tmp_path_factory.mktemp("certs")
    pairs = {}
    for name, upn in (("mapped", CERT_UPN), ("unmapped", "nobody@hvlab.test")):
        pairs[name] = (directory / ("%s.pem" % name), directory / ("%s-key.pem" % name))
        hvlab_cli("client-cert", "--dir", str(lab.directory), "--upn", upn, "--cert", str(pairs[name][0]), "--key", str(pairs[name][1]))
    pairs["untrusted"] = (directory / "untrusted.pem", directory / "untrusted-key.pem")
    CertificateAuthority.generate().write_client_certificate(CERT_UPN, str(pairs["untrusted"][0]), str(pairs["untrusted"][1]))
    return pairs


def transport_vars(lab, name, transport, certificates=None, **overrides):
    """The host variables of ``name`` for ``transport``, as an ansible.windows user sets them."""
    variables = dict(lab.host_vars[name])
    if transport.startswith("kerberos"):
        scheme = "https" if transport == "kerberos_https" else "http"
        variables.update(ansible_winrm_transport="kerberos", ansible_winrm_scheme=scheme, ansible_port=lab.port(name, scheme),
                         ansible_user=PRINCIPAL, ansible_password=REALM_PASSWORD,
                         ansible_winrm_kerberos_hostname_override=machine_fqdn(name))
    elif transport.startswith("credssp"):
        scheme = "http" if transport == "credssp_http" else "https"
        variables.update(ansible_winrm_transport="credssp", ansible_winrm_scheme=scheme, ansible_port=lab.port(name, scheme),
                         ansible_user="Administrator", ansible_password=LOCAL_PASSWORD)
    elif transport == "certificate":
        cert, key = certificates[overrides.pop("certificate", "mapped")]
        variables.update(ansible_winrm_transport="certificate", ansible_winrm_scheme="https", ansible_port=lab.port(name, "https"),
                         ansible_winrm_cert_pem=str(cert), ansible_winrm_cert_key_pem=str(key))
        variables.pop("ansible_user", None)
        variables.pop("ansible_password", None)
    for variable, value in overrides.items():
        if value is None:
            variables.pop(variable, None)
        else:
            variables[variable] = value
    return variables


def write_inventory(path, hosts_vars):
    """An inventory with the lab's groups: ``hosts_vars`` maps host name to its variables."""
    groups = {"hyperv_hosts": {}, "hyperv_guests": {}}
    for name, variables in hosts_vars.items():
        groups["hyperv_hosts" if MACHINES[name]["kind"] == "host" else "hyperv_guests"][name] = variables
    path.write_text(yaml.safe_dump({"all": {"children": {group: {"hosts": hosts} for group, hosts in groups.items()}}}))
    return path


def client_env(realm, **extra):
    return dict(realm.env(), **extra)


def run_modules(lab, realm, ansible_playbook, tmp_path, transport, certificates, *arguments):
    """transports.yml over ``transport`` on the guest and the host, from the fleet's initial state: (run, results)."""
    lab.admin("POST", "/reset")
    out_dir = tmp_path / ("out-" + transport)
    out_dir.mkdir()
    inventory = write_inventory(tmp_path / ("inventory-%s.yml" % transport),
                                {name: transport_vars(lab, name, transport, certificates) for name in (GUEST, HOST)})
    run = ansible_playbook("transports.yml", inventory, *arguments, extra_env=client_env(realm),
                           extra_vars=dict(target_guests=GUEST, target_hosts=HOST, out_dir=str(out_dir)))
    return run, saved(out_dir)


def comparable(results):
    """Results without what legitimately differs between two runs: times of day the lab stamps on activation."""
    text = json.dumps(results, sort_keys=True)
    return json.loads(re.sub(r'"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?"', '"<time>"', text))


@pytest.fixture(scope="module")
def ntlm_results(lab, realm, playbook_runner, tmp_path_factory, certificates):
    workdir = tmp_path_factory.mktemp("ntlm")

    def ansible_playbook(playbook, inventory, *arguments, extra_vars=None, extra_env=None):
        return playbook_runner(workdir, playbook, inventory, *arguments, extra_vars=extra_vars, extra_env=extra_env)

    run, results = run_modules(lab, realm, ansible_playbook, workdir, "ntlm", certificates)
    assert run.returncode == 0, run.stdout + run.stderr
    return results


@pytest.mark.parametrize("transport", sorted(MECHANISM))
def test_every_transport_gives_the_same_results_as_ntlm(lab, realm, ansible_playbook, tmp_path, certificates, ntlm_results, transport):
    lab.reset_stats()
    run, results = run_modules(lab, realm, ansible_playbook, tmp_path, transport, certificates)
    assert run.returncode == 0, run.stdout + run.stderr
    assert comparable(results) == comparable(ntlm_results)
    assert results[GUEST]["product_key"]["changed"] is True
    assert results[HOST]["kvp_info"]["vms"], results[HOST]
    stats = lab.stats()["machines"]
    for machine in (GUEST, HOST):
        mechanisms = stats[machine]["auth_mechanisms"]
        assert mechanisms[MECHANISM[transport]] == stats[machine]["total_requests"] > 0, stats[machine]
        assert sum(mechanisms.values()) == mechanisms[MECHANISM[transport]], mechanisms
        # Over HTTP, Kerberos and CredSSP must encrypt: the lab refuses plaintext bodies there.
        assert stats[machine]["unencrypted_refused"] == 0


@pytest.fixture(scope="module")
def ntlm_site_report(lab, realm, playbook_runner, tmp_path_factory, certificates):
    return run_site(lab, realm, playbook_runner, tmp_path_factory.mktemp("site-ntlm"), "ntlm", certificates)


def run_site(lab, realm, playbook_runner, workdir, transport, certificates):
    """The site playbook on the host and its guest over ``transport``: (recap counts per host, report)."""
    lab.admin("POST", "/reset")
    report_dir = workdir / "report"
    inventory = write_inventory(workdir / "inventory.yml",
                                {name: transport_vars(lab, name, transport, certificates) for name in (GUEST, HOST)})
    run = playbook_runner(workdir, ROOT / "playbooks" / "site.yml", inventory, extra_env=client_env(realm),
                          extra_vars=dict(host_setup_data_exchange=False, compliance_report_dir=str(report_dir),
                                          compliance_report_formats=["json"]))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr
    recap = {name: dict(re.findall(r"(\w+)=(\d+)", counts))
             for name, counts in re.findall(r"^(\S+)\s+: (ok=.*)$", run.stdout, re.MULTILINE)}
    report = json.loads((report_dir / "avma-report.json").read_text())
    return recap, comparable({key: report[key] for key in ("summary", "problems")})


@pytest.mark.parametrize("transport", sorted(MECHANISM))
def test_site_playbook_over_every_transport_matches_ntlm(lab, realm, playbook_runner, tmp_path, certificates,
                                                         ntlm_site_report, transport):
    lab.reset_stats()
    assert run_site(lab, realm, playbook_runner, tmp_path, transport, certificates) == ntlm_site_report
    stats = lab.stats()["machines"]
    for machine in (GUEST, HOST):
        mechanisms = stats[machine]["auth_mechanisms"]
        assert mechanisms[MECHANISM[transport]] > 0 and sum(mechanisms.values()) == mechanisms[MECHANISM[transport]], mechanisms


def test_manual_kinit_mode_uses_the_ticket_in_the_cache(lab, realm, ansible_playbook, tmp_path, certificates):
    ccache = tmp_path / "ccache"
    realm.kinit(PRINCIPAL, REALM_PASSWORD, ccache)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    inventory = write_inventory(tmp_path / "inventory.yml", {GUEST: transport_vars(
        lab, GUEST, "kerberos_https", ansible_password=None, ansible_winrm_kinit_mode="manual")})
    lab.reset_stats()
    run = ansible_playbook("activation_facts_connection.yml", inventory, extra_env=client_env(realm, KRB5CCNAME="FILE:%s" % ccache),
                           extra_vars=dict(target_hosts=GUEST, out_dir=str(out_dir)))
    assert run.returncode == 0, run.stdout + run.stderr
    assert saved(out_dir)[GUEST]["os"]["release"] == "2022"
    assert lab.stats()["machines"][GUEST]["auth_mechanisms"]["kerberos"] > 0


def test_explicit_winrm_options_select_kerberos(lab, realm, ansible_playbook, tmp_path):
    playbook = tmp_path / "explicit.yml"
    playbook.write_text(yaml.safe_dump([{
        "name": "Kerberos through the explicit options", "hosts": "localhost", "gather_facts": False,
        "tasks": [{"name": "Read the activation facts", "hyperv.avma.activation_facts": {
            "winrm_host": MACHINES[GUEST]["address"], "winrm_port": lab.port(GUEST, "http"), "winrm_scheme": "http",
            "winrm_transport": "kerberos", "winrm_user": PRINCIPAL, "winrm_password": REALM_PASSWORD,
            "winrm_kinit_mode": "managed", "winrm_kerberos_hostname_override": machine_fqdn(GUEST)}}],
    }]))
    inventory = tmp_path / "localhost.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}))
    lab.reset_stats()
    run = ansible_playbook(playbook, inventory, extra_env=client_env(realm))
    assert run.returncode == 0, run.stdout + run.stderr
    assert lab.stats()["machines"][GUEST]["auth_mechanisms"]["kerberos"] > 0


def test_inventory_plugin_reads_the_hosts_over_kerberos(lab, realm, tmp_path, ansible_playbook):
    del ansible_playbook  # links the collection
    config = tmp_path / "lab.kvp.yml"
    config.write_text(yaml.safe_dump({
        "plugin": "hyperv.avma.kvp",
        "hyperv_hosts": [{"name": HOST, "winrm_host": MACHINES[HOST]["address"], "winrm_port": lab.port(HOST, "https"),
                          "winrm_kerberos_hostname_override": machine_fqdn(HOST)}],
        "winrm_scheme": "https", "winrm_transport": "kerberos", "winrm_user": PRINCIPAL, "winrm_ca_trust_path": str(lab.ca),
    }))
    env = dict(os.environ, **client_env(realm, HYPERV_AVMA_WINRM_PASSWORD=REALM_PASSWORD))
    env.update(ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"), ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_CONFIG", None)
    lab.reset_stats()
    import subprocess  # pylint: disable=import-outside-toplevel
    run = subprocess.run([str(pathlib.Path(sys.executable).parent / "ansible-inventory"), "-i", str(config), "--list"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    hostvars = json.loads(run.stdout)["_meta"]["hostvars"]
    assert {GUEST, LOCKED} <= {name.split(".", 1)[0].lower() for name in hostvars}, hostvars.keys()
    mechanisms = lab.stats()["machines"][HOST]["auth_mechanisms"]
    assert mechanisms["kerberos"] > 0 and sum(mechanisms.values()) == mechanisms["kerberos"], mechanisms


# --------------------------------------------------------------------------------------------------------------
# Failures: one line each, an authentication failure naming the host, the cause and what to do.

def failure_line(run, host):
    """The task's failure message for ``host``: an authentication that never completed leaves the host UNREACHABLE, as
    the winrm connection plugin reports it."""
    assert run.returncode != 0, run.stdout
    # One line normally; with -v and more the result is indented JSON that ends with "}" alone on a line.
    match = re.search(r"^fatal: \[%s\]: UNREACHABLE! => (\{.*?\}$)" % re.escape(host), run.stdout, re.MULTILINE | re.DOTALL)
    assert match, run.stdout + run.stderr
    message = json.loads(match.group(1))["msg"]
    assert "\n" not in message
    assert re.match(r"%s \(127\.0\.61\.\d+:\d+\): \S.*: authentication failed( for user '[^']*')? \(" % host, message), message
    return message


def run_failing(lab, realm, ansible_playbook, tmp_path, host, transport, certificates=None, env=None, arguments=(), **overrides):
    """activation_facts on ``host`` over ``transport`` with ``overrides`` of its variables: (failure message, run)."""
    out_dir = tmp_path / "out"
    out_dir.mkdir(exist_ok=True)
    inventory = write_inventory(tmp_path / "inventory.yml", {host: transport_vars(lab, host, transport, certificates, **overrides)})
    run = ansible_playbook("activation_facts_connection.yml", inventory, *arguments, extra_env=client_env(realm, **(env or {})),
                           extra_vars=dict(target_hosts=host, out_dir=str(out_dir)))
    return failure_line(run, host), run


def test_no_ticket_and_no_password(lab, realm, ansible_playbook, tmp_path):
    message, _run = run_failing(lab, realm, ansible_playbook, tmp_path, GUEST, "kerberos_http", ansible_password=None,
                                env={"KRB5CCNAME": "FILE:%s" % (tmp_path / "no-such-ccache")})
    assert "no Kerberos ticket for this user: run kinit" in message and "password" in message, message


def test_wrong_password_fails_at_kinit(lab, realm, ansible_playbook, tmp_path):
    message, _run = run_failing(lab, realm, ansible_playbook, tmp_path, GUEST, "kerberos_http", ansible_password="Not-The-Passw0rd")
    assert "kinit for %s: wrong password" % PRINCIPAL in message and "Not-The-Passw0rd" not in message, message


def test_unknown_service_principal(lab, realm, ansible_playbook, tmp_path):
    message, _run = run_failing(lab, realm, ansible_playbook, tmp_path, GUEST, "kerberos_http",
                                ansible_winrm_kerberos_hostname_override="nosuch.hvlab.test")
    assert "the KDC has no service principal HTTP/nosuch.hvlab.test: set winrm_kerberos_hostname_override" in message, message


def test_ticket_for_another_machine_is_rejected(lab, realm, ansible_playbook, tmp_path):
    message, _run = run_failing(lab, realm, ansible_playbook, tmp_path, GUEST, "kerberos_http",
                                ansible_winrm_kerberos_hostname_override=machine_fqdn(HOST))
    assert "the server rejected the Kerberos ticket (HTTP 401): check that HTTP/%s is this machine's own" % machine_fqdn(HOST) \
        in message, message


@pytest.mark.needs_commands("faketime")
def test_clock_skew_at_kinit(lab, realm, ansible_playbook, tmp_path):
    skewed = tmp_path / "kinit-skewed"
    skewed.write_text("#!/bin/sh\nexec faketime -f '+2h' kinit \"$@\"\n")
    skewed.chmod(0o755)
    message, _run = run_failing(lab, realm, ansible_playbook, tmp_path, GUEST, "kerberos_http", ansible_winrm_kinit_cmd=str(skewed))
    # MIT kinit corrects its ticket for the KDC's time (kdc_timesync); the skew then shows when the ticket is used.
    assert "clock differs from the" in message and "synchronise the controller's clock (NTP)" in message, message


def test_expired_ticket(lab, realm, ansible_playbook, tmp_path):
    ccache = tmp_path / "ccache"
    realm.kinit(PRINCIPAL, REALM_PASSWORD, ccache, "-l", "2s")
    time.sleep(3)
    message, _run = run_failing(lab, realm, ansible_playbook, tmp_path, GUEST, "kerberos_http", ansible_password=None,
                                env={"KRB5CCNAME": "FILE:%s" % ccache})
    assert "the Kerberos ticket has expired: run kinit again" in message, message


def test_kerberos_switched_off_on_the_server(lab, realm, ansible_playbook, tmp_path):
    message, _run = run_failing(lab, realm, ansible_playbook, tmp_path, LOCKED, "kerberos_http")
    assert "rejected the Kerberos ticket (HTTP 401)" in message and "service/auth" in message, message


def test_client_certificate_not_trusted(lab, realm, ansible_playbook, tmp_path, certificates):
    message, _run = run_failing(lab, realm, ansible_playbook, tmp_path, GUEST, "certificate", certificates, certificate="untrusted")
    assert "the server does not trust the client certificate" in message, message


def test_client_certificate_not_mapped(lab, realm, ansible_playbook, tmp_path, certificates):
    message, _run = run_failing(lab, realm, ansible_playbook, tmp_path, GUEST, "certificate", certificates, certificate="unmapped")
    assert "the server did not map the client certificate to a user (HTTP 401): create a WinRM certificate mapping" in message, message


def test_credssp_refused_by_the_server(lab, realm, ansible_playbook, tmp_path):
    message, _run = run_failing(lab, realm, ansible_playbook, tmp_path, LOCKED, "credssp")
    assert "the server refused CredSSP or the credentials" in message and "Enable-WSManCredSSP -Role Server" in message, message


# --------------------------------------------------------------------------------------------------------------
# No secret at -vvvv.

def test_vvvv_shows_no_password_key_or_ticket(lab, realm, ansible_playbook, tmp_path, certificates):
    key_lines = [line for line in certificates["mapped"][1].read_text().splitlines() if line and not line.startswith("-----")]
    outputs = {}
    for transport in ("kerberos_http", "kerberos_https", "credssp", "certificate"):
        workdir = tmp_path / transport
        workdir.mkdir()
        run, _results = run_modules(lab, realm, ansible_playbook, workdir, transport, certificates, "-vvvv")
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr
        outputs[transport] = run.stdout + run.stderr
    failing = tmp_path / "failing"
    failing.mkdir()
    _message, run = run_failing(lab, realm, ansible_playbook, failing, GUEST, "kerberos_http", arguments=("-vvvv",),
                                ansible_password="Wrong-Passw0rd-Secret")
    outputs["kerberos_http, wrong password"] = run.stdout + run.stderr
    for transport, output in outputs.items():
        for secret in (REALM_PASSWORD, LOCAL_PASSWORD, "Wrong-Passw0rd-Secret", *key_lines):
            assert secret not in output, (transport, secret)
        # SPNEGO/Kerberos/CredSSP tokens, NTLM messages (base64 "TlRMTVNTUA") and Authorization headers.
        assert not re.search(r"(Negotiate|Kerberos|CredSSP) [A-Za-z0-9+/]{20,}", output), transport
        assert "Authorization" not in output and "TlRMTVNTUA" not in output, transport
