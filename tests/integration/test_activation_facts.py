# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperv.avma.activation_facts run by real ansible-playbook against the lab over real WinRM."""

from __future__ import annotations

import json
import pathlib
import re

import certifi
import pytest
import yaml

from saved_results import saved  # pylint: disable=import-error

FLEET = "activation_facts.yml"
MACHINES = yaml.safe_load((pathlib.Path(__file__).parent / "fleets" / FLEET).read_text())["machines"]
GUESTS = sorted(MACHINES)
LICENSE_STATUS = {"licensed": 1, "unlicensed": 0}
DEFAULT_PASSWORD = "Lab-Passw0rd!"


def expected_facts(name):
    """What activation_facts must report for a machine, read from the fleet file."""
    machine = MACHINES[name]
    os_spec, license_spec = machine["os"], machine["windows_license"]
    expected = dict(os=dict(caption=os_spec["caption"], build=os_spec["build"], sku=os_spec["sku"], edition_id=os_spec["edition"],
                            release=os_spec["version"]))
    if license_spec["channel"] == "none":
        expected["windows_product"] = None
        return expected
    reason = license_spec["status_reason"]
    reason = int(reason, 16) if isinstance(reason, str) else reason
    avma = license_spec["channel"] == "avma"
    status = LICENSE_STATUS[license_spec["status"]]
    expected["windows_product"] = dict(
        partial_product_key=license_spec["partial_product_key"],
        license_status=status,
        license_status_reason="0x%08X" % reason,
        is_avma_key=avma,
        avma_activated=avma and status == 1,
        avma_host_machine_name=license_spec.get("avma_host"),
        avma_last_activation_time=license_spec["last_avma_activation"].replace("Z", "+00:00") if "last_avma_activation" in license_spec else None,
    )
    return expected


def observed_facts(facts):
    """The part of the returned facts that expected_facts describes."""
    observed = dict(os={key: facts["os"][key] for key in ("caption", "build", "sku", "edition_id", "release")})
    product = facts["windows_product"]
    if product is None:
        observed["windows_product"] = None
    else:
        observed["windows_product"] = dict(
            partial_product_key=product["partial_product_key"],
            license_status=product["license_status"],
            license_status_reason=product["license_status_reason"]["hex"],
            is_avma_key=product["is_avma_key"],
            avma_activated=product["avma_activated"],
            avma_host_machine_name=product["avma_host_machine_name"],
            avma_last_activation_time=product["avma_last_activation_time"],
        )
    return observed


def test_fleet_covers_http_ntlm_https_basic_and_three_versions():
    transports = {(MACHINES[name].get("inventory", {}).get("scheme", "http"), MACHINES[name].get("inventory", {}).get("transport", "ntlm"))
                  for name in GUESTS}
    assert {("http", "ntlm"), ("https", "basic")} <= transports
    assert len({MACHINES[name]["os"]["version"] for name in GUESTS}) >= 3


@pytest.mark.parametrize("check_mode", [False, True], ids=["normal", "check_mode"])
def test_facts_through_the_winrm_connection_match_the_fleet(lab, ansible_playbook, out_dir, check_mode):
    lab.reset_stats()
    arguments = ["--check"] if check_mode else []
    run = ansible_playbook("activation_facts_connection.yml", lab.inventory, *arguments,
                           extra_vars=dict(target_hosts="hyperv_guests", out_dir=str(out_dir)))
    assert run.returncode == 0, run.stdout + run.stderr

    facts = saved(out_dir)
    assert sorted(facts) == GUESTS
    for name in GUESTS:
        assert observed_facts(facts[name]) == expected_facts(name), name

    stats = lab.stats()["machines"]
    for name in GUESTS:
        assert stats[name]["total_requests"] <= 2, (name, stats[name])
        assert stats[name]["total_writes"] == 0


def test_facts_with_explicit_options_delegated_to_localhost(lab, ansible_playbook, out_dir):
    http_guests = [name for name in GUESTS if MACHINES[name].get("inventory", {}).get("scheme", "http") == "http"]
    run = ansible_playbook("activation_facts_explicit.yml", lab.inventory,
                           extra_vars=dict(target_hosts=",".join(http_guests), out_dir=str(out_dir)))
    assert run.returncode == 0, run.stdout + run.stderr
    facts = saved(out_dir)
    assert sorted(facts) == sorted(http_guests)
    for name in http_guests:
        assert observed_facts(facts[name]) == expected_facts(name), name


def assert_one_line_failure(run, host, *fragments, secrets=(), status="FAILED"):
    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "Traceback" not in output
    assert "The full traceback" not in output
    for secret in secrets:
        assert secret not in output
    marker = re.search(r"^fatal: \[%s(?: -> [^\]]+)?\]: %s! => " % (re.escape(host), status), run.stdout, re.MULTILINE)
    assert marker, output
    message = json.JSONDecoder().raw_decode(run.stdout[marker.end():])[0]["msg"]
    assert "\n" not in message
    assert message.startswith(host)
    for fragment in fragments:
        assert fragment.lower() in message.lower(), message
    return message


def test_wrong_password_fails_in_one_line_without_the_password(lab, ansible_playbook, out_dir):
    wrong = "Wr0ng-Secret-4711"
    run = ansible_playbook("activation_facts_connection.yml", lab.inventory, "-vvvv", "--limit", "f2022dc",
                           extra_vars=dict(target_hosts="hyperv_guests", out_dir=str(out_dir), ansible_password=wrong))
    assert_one_line_failure(run, "f2022dc", "authentication", secrets=(wrong, DEFAULT_PASSWORD),
                            status="UNREACHABLE")  # the machine never answered


def test_wrong_password_with_explicit_options(lab, ansible_playbook, out_dir):
    wrong = "Wr0ng-Secret-0815"
    run = ansible_playbook("activation_facts_explicit.yml", lab.inventory, "-vvvv", "--limit", "f2016dc",
                           extra_vars=dict(target_hosts="hyperv_guests", out_dir=str(out_dir), ansible_password=wrong))
    assert_one_line_failure(run, "f2016dc", "authentication", secrets=(wrong, DEFAULT_PASSWORD),
                            status="UNREACHABLE")  # the machine never answered


def test_untrusted_certificate_is_refused(lab, ansible_playbook, out_dir):
    run = ansible_playbook("activation_facts_connection.yml", lab.inventory, "-vvvv", "--limit", "f2025az",
                           extra_vars=dict(target_hosts="hyperv_guests", out_dir=str(out_dir), ansible_winrm_ca_trust_path=certifi.where()))
    assert_one_line_failure(run, "f2025az", "certificate", secrets=(DEFAULT_PASSWORD,),
                            status="UNREACHABLE")  # the machine never answered


def test_unreachable_address_names_the_host(lab, ansible_playbook, out_dir):
    run = ansible_playbook("activation_facts_connection.yml", lab.inventory, "-vvvv", "--limit", "f2019std",
                           extra_vars=dict(target_hosts="hyperv_guests", out_dir=str(out_dir), ansible_host="127.0.20.250"))
    assert_one_line_failure(run, "f2019std", "127.0.20.250", secrets=(DEFAULT_PASSWORD,),
                            status="UNREACHABLE")  # the machine never answered
