# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperv.avma.product_key run by real ansible-playbook against the lab over real WinRM."""

from __future__ import annotations

import datetime
import json
import re

import pytest

from saved_results import saved  # pylint: disable=import-error

FLEET = "product_key.yml"
MAK = "MK7QX-V2HDT-9PRWC-3JYB4-FG6KM"
PASSWORD = "Lab-Passw0rd!"
FATAL = re.compile(r"^fatal: \[([^\]\s]+)(?: -> [^\]]+)?\]: FAILED! => ", re.MULTILINE)


@pytest.fixture()
def results_dir(tmp_path):
    directory = tmp_path / "results"
    directory.mkdir()
    return directory


def results(directory):
    return {path.stem: json.loads(path.read_text()) for path in directory.glob("*.json")}


def failure(run, host):
    """The msg of the host's failed task; the output must hold no traceback."""
    assert run.returncode != 0
    assert "Traceback" not in run.stdout + run.stderr
    for match in FATAL.finditer(run.stdout):
        if match.group(1) == host:
            message = json.JSONDecoder().raw_decode(run.stdout[match.end():])[0]["msg"]
            assert "\n" not in message and message.startswith(host)
            return message
    raise AssertionError("no failure of %s in:\n%s" % (host, run.stdout[-3000:]))


def machine_stats(lab, name):
    return lab.stats()["machines"][name]


def test_check_mode_then_install_with_explicit_options_then_nothing_to_do(lab, ansible_playbook, results_dir):
    lab.admin("POST", "/reset")
    check = ansible_playbook("product_key.yml", lab.inventory, "--check", "--diff", extra_vars=dict(target_hosts="pk19std", results_dir=str(results_dir)))
    assert check.returncode == 0, check.stdout + check.stderr
    planned = results(results_dir)["pk19std"]
    assert planned["changed"] is True
    assert planned["actions"] == ["install the key XXXXX-XXXXX-XXXXX-XXXXX-4GF74 (AVMA)", "activate Windows"]
    assert '+    "product_key": "XXXXX-XXXXX-XXXXX-XXXXX-4GF74"' in check.stdout
    assert machine_stats(lab, "pk19std")["total_writes"] == 0

    run = ansible_playbook("product_key_explicit.yml", lab.inventory, extra_vars=dict(target_hosts="pk19std", results_dir=str(results_dir)))
    assert run.returncode == 0, run.stdout + run.stderr
    done = results(results_dir)["pk19std"]
    # key: avma is a keyword, not a secret: nothing in the result is masked because of it.
    assert done["after"] == dict(partial_product_key="4GF74", channel=done["after"]["channel"], description_channel="VIRTUAL_MACHINE_ACTIVATION",
                                 license_status="Licensed", license_status_reason="0x00000000", is_avma=True)
    assert done["os"]["release"] == "2019" and done["os"]["edition_id"] == "ServerStandard"
    assert done["hyperv_host"]["physical_host_name"].lower() == "pkhv"
    assert machine_stats(lab, "pk19std")["total_writes"] > 0

    lab.reset_stats()
    again = ansible_playbook("product_key_explicit.yml", lab.inventory, extra_vars=dict(target_hosts="pk19std", results_dir=str(results_dir)))
    assert again.returncode == 0
    assert results(results_dir)["pk19std"]["changed"] is False
    assert machine_stats(lab, "pk19std")["total_writes"] == 0


@pytest.mark.parametrize("guest, fragments", [
    ("pk22na", ["0xC004FD02", "the Hyper-V host is not activated", "latest Event 12309", "Activation Denied",
                "next step: activate the Hyper-V host, then activate the guest again"]),
    ("pk22dx", ["0xC004FD04", "not bound to a host", "Invalid Host", "next step: check that Data Exchange is enabled"]),
])
def test_failed_activation_says_why_and_what_to_do(lab, ansible_playbook, results_dir, guest, fragments):
    lab.admin("POST", "/reset")
    run = ansible_playbook("product_key.yml", lab.inventory, extra_vars=dict(target_hosts=guest, results_dir=str(results_dir)))
    message = failure(run, guest)
    assert "product_key: activation failed: " in message
    for fragment in fragments:
        assert fragment in message, message


def test_invalid_key_is_refused_before_any_request_and_not_shown(lab, ansible_playbook, results_dir):
    lab.admin("POST", "/reset")
    bad = "MK7QX-V2HDT-9PRWC-3JYB4-FG6K0"
    run = ansible_playbook("product_key.yml", lab.inventory, "-vvvv", extra_vars=dict(target_hosts="pk19std", results_dir=str(results_dir), pk_key=bad))
    message = failure(run, "pk19std")
    assert "not five groups of five characters" in message
    assert bad not in run.stdout + run.stderr
    assert machine_stats(lab, "pk19std")["total_requests"] == 0


def test_evaluation_edition_is_refused_before_any_write(lab, ansible_playbook, results_dir):
    lab.admin("POST", "/reset")
    run = ansible_playbook("product_key.yml", lab.inventory, extra_vars=dict(target_hosts="pk22eval", results_dir=str(results_dir)))
    message = failure(run, "pk22eval")
    assert "evaluation edition" in message and "DISM /online /Set-Edition:ServerStandard" in message
    assert machine_stats(lab, "pk22eval")["total_writes"] == 0


def test_switch_to_a_mak_key_cleans_kvp_then_absent_removes_it(lab, ansible_playbook, results_dir):
    lab.admin("POST", "/reset")
    switch = dict(target_hosts="pk22mak", results_dir=str(results_dir), pk_key=MAK, pk_stale_kvp_names=["legacy*"])
    run = ansible_playbook("product_key.yml", lab.inventory, "-vvvv", "--diff", extra_vars=switch)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    output = run.stdout + run.stderr
    for secret in (MAK, MAK.replace("-", ""), PASSWORD):
        assert secret not in output
    result = results(results_dir)["pk22mak"]
    assert result["before"]["is_avma"] is True and result["after"]["is_avma"] is False
    assert result["after"]["partial_product_key"] == "FG6KM" and result["after"]["license_status"] == "Licensed"
    assert result["kvp"] == dict(removed=["HyperVAvma.Channel", "HyperVAvma.LicenseStatus", "LegacyAvmaState"], published=[])
    assert '-        "LegacyAvmaState": "done"' in run.stdout

    again = ansible_playbook("product_key.yml", lab.inventory, extra_vars=switch)
    assert again.returncode == 0 and results(results_dir)["pk22mak"]["changed"] is False

    lab.reset_stats()
    absent = ansible_playbook("product_key.yml", lab.inventory, extra_vars=dict(switch, pk_state="absent"))
    assert absent.returncode == 0, absent.stdout[-3000:]
    removed = results(results_dir)["pk22mak"]
    assert removed["actions"] == ["uninstall the key XXXXX-XXXXX-XXXXX-XXXXX-FG6KM and clear it from the registry"]
    assert removed["after"]["partial_product_key"] is None
    assert machine_stats(lab, "pk22mak")["total_writes"] > 0

    lab.reset_stats()
    gone = ansible_playbook("product_key.yml", lab.inventory, extra_vars=dict(switch, pk_state="absent"))
    assert gone.returncode == 0 and results(results_dir)["pk22mak"]["changed"] is False
    assert machine_stats(lab, "pk22mak")["total_writes"] == 0


def test_avma_key_on_a_hyperv_host_is_refused_before_any_write(lab, ansible_playbook, results_dir):
    lab.admin("POST", "/reset")
    lab.reset_stats()
    run = ansible_playbook("product_key.yml", lab.inventory, extra_vars=dict(target_hosts="pkhv", results_dir=str(results_dir)))
    message = failure(run, "pkhv")
    assert "not a Hyper-V virtual machine" in message and "nothing was changed" in message
    assert machine_stats(lab, "pkhv")["total_writes"] == 0


def test_a_licensed_mak_key_is_kept_unless_replace_key_always(lab, ansible_playbook, results_dir, tmp_path):
    lab.admin("POST", "/reset")
    to_mak = dict(target_hosts="pk22mak", results_dir=str(results_dir), pk_key=MAK, pk_clean_stale_kvp=False)
    assert ansible_playbook("product_key.yml", lab.inventory, extra_vars=to_mak).returncode == 0
    # Now a guest licensed with a MAK key that still publishes the AVMA items of its former key.
    lab.reset_stats()
    avma = dict(target_hosts="pk22mak", results_dir=str(results_dir), pk_publish_kvp=True)
    for arguments in (("--check",), ()):
        kept_run = ansible_playbook("product_key.yml", lab.inventory, *arguments, extra_vars=avma)
        assert kept_run.returncode == 0, kept_run.stdout[-3000:]
        kept = results(results_dir)["pk22mak"]
        assert kept["changed"] is False and kept["actions"] == []
        assert kept["kept"] == dict(partial_product_key="FG6KM", channel="VOLUME_MAK", license_status="Licensed",
                                    reason="a Licensed non-AVMA key is kept unless replace_key=always")
    assert machine_stats(lab, "pk22mak")["total_writes"] == 0

    since = now_iso()
    switched_run = ansible_playbook("product_key.yml", lab.inventory, extra_vars=dict(avma, pk_replace_key="always"))
    assert switched_run.returncode == 0, switched_run.stdout[-3000:]
    switched = results(results_dir)["pk22mak"]
    assert switched["before"]["partial_product_key"] == "FG6KM" and switched["after"]["is_avma"] is True
    assert switched["after"]["license_status"] == "Licensed" and switched["kept"] is None
    # The items left from the former AVMA key are brought up to the new key (only values that differ are written).
    assert "HyperVAvma.PartialProductKey" in switched["kvp"]["published"] and switched["kvp"]["removed"] == []
    assert_published_avma_status(read_back(lab, ansible_playbook, tmp_path, "pk22mak", since)["pk22mak"], host="PKHV", since=since)


def now_iso():
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)).isoformat()


def read_back(lab, ansible_playbook, tmp_path, guest, since):
    """What the guest and its host say now (guest_activation_verify.yml): facts, the guest's KVP registry and the
    VM's items as the host pkhv sees them."""
    out_dir = tmp_path / ("read-%s" % len(list(tmp_path.glob("read-*"))))
    out_dir.mkdir()
    run = ansible_playbook("guest_activation_verify.yml", lab.inventory, extra_vars=dict(
        target_hosts=guest, hyperv_host_of={guest: "pkhv"}, out_dir=str(out_dir), since=since, event_hosts="pkhv"))
    assert run.returncode == 0, run.stdout[-3000:]
    return saved(out_dir)


def assert_published_avma_status(seen, *, host, since):
    """The HyperVAvma.* items, in the guest and as its host sees them, describe the AVMA key it holds now."""
    product = seen["facts"]["windows_product"]
    assert product["is_avma_key"] is True and product["license_status_name"] == "Licensed" and product["partial_product_key"] == "DV9BG"
    expected = dict(Channel="AVMA", LicenseStatus="Licensed", PartialProductKey="DV9BG", HostMachineName=host, Release="2022",
                    Edition="ServerDatacenter", LicenseStatusReason="0x00000000")
    for view in ("guest_items", "host_view"):
        items = seen[view]
        assert {name: items.get("HyperVAvma." + name) for name in expected} == expected, (view, items)
        activated = datetime.datetime.fromisoformat(items["HyperVAvma.LastActivationTime"])
        assert activated >= datetime.datetime.fromisoformat(since), (view, items)


GUEST_LINE = re.compile(r'"msg": "(pk22kept: Windows Server [^"]*)"')


def test_guest_activation_keeps_a_licensed_mak_guest_or_switches_it_when_told(lab, ansible_playbook, tmp_path):
    lab.admin("POST", "/reset")
    lab.reset_stats()
    for arguments in (("--check",), ()):
        kept = ansible_playbook("guest_activation.yml", lab.inventory, *arguments, extra_vars=dict(target_hosts="pk22kept"))
        assert kept.returncode == 0, kept.stdout[-3000:]
        assert re.search(r"^pk22kept\s+: ok=\d+\s+changed=0\s", kept.stdout, re.MULTILINE), kept.stdout[-1500:]
        line = GUEST_LINE.search(kept.stdout).group(1)
        assert re.fullmatch(r"pk22kept: Windows Server 2022 ServerDatacenter, Licensed, key \.\.\.(\w{5}) \(VOLUME_MAK\), host not checked, "
                            r"nothing to activate: no change \(kept the VOLUME_MAK key \.\.\.\1: a Licensed non-AVMA key is kept "
                            r"unless replace_key=always\)", line), line
    # Nothing written: not the key, not the stale items (a kept licence is left exactly as it is), not the host.
    assert machine_stats(lab, "pk22kept")["total_writes"] == 0 and machine_stats(lab, "pkhv")["total_writes"] == 0

    since = now_iso()
    switched = ansible_playbook("guest_activation.yml", lab.inventory, extra_vars=dict(target_hosts="pk22kept", guest_activation_replace_key="always"))
    assert switched.returncode == 0, switched.stdout[-3000:]
    line = GUEST_LINE.search(switched.stdout).group(1)
    assert line.startswith("pk22kept: Windows Server 2022 ServerDatacenter, Licensed, key ...DV9BG (AVMA), host pkhv: "
                           "install the key XXXXX-XXXXX-XXXXX-XXXXX-DV9BG (AVMA); publish the guest KVP items "), line
    seen = read_back(lab, ansible_playbook, tmp_path, "pk22kept", since)["pk22kept"]
    assert_published_avma_status(seen, host="PKHV", since=since)
    assert seen["guest_items"]["VendorAgent"] == seen["host_view"]["VendorAgent"] == "3.2.1"
