# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The site playbook as AWX / Automation Controller runs it: through ansible-runner (the engine of AWX's jobs), with
the hyperv.avma.kvp inventory plugin as the inventory source of the guests, asserting on the artifacts and job events
AWX reads; and job slicing: the slices of a sliced job each write their hosts' report fragments, a last workflow node
assembles them, and the report is the one an unsliced run writes."""

from __future__ import annotations

import json
import os
import pathlib
import sys

import ansible_runner
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
FLEET = "../../hvlab/fleets/demo.yml"
# The guests of the demo fleet the site playbook cannot activate, and fails (tests/integration/test_demo.py).
REFUSED_GUESTS = {"g19na", "g22std", "g22on19", "g22eval"}
SLICES = 2


@pytest.fixture(autouse=True)
def ansible_on_path(monkeypatch):
    """ansible-runner looks ansible-playbook and ansible-inventory up on the PATH: this venv's, as in an EE."""
    monkeypatch.setenv("PATH", str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))


def runner_inventory(lab, directory):
    """AWX's inventory for the job: the Hyper-V hosts and the guests' WinRM endpoints, as a static source (in AWX, an
    inventory file or a machine credential), and the guests and their groups from the hyperv.avma.kvp plugin (an
    inventory source with a custom credential). Returns the inventory directory."""
    inventory = directory / "inventory"
    inventory.mkdir()
    lab_inventory = yaml.safe_load(lab.inventory.read_text())
    (inventory / "lab.yml").write_text(yaml.safe_dump(lab_inventory))
    hosts = lab_inventory["all"]["children"]["hyperv_hosts"]["hosts"]
    plugin = dict(
        plugin="hyperv.avma.kvp",
        hyperv_hosts=[dict(name=name, winrm_host=variables["ansible_host"], winrm_port=variables["ansible_port"]) for name, variables in hosts.items()],
        winrm_user=next(iter(hosts.values()))["ansible_user"],
        winrm_scheme="http",
        hostname_source="vm_name",
        use_kvp_address=False,
        groups=dict(kvp_guests="true"),
        keyed_groups=[dict(key="hyperv_host", prefix="hyperv_host")],
    )
    (inventory / "guests.kvp.yml").write_text(yaml.safe_dump(plugin))
    return inventory


def host_password(lab):
    return next(variables["ansible_password"] for variables in lab.host_vars.values() if variables["hvlab_kind"] == "host")


def run_job(lab, collections, directory, playbook, extravars, limit=None):
    """One AWX job: ansible-runner with a private data directory of its own, as AWX prepares it."""
    private = directory / "job"
    private.mkdir(parents=True)
    env = dict(
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_FORKS="10",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_INVENTORY_ENABLED="hyperv.avma.kvp,ansible.builtin.yaml",
        # The custom credential type of the inventory source injects the password this way.
        HYPERV_AVMA_WINRM_PASSWORD=host_password(lab),
        PATH=str(pathlib.Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    )
    result = ansible_runner.run(
        private_data_dir=str(private),
        playbook=str(PLAYBOOKS / playbook),
        inventory=str(runner_inventory(lab, directory)),
        extravars=extravars,
        limit=limit,
        envvars=env,
        quiet=True,
        timeout=900,
    )
    return result


def slices(lab):
    """The hosts of each slice, as AWX deals them: every host of the inventory in turn to the next slice."""
    names = sorted(lab.host_vars)
    return [names[index::SLICES] for index in range(SLICES)]


def failed_hosts(result):
    return {event["event_data"]["host"] for event in result.events if event["event"] == "runner_on_failed"
            and not event["event_data"].get("ignore_errors")}


def report_without_time(directory):
    """The report without what follows the clock of its run: when it was made, and where each host's history read
    starts (compliance_report_events_since is a duration before the read)."""
    report = json.loads((directory / "avma-report.json").read_text())
    report.pop("generated_at", None)
    for host in report["hosts"]:
        host.pop("events_since", None)
        host.pop("history_complete_from", None)
    return report


@pytest.fixture(scope="module")
def sliced_workflow(lab, collections_dir, tmp_path_factory):
    """The workflow of the AWX guide: a sliced job of hyperv.avma.site, a sliced job of hyperv.avma.report writing
    fragments, and hyperv.avma.report_assemble; then, for comparison, one unsliced hyperv.avma.report job."""
    lab.admin("POST", "/reset")
    base = tmp_path_factory.mktemp("awx")
    fragments = base / "fragments"
    fragments.mkdir()
    scratch = base / "scratch"
    scratch.mkdir()
    # Node 1 writes its fragments to a scratch directory, so that no slice writes a partial report (the AWX guide).
    site_vars = dict(host_setup_data_exchange=False, avma_guests="kvp_guests", avma_report_fragment_dir=str(scratch))
    site_jobs = [run_job(lab, collections_dir, base / ("site-%d" % index), "site.yml", site_vars, limit=",".join(hosts))
                 for index, hosts in enumerate(slices(lab))]
    report_vars = dict(avma_report_fragment_dir=str(fragments))
    report_jobs = [run_job(lab, collections_dir, base / ("report-%d" % index), "report.yml", report_vars, limit=",".join(hosts))
                   for index, hosts in enumerate(slices(lab))]
    assembled = base / "assembled"
    assemble_job = run_job(lab, collections_dir, base / "assemble", "report_assemble.yml",
                           dict(avma_report_fragment_dir=str(fragments), compliance_report_dir=str(assembled)))
    unsliced = base / "unsliced"
    unsliced_job = run_job(lab, collections_dir, base / "unsliced-job", "report.yml", dict(compliance_report_dir=str(unsliced)))
    return dict(site=site_jobs, report=report_jobs, assemble=assemble_job, unsliced=unsliced_job, fragments=fragments, assembled=assembled,
                unsliced_dir=unsliced)


def test_site_job_through_ansible_runner_with_the_kvp_inventory_source(lab, collections_dir, tmp_path):
    lab.admin("POST", "/reset")
    # The guests of the play are those the plugin found (its group kvp_guests): without it, the job activates nobody.
    site_vars = dict(host_setup_data_exchange=False, avma_guests="kvp_guests", compliance_report_dir=str(tmp_path / "report"))
    result = run_job(lab, collections_dir, tmp_path, "site.yml", site_vars)
    # As AWX reads a finished job: status and rc from the artifacts, the failed hosts from the job events.
    artifacts = pathlib.Path(result.config.artifact_dir)
    assert (artifacts / "status").read_text() == "failed" and (artifacts / "rc").read_text() == "2"
    assert result.status == "failed" and result.rc == 2
    assert failed_hosts(result) == REFUSED_GUESTS
    assert {path.suffix for path in (artifacts / "job_events").iterdir()} == {".json"}
    stats = [event for event in result.events if event["event"] == "playbook_on_stats"]
    assert len(stats) == 1
    assert set(stats[0]["event_data"]["failures"]) == REFUSED_GUESTS
    # The guests the plugin found are the lab's guests, grouped by their Hyper-V host.
    plays = [event["event_data"]["play"] for event in result.events if event["event"] == "playbook_on_play_start"]
    assert plays == ["Prepare the Hyper-V hosts for AVMA", "Activate the Windows Server guests through AVMA",
                     "Fail the guests whose activation failed", "Report AVMA compliance of the Hyper-V fleet",
                     "Fail the Hyper-V hosts whose setup failed, now that the report is written"]
    assert "AVMA compliance: 5 hosts" in result.stdout.read()
    report = json.loads((tmp_path / "report" / "avma-report.json").read_text())
    assert report["summary"]["hosts"] == 5 and report["summary"]["vms"] == 29


def test_kvp_inventory_source_lists_every_guest(lab, collections_dir, tmp_path):
    inventory = runner_inventory(lab, tmp_path)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_dir), HYPERV_AVMA_WINRM_PASSWORD=host_password(lab),
               ANSIBLE_INVENTORY_ENABLED="hyperv.avma.kvp")
    out, err = ansible_runner.get_inventory(action="list", inventories=[str(inventory / "guests.kvp.yml")], response_format="json", envvars=env,
                                            quiet=True)
    guests = {name for name, variables in lab.host_vars.items() if variables.get("hvlab_kind") == "guest"}
    assert set(out.get("kvp_guests", {}).get("hosts", [])) == guests, (sorted(out), err)


def test_each_slice_fails_only_its_own_refused_guests(lab, sliced_workflow):
    for job, hosts in zip(sliced_workflow["site"], slices(lab)):
        assert failed_hosts(job) == REFUSED_GUESTS & set(hosts)
    assert all(job.status == "successful" for job in sliced_workflow["report"])
    assert sliced_workflow["assemble"].status == "successful" and sliced_workflow["unsliced"].status == "successful"


def test_each_slice_writes_only_its_own_hosts_fragments(lab, sliced_workflow):
    hyperv_hosts = {name for name, variables in lab.host_vars.items() if variables.get("hvlab_kind") == "host"}
    assert {path.stem for path in sliced_workflow["fragments"].iterdir()} == hyperv_hosts
    for job, hosts in zip(sliced_workflow["report"], slices(lab)):
        # One task on the controller writes the fragments of the slice's hosts, and no report.
        results = [event["event_data"]["res"] for event in job.events if event["event"] == "runner_on_ok"
                   and event["event_data"]["task"] == "Write the compliance report"]
        assert len(results) == 1 and "files" not in results[0]
        assert {pathlib.Path(path).stem for path in results[0]["fragments"]} == hyperv_hosts & set(hosts)


def test_sliced_report_is_the_unsliced_report(sliced_workflow):
    assembled, unsliced = sliced_workflow["assembled"], sliced_workflow["unsliced_dir"]
    assert report_without_time(assembled) == report_without_time(unsliced)
    assert report_without_time(assembled)["summary"]["hosts"] == 5
    assert (assembled / "avma-report.csv").read_text() == (unsliced / "avma-report.csv").read_text()
