# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperv.avma.site and hyperv.avma.report keep going when Hyper-V hosts fail: one host refuses every request (the
lab's fault injection), another is unreachable (nothing listens where the inventory points), and so is one guest. The
report is written and names both hosts with their reason, the other host and its guest are done, the play recap says
UNREACHABLE for the machines that never answered and FAILED for the one that refused, and no other failure shows
anywhere in the output. Then every host fails host setup: the play goes on all the same and the report names them
all."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLEET = "site_failures.yml"
GONE = "sfgone"
GONE_GUEST = "sfgoneg"
# A failure line of Ansible's output: "fatal: [host]: FAILED! => {...}", "fatal: [guest -> host(address)]:
# UNREACHABLE! => {...}" or, for a loop item, "failed: [host] (item=...) => {...}".
FAILURE_LINE = re.compile(r"^(?P<kind>fatal|failed): \[(?P<host>[^\]]+)\](?: \(item=.*?\))?: (?:(?P<status>FAILED|UNREACHABLE)! )?=> (?P<result>\{.*\})$")


def refused(host):
    """What a host that answers every request with a fault makes a read of it fail with."""
    return ("FAILED", r"^%s \(127\.0\.34\.\d+:\d+\): Enumerate \w+: WS-Man fault 2147749889 " % host)


UNREACHABLE = ("UNREACHABLE", r"^sfgone \(127\.0\.34\.3:\d+\): Enumerate \w+: connection to http://127\.0\.34\.3:\d+/wsman refused$")
GUEST_UNREACHABLE = ("UNREACHABLE", r"^sfgoneg \(127\.0\.34\.4:\d+\): Enumerate \w+: connection to http://127\.0\.34\.4:\d+/wsman refused$")


def report_failure(host):
    return ("FAILED", r"^%s: the compliance report could not read this host: %s \(127\.0\.34\.\d+:\d+\): Enumerate " % (host, host))


def activation_failure(guest, host):
    return ("FAILED", r"^%s: activation failed: %s \(127\.0\.34\.\d+:\d+\): Enumerate \w+: WS-Man fault 2147749889 " % (guest, host))


def recap(run):
    return {name: {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", counts)}
            for name, counts in re.findall(r"^(\S+)\s+: (ok=.*)$", run.stdout, re.MULTILINE)}


def failure_lines(run):
    """Every failure line of the output as (host, FAILED or UNREACHABLE, message)."""
    lines = []
    for line in run.stdout.splitlines():
        if not line.startswith(("fatal:", "failed:")):
            continue
        match = FAILURE_LINE.match(line)
        assert match, "a failure line of unknown shape: %s" % line
        status = match.group("status") or "FAILED"
        lines.append((match.group("host").split(" -> ")[0], status, json.loads(match.group("result")).get("msg", "")))
    return lines


def assert_only_expected_failures(run, expected):
    """Every failure line is one of ``expected`` ({host: [(status, message pattern), ...]}) and each expected failure
    shows at least once: no spurious failure (a template error, a missing variable) anywhere."""
    seen = set()
    for host, status, message in failure_lines(run):
        matches = [(status_, pattern) for status_, pattern in expected.get(host, []) if status_ == status and re.search(pattern, message)]
        assert matches, "unexpected failure of %s: %s %s" % (host, status, message)
        seen.update((host, entry) for entry in matches)
    missing = [(host, entry) for host, entries in expected.items() for entry in entries if (host, entry) not in seen]
    assert not missing, missing
    for spurious in ("'item' is undefined", "HostVarsVars", "Traceback", "has no attribute", "expression failed", "is undefined"):
        assert spurious not in run.stdout + run.stderr, spurious


@pytest.fixture(scope="module")
def failing_inventory(lab, tmp_path_factory):
    """The lab's inventory plus a host and a guest at addresses where nothing listens (sfgone, sfgoneg)."""
    inventory = yaml.safe_load(lab.inventory.read_text())
    hosts_group = inventory["all"]["children"]["hyperv_hosts"]["hosts"]
    hosts_group[GONE] = dict(hosts_group["sfhv"], ansible_host="127.0.34.3")
    guests_group = inventory["all"]["children"]["hyperv_guests"]["hosts"]
    guests_group[GONE_GUEST] = dict(guests_group["sfg1"], ansible_host="127.0.34.4")
    path = tmp_path_factory.mktemp("inventory") / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory))
    return path


def _run(playbook_runner, tmp_path_factory, inventory, playbook, **extra_vars):
    report_dir = tmp_path_factory.mktemp("report")
    run = playbook_runner(tmp_path_factory.mktemp("run"), ROOT / "playbooks" / playbook, inventory,
                          extra_vars=dict(extra_vars, compliance_report_dir=str(report_dir)))
    return run, report_dir


@pytest.fixture(scope="module")
def site_and_report(lab, playbook_runner, tmp_path_factory, failing_inventory):
    """site.yml, then report.yml, while sfbad refuses every request."""
    lab.admin("POST", "/reset")
    lab.admin("POST", "/faults", dict(machine="sfbad", kind="http500"))
    site = _run(playbook_runner, tmp_path_factory, failing_inventory, "site.yml")
    report = _run(playbook_runner, tmp_path_factory, failing_inventory, "report.yml")
    lab.admin("DELETE", "/faults")
    return dict(site=site, report=report)


@pytest.mark.parametrize("which", ["site", "report"])
def test_the_report_is_written_and_names_both_failed_hosts(which, site_and_report):
    _run_, report_dir = site_and_report[which]
    data = json.loads((report_dir / "avma-report.json").read_text())
    assert data["scope"]["hosts_asked"] == ["sfbad", GONE, "sfhv"]
    assert data["scope"]["hosts_read"] == ["sfhv"] and data["scope"]["hosts_failed"] == ["sfbad", GONE]
    unreachable = {problem["host"]: problem["message"] for problem in data["problems"] if problem["code"] == "host_unreachable"}
    assert set(unreachable) == {"sfbad", GONE}
    assert "sfbad" in unreachable["sfbad"] and "127.0.34.3" in unreachable[GONE], unreachable
    html = (report_dir / "avma-report.html").read_text()
    assert "Hosts failed</dt><dd>2: sfbad, sfgone" in html
    assert [vm["name"] for host in data["hosts"] for vm in host["vms"]] == ["sfg1"]


@pytest.mark.parametrize("which", ["site", "report"])
def test_the_recap_says_unreachable_and_failed_and_nothing_else_fails(which, site_and_report):
    run = site_and_report[which][0]
    counts = recap(run)
    assert (counts[GONE]["unreachable"], counts[GONE]["failed"]) == (1, 0), run.stdout[-4000:]
    assert (counts["sfbad"]["unreachable"], counts["sfbad"]["failed"]) == (0, 1), run.stdout[-4000:]
    assert (counts["sfhv"]["unreachable"], counts["sfhv"]["failed"]) == (0, 0)
    expected = {"sfbad": [refused("sfbad"), report_failure("sfbad")], GONE: [UNREACHABLE]}
    if which == "site":
        # sfg2's host check reads sfbad; the last play fails sfg2 with that cause.
        expected["sfg2"] = [refused("sfbad"), activation_failure("sfg2", "sfbad")]
        expected[GONE_GUEST] = [GUEST_UNREACHABLE]
        assert (counts["sfg1"]["failed"], counts["sfg2"]["failed"]) == (0, 1)
        assert (counts[GONE_GUEST]["unreachable"], counts[GONE_GUEST]["failed"]) == (1, 0), run.stdout[-4000:]
    assert_only_expected_failures(run, expected)


def test_guests_still_run(site_and_report):
    run, report_dir = site_and_report["site"]
    counts = recap(run)
    assert counts["sfg1"]["failed"] == 0 and counts["sfg1"]["changed"] > 0, run.stdout[-4000:]
    data = json.loads((report_dir / "avma-report.json").read_text())
    assert data["hosts"][2]["vms"][0]["compliance"] == "compliant"


def test_when_every_host_fails_host_setup_the_play_goes_on_and_the_report_names_them_all(lab, playbook_runner, tmp_path_factory,
                                                                                         failing_inventory, site_and_report):
    lab.admin("POST", "/reset")
    for host in ("sfbad", "sfhv"):
        lab.admin("POST", "/faults", dict(machine=host, kind="http500"))
    run, report_dir = _run(playbook_runner, tmp_path_factory, failing_inventory, "site.yml")
    lab.admin("DELETE", "/faults")
    data = json.loads((report_dir / "avma-report.json").read_text())
    assert data["scope"]["hosts_read"] == [] and data["scope"]["hosts_failed"] == ["sfbad", GONE, "sfhv"]
    assert sorted(problem["host"] for problem in data["problems"] if problem["code"] == "host_unreachable") == ["sfbad", GONE, "sfhv"]
    counts = recap(run)
    for machine in (GONE, GONE_GUEST):
        assert (counts[machine]["unreachable"], counts[machine]["failed"]) == (1, 0), run.stdout[-4000:]
    for host in ("sfbad", "sfhv", "sfg1", "sfg2"):
        assert (counts[host]["unreachable"], counts[host]["failed"]) == (0, 1), (host, run.stdout[-4000:])
    # The guests ran: their host checks asked the refusing hosts.
    assert_only_expected_failures(run, {
        "sfbad": [refused("sfbad"), report_failure("sfbad")],
        "sfhv": [refused("sfhv"), report_failure("sfhv")],
        GONE: [UNREACHABLE],
        GONE_GUEST: [GUEST_UNREACHABLE],
        "sfg1": [refused("sfhv"), activation_failure("sfg1", "sfhv")],
        "sfg2": [refused("sfbad"), activation_failure("sfg2", "sfbad")],
    })
