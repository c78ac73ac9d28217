# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guest_activation role run by real ansible-playbook against a lab fleet with guests of every published version
and edition, guests that must be refused, and a guest switched from AVMA to a MAK-format key."""

from __future__ import annotations

import datetime
import json
import pathlib
import re

import yaml

from saved_results import saved  # pylint: disable=import-error

FLEET = "guest_activation.yml"
MACHINES = yaml.safe_load((pathlib.Path(__file__).parent / "fleets" / FLEET).read_text())["machines"]
HOSTS = sorted(name for name, machine in MACHINES.items() if machine["kind"] == "host")
INELIGIBLE = {
    "g22eval": ["evaluation edition", "DISM /online /Set-Edition:ServerStandard"],
    "g22ess": ["no AVMA key", "2022 Essentials"],
    "g22on19": ["Windows Server 2022", "hv2019", "cannot activate", "2019"],
    "g22onstd": ["hv2022std", "ServerStandard, not Windows Server Datacenter"],
    "g22onna": ["hv2022na", "not activated"],
    "g22dxoff": ["Data Exchange", "off", "g22dxoff", "hv2022dx"],
}
SWITCH_GUEST = "g22mak"
SWITCH_KEY = "MK7QX-V2HDT-9PRWC-3JYB4-FG6KM"
ELIGIBLE = sorted(name for name, machine in MACHINES.items() if machine["kind"] == "guest" and name not in INELIGIBLE and name != SWITCH_GUEST)
GUESTS = ELIGIBLE + sorted(INELIGIBLE) + [SWITCH_GUEST]
HYPERV_HOST_OF = {name: MACHINES[name]["hyperv_host"] for name in GUESTS}
PASSWORD = "Lab-Passw0rd!"

# Last five characters of the published AVMA keys (avma-facts section 1), by key row and edition column.
PUBLISHED = {
    "2012 R2": {"Datacenter": "DV4TW", "Standard": "MTB6V", "Essentials": "P36R2"},
    "2016": {"Datacenter": "CWG3J", "Standard": "4RHYD", "Essentials": "MHBKQ"},
    "2019": {"Datacenter": "WMBMW", "Standard": "4GF74", "Essentials": "HFV28"},
    "2022": {"Datacenter": "DV9BG", "Standard": "78VHK", "Azure": "VMK3J"},
    "2025": {"Datacenter": "VCH67", "Standard": "9HPQ4", "Azure": "88J4F"},
}
KEY_ROW = {"1709": "2016", "1803": "2016", "1903": "2019", "1909": "2019"}
COLUMN = {"ServerDatacenter": "Datacenter", "ServerDatacenterCore": "Datacenter", "ServerStandard": "Standard",
          "ServerStandardCore": "Standard", "ServerSolution": "Essentials", "ServerTurbine": "Azure", "ServerTurbineCor": "Azure"}
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.MULTILINE)
FATAL = re.compile(r"^fatal: \[([^\]\s]+)(?: -> [^\]]+)?\]: FAILED! => ", re.MULTILINE)


def expected_partial_key(name):
    os_spec = MACHINES[name]["os"]
    return PUBLISHED[KEY_ROW.get(os_spec["version"], os_spec["version"])][COLUMN[os_spec["edition"]]]


def recap(run):
    """{host: {ok, changed, unreachable, failed, skipped}} from the PLAY RECAP."""
    return {match.group(1): dict(zip(("ok", "changed", "unreachable", "failed", "skipped"), map(int, match.groups()[1:])))
            for match in RECAP.finditer(run.stdout)}


def failures(run):
    """{host: msg} of every failed task."""
    found = {}
    for match in FATAL.finditer(run.stdout):
        found[match.group(1)] = json.JSONDecoder().raw_decode(run.stdout[match.end():])[0]["msg"]
    return found


def mentions(event, name):
    """Whether an event's message or insertion strings name the machine (the texts are unconfirmed, so no positions)."""
    text = " ".join([event["message"] or ""] + event["insertion_strings"])
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(name), text, re.IGNORECASE) is not None


def writes(lab):
    return {name: machine["total_writes"] for name, machine in lab.stats()["machines"].items()}


def now_iso():
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)).isoformat()


def verify(ansible_playbook, lab, out_dir, guests, since, event_hosts="hyperv_hosts"):
    run = ansible_playbook("guest_activation_verify.yml", lab.inventory, "-f", "20",
                           extra_vars=dict(target_hosts=",".join(guests), hyperv_host_of=HYPERV_HOST_OF, out_dir=str(out_dir),
                                           since=since, event_hosts=event_hosts))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr
    return saved(out_dir)


def test_fleet_has_every_published_version_and_edition():
    covered = {(KEY_ROW.get(MACHINES[name]["os"]["version"], MACHINES[name]["os"]["version"]), COLUMN[MACHINES[name]["os"]["edition"]])
               for name in ELIGIBLE}
    assert covered == {(row, column) for row, columns in PUBLISHED.items() for column in columns}
    assert {MACHINES[name]["os"]["version"] for name in ELIGIBLE} >= set(KEY_ROW)
    assert {MACHINES[name]["os"]["edition"] for name in ELIGIBLE} == set(COLUMN)


def test_check_mode_then_activation_then_a_run_that_changes_nothing(lab, ansible_playbook, out_dir):
    lab.admin("POST", "/reset")
    targets = ",".join(ELIGIBLE)

    check = ansible_playbook("guest_activation.yml", lab.inventory, "--check", "--diff", "-f", "20", extra_vars=dict(target_hosts=targets))
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr
    assert all(recap(check)[name]["changed"] == 1 for name in ELIGIBLE), recap(check)
    assert lab.stats()["total_writes"] == 0

    since = now_iso()
    first = ansible_playbook("guest_activation.yml", lab.inventory, "-f", "20", extra_vars=dict(target_hosts=targets))
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr
    assert all(recap(first)[name]["changed"] == 1 for name in ELIGIBLE), recap(first)
    for name in ELIGIBLE:
        line = re.search(r'"msg": "(%s: Windows Server .*)"' % re.escape(name), first.stdout).group(1)
        assert "Licensed, key ...%s (AVMA), host hv2025: install the key" % expected_partial_key(name) in line, line
    assert sum(writes(lab)[name] for name in HOSTS) == 0  # the hosts were only read

    seen = verify(ansible_playbook, lab, out_dir, ELIGIBLE, since, event_hosts="hv2025")
    host_events = seen["hv2025"]["events"]
    for name in ELIGIBLE:
        product = seen[name]["facts"]["windows_product"]
        assert product["license_status_name"] == "Licensed", (name, product)
        assert product["is_avma_key"] is True and "VIRTUAL_MACHINE_ACTIVATION" in product["description"]
        assert product["partial_product_key"] == expected_partial_key(name)
        assert product["avma_host_machine_name"] == "HV2025"
        for view in ("guest_items", "host_view"):
            items = seen[name][view]
            assert items["HyperVAvma.LicenseStatus"] == "Licensed", (name, view, items)
            assert items["HyperVAvma.PartialProductKey"] == expected_partial_key(name)
            assert items["HyperVAvma.Channel"] == "AVMA"
        # The runs' AVMA attempts: Event 12309 on the guest, Event 12310 on its host for each.
        guest_events = seen[name]["events"]
        assert guest_events and guest_events[0]["outcome"]["name"] == "success", (name, guest_events)
        assert all(event["event_id"] == 12309 for event in guest_events)
        mine = [event for event in host_events if mentions(event, name)]
        assert len(mine) == len(guest_events), (name, mine, guest_events)
        assert all(event["outcome"]["name"] == "success" for event in mine)

    lab.reset_stats()
    second = ansible_playbook("guest_activation.yml", lab.inventory, "-f", "20", extra_vars=dict(target_hosts=targets))
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr
    assert all(counts["changed"] == 0 for counts in recap(second).values()), recap(second)
    assert lab.stats()["total_writes"] == 0
    assert len(re.findall(r": no change\"", second.stdout)) == len(ELIGIBLE)


def test_ineligible_guests_fail_naming_the_cause_and_nothing_is_written(lab, ansible_playbook):
    lab.admin("POST", "/reset")
    run = ansible_playbook("guest_activation.yml", lab.inventory, "-f", "20", extra_vars=dict(target_hosts=",".join(sorted(INELIGIBLE))))
    assert run.returncode != 0
    assert "Traceback" not in run.stdout + run.stderr
    counts = recap(run)
    messages = failures(run)
    for name, words in INELIGIBLE.items():
        assert counts[name]["failed"] == 1, counts
        message = messages[name]
        assert message.startswith(name) and "\n" not in message
        for word in words:
            assert word in message, (name, message)
    assert lab.stats()["total_writes"] == 0


def test_switching_from_avma_to_a_mak_key_leaves_no_kvp_items_and_never_shows_the_key(lab, ansible_playbook, out_dir):
    lab.admin("POST", "/reset")
    since = now_iso()
    first = ansible_playbook("guest_activation.yml", lab.inventory, extra_vars=dict(target_hosts=SWITCH_GUEST))
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr
    (out_dir / "avma").mkdir()
    seen = verify(ansible_playbook, lab, out_dir / "avma", [SWITCH_GUEST], since, event_hosts="hv2025")
    assert seen[SWITCH_GUEST]["host_view"]["HyperVAvma.Channel"] == "AVMA"
    assert seen[SWITCH_GUEST]["host_view"]["AvmaStatus"] == "Licensed"

    switch = dict(target_hosts=SWITCH_GUEST, guest_activation_product_key=SWITCH_KEY.lower(), guest_activation_stale_kvp_names=["Avma*"])
    run = ansible_playbook("guest_activation.yml", lab.inventory, "-vvvv", "--diff", extra_vars=switch)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr
    output = (run.stdout + run.stderr).upper()
    for secret in (SWITCH_KEY, SWITCH_KEY.replace("-", ""), PASSWORD.upper()):
        assert secret not in output
    assert "XXXXX-XXXXX-XXXXX-XXXXX-FG6KM" in output  # the diff and the report show the masked key
    assert recap(run)[SWITCH_GUEST]["changed"] == 1

    (out_dir / "switched").mkdir()
    after = verify(ansible_playbook, lab, out_dir / "switched", [SWITCH_GUEST], since, event_hosts="hv2025")[SWITCH_GUEST]
    product = after["facts"]["windows_product"]
    assert product["partial_product_key"] == "FG6KM" and product["is_avma_key"] is False
    assert "VOLUME_MAK" in product["description"] and product["license_status_name"] == "Licensed"
    for view in ("guest_items", "host_view"):
        names = sorted(after[view])
        assert not [name for name in names if name.lower().startswith(("hypervavma.", "avma"))], (view, names)
        assert after[view]["VendorAgent"] == "3.2.1"

    again = ansible_playbook("guest_activation.yml", lab.inventory, extra_vars=switch)
    assert again.returncode == 0 and recap(again)[SWITCH_GUEST]["changed"] == 0, again.stdout[-3000:]
