# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperv.avma.site and hyperv.avma.report keep going when Hyper-V hosts fail: one host refuses every request (the
lab's fault injection), another is unreachable (nothing listens where the inventory points). The report is written
and names both with their reason, the other host and its guest are done, and the play recap names the failed hosts."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLEET = "site_failures.yml"
GONE = "sfgone"


def recap(run):
    return {name: {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", counts)}
            for name, counts in re.findall(r"^(\S+)\s+: (ok=.*)$", run.stdout, re.MULTILINE)}


@pytest.fixture(scope="module")
def failing_fleet(lab, tmp_path_factory):
    """The lab's inventory plus sfgone (an address where nothing listens), with sfbad refusing every request."""
    inventory = yaml.safe_load(lab.inventory.read_text())
    hosts_group = inventory["all"]["children"]["hyperv_hosts"]["hosts"]
    hosts_group[GONE] = dict(hosts_group["sfhv"], ansible_host="127.0.34.3")
    path = tmp_path_factory.mktemp("inventory") / "inventory.yml"
    path.write_text(yaml.safe_dump(inventory))
    lab.admin("POST", "/faults", dict(machine="sfbad", kind="http500"))
    return path


def _run(playbook_runner, tmp_path_factory, failing_fleet, playbook, **extra_vars):
    report_dir = tmp_path_factory.mktemp("report")
    run = playbook_runner(tmp_path_factory.mktemp("run"), ROOT / "playbooks" / playbook, failing_fleet,
                          extra_vars=dict(extra_vars, compliance_report_dir=str(report_dir)))
    return run, report_dir


@pytest.fixture(scope="module")
def site(playbook_runner, tmp_path_factory, failing_fleet):
    return _run(playbook_runner, tmp_path_factory, failing_fleet, "site.yml")


@pytest.fixture(scope="module")
def report(playbook_runner, tmp_path_factory, failing_fleet, site):
    return _run(playbook_runner, tmp_path_factory, failing_fleet, "report.yml")


def _failed_or_unreachable(counts):
    return counts["failed"] + counts["unreachable"] > 0


@pytest.mark.parametrize("which", ["site", "report"])
def test_the_report_is_written_and_names_both_failed_hosts(which, site, report):
    run, report_dir = dict(site=site, report=report)[which]
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
def test_the_recap_names_the_failed_hosts_and_nothing_else(which, site, report):
    run = dict(site=site, report=report)[which][0]
    counts = recap(run)
    assert _failed_or_unreachable(counts["sfbad"]) and _failed_or_unreachable(counts[GONE]), run.stdout[-4000:]
    assert counts["sfhv"]["failed"] == 0 and counts["sfhv"]["unreachable"] == 0
    for spurious in ("'item' is undefined", "HostVarsVars", "Traceback"):
        assert spurious not in run.stdout + run.stderr


def test_guests_still_run(site):
    run, report_dir = site
    counts = recap(run)
    assert counts["sfg1"]["failed"] == 0 and counts["sfg1"]["changed"] > 0, run.stdout[-4000:]
    assert counts["sfg2"]["failed"] == 1
    assert re.search(r"sfg2: activation failed: .*sfbad", run.stdout), run.stdout[-4000:]
    data = json.loads((report_dir / "avma-report.json").read_text())
    assert data["hosts"][2]["vms"][0]["compliance"] == "compliant"
