# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperv.avma.compliance_report_files: the report built and written on the controller in one step, from what the
hosts registered, or from a sliced job's fragments."""

from __future__ import annotations

import datetime
import json
import os
import types

import pytest

from ansible_collections.hyperv.avma.plugins.action.compliance_report_files import ActionModule

READY = dict(host=dict(name="HV1", os=dict(release="2022", edition_id="ServerDatacenter"), is_datacenter=True, activated=True,
                       hyperv_installed=True),
             can_activate_releases=["2022", "2019", "2016", "2012 R2"], problems=[], ready=True)


def vm(name, *, data_exchange=True):
    return dict(name=name, id=name.upper() + "-ID", state="running", data_exchange=dict(enabled=data_exchange), issues=[], guest_items={},
                intrinsic_facts=dict(fqdn=name + ".corp.example", os_release="2022", os_edition_id="ServerDatacenter"))


def host_read(*vms, events=()):
    """What host_compliance_info registers for a host that answered."""
    return dict(changed=False, host_info=READY, kvp=dict(host_name="HV1", vms=list(vms), missing_vms=[], owned_elsewhere=[]),
                events=dict(events=list(events), count=len(events), since="2026-09-03T12:00:00+00:00", limited=False))


def request(name, time):
    return dict(event_id=12310, time_generated=time, record_number=1, insertion_strings=[name], truncated=False,
                outcome=dict(name="success", text="AVMA Success", meaning="the Hyper-V host activated the guest", success=True))


def run(args, check_mode=False):
    task = types.SimpleNamespace(args=args, action="hyperv.avma.compliance_report_files", check_mode=check_mode, async_val=0)
    connection = types.SimpleNamespace(_shell=types.SimpleNamespace(tmpdir="unused"))
    return ActionModule(task, connection, None, None, None, None).run(task_vars={})


def fleet():
    """Three hosts: one that answered (a VM with a recent AVMA request, one without), one that did not answer, and one
    that failed earlier in the run (nothing registered)."""
    recent = request("web", _days_ago(2))
    return [dict(name="hv1", result=host_read(vm("web"), vm("db"), events=[recent]), guests={}),
            dict(name="hv2", result=dict(unreachable=True, changed=False, msg="hv2: connection to http://hv2:5985/wsman refused")),
            dict(name="hv3")]


def _days_ago(days):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return moment.replace(microsecond=0).isoformat()


def test_the_report_of_every_host_is_written_in_one_step(tmp_path):
    result = run(dict(hosts=fleet(), dest=str(tmp_path / "report")))
    assert result.get("failed") is not True, result
    names = ["avma-report.json", "avma-report.csv", "avma-usage.csv", "avma-report.html"]
    assert result["files"] == [str(tmp_path / "report" / name) for name in names] and result["changed"] is True
    assert sorted(os.listdir(tmp_path / "report")) == sorted(names)
    report = json.loads((tmp_path / "report" / "avma-report.json").read_text())
    expected = dict(hosts=3, hosts_failed=2, hosts_not_ready=2, vms=2, compliant_vms=1, non_compliant_vms=0, unknown_vms=1, problems=2)
    assert report["summary"] == result["summary"] == expected
    errors = {entry["name"]: entry["problems"][0]["message"] for entry in report["hosts"] if not entry["read"]}
    assert errors == {"hv2": "the Hyper-V host could not be read: no answer: hv2: connection to http://hv2:5985/wsman refused",
                      "hv3": "the Hyper-V host could not be read: the host failed earlier in this run (see the play recap)"}
    assert {vm["name"]: vm["compliance"] for vm in report["hosts"][0]["vms"]} == dict(web="compliant", db="unknown")
    # The task's result carries what a play prints and decides on, not the whole report.
    assert "hosts" not in result and result["scope"]["hosts_failed"] == ["hv2", "hv3"]
    assert [problem["code"] for problem in result["problems"]] == ["host_unreachable", "host_unreachable"]
    assert oct(os.stat(tmp_path / "report" / "avma-report.html").st_mode & 0o777) == "0o644"


def test_check_mode_builds_the_report_and_writes_nothing(tmp_path):
    result = run(dict(hosts=fleet(), dest=str(tmp_path / "report")), check_mode=True)
    assert result["changed"] is True and result["summary"]["vms"] == 2
    assert not (tmp_path / "report").exists()


def test_formats_choose_the_files(tmp_path):
    result = run(dict(hosts=fleet(), dest=str(tmp_path), formats=["html"]))
    assert result["files"] == [str(tmp_path / "avma-report.html")] and os.listdir(tmp_path) == ["avma-report.html"]


def test_the_fragments_of_a_sliced_job_make_the_same_report(tmp_path):
    hosts = fleet()
    first = run(dict(hosts=hosts[:1], fragment_dir=str(tmp_path / "fragments")))
    second = run(dict(hosts=hosts[1:], fragment_dir=str(tmp_path / "fragments")))
    assert "files" not in first and [os.path.basename(path) for path in first["fragments"] + second["fragments"]] == [
        "hv1.json", "hv2.json", "hv3.json"]
    assert oct(os.stat(first["fragments"][0]).st_mode & 0o777) == "0o600"
    assembled = run(dict(fragment_dir=str(tmp_path / "fragments"), dest=str(tmp_path / "assembled")))
    direct = run(dict(hosts=hosts, dest=str(tmp_path / "direct")))
    assert assembled["summary"] == direct["summary"] and assembled["problems"] == direct["problems"]

    def without_time(directory):
        report = json.loads((tmp_path / directory / "avma-report.json").read_text())
        del report["generated_at"]
        return report
    assert without_time("assembled") == without_time("direct")


def test_a_host_name_that_is_no_plain_file_name_gets_a_fragment_all_the_same(tmp_path):
    result = run(dict(hosts=[dict(name="../hv 1/x", result=None)], fragment_dir=str(tmp_path)))
    assert [os.path.dirname(path) for path in result["fragments"]] == [str(tmp_path)]
    assert os.path.basename(result["fragments"][0]) == "x-" + "../hv 1/x".encode().hex() + ".json"


@pytest.mark.parametrize("args, message", [
    (dict(dest="/tmp/x"), "one of the following is required: hosts, fragment_dir"),
    (dict(hosts=[]), "dest is required to write the report"),
    (dict(hosts=[], dest="/tmp/x", formats=["pdf"]), "formats"),
    (dict(hosts=[dict(result={})], dest="/tmp/x"), "name"),
    (dict(hosts=[dict(name="hv1", result=[1, 2])], dest="/tmp/x"), "result"),
    (dict(hosts=[dict(name="hv1", result={}, guests=["g1"])], dest="/tmp/x"), "guests"),
    (dict(hosts=["hv1"], dest="/tmp/x"), "hosts"),
    (dict(hosts=[], dest="/tmp/x", usage_from="2026-13"), "the first month must be a calendar month as YYYY-MM"),
    (dict(hosts=[], dest="/tmp/x", colour="red"), "Unsupported parameters for (hyperv.avma.compliance_report_files) module: colour"),
])
def test_bad_options_fail_in_one_line_before_anything_is_written(args, message):
    result = run(args)
    assert result["failed"] is True and message in result["msg"] and "\n" not in result["msg"]


def test_assembling_without_fragments_says_what_to_do(tmp_path):
    result = run(dict(fragment_dir=str(tmp_path), dest=str(tmp_path / "out")))
    assert result["failed"] is True and "no report fragments in %s" % tmp_path in result["msg"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content, message", [
    ("{not json", "cannot read the report fragment"),
    ('{"entry": {}, "guests": {}}', "is not a report fragment"),
    ('{"host": {"name": 5}, "guests": {}}', "is not a report fragment"),
])
def test_a_file_that_is_no_fragment_is_named(tmp_path, content, message):
    (tmp_path / "hv9.json").write_text(content)
    result = run(dict(fragment_dir=str(tmp_path), dest=str(tmp_path / "out")))
    assert result["failed"] is True and message in result["msg"] and str(tmp_path / "hv9.json") in result["msg"]


def test_a_write_that_fails_leaves_the_old_file_whole(tmp_path, monkeypatch):
    (tmp_path / "avma-report.json").write_text("the old report")

    def refuse(_source, _target):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", refuse)
    result = run(dict(hosts=fleet(), dest=str(tmp_path), formats=["json"]))
    assert result["failed"] is True and "cannot write %s: No space left on device" % (tmp_path / "avma-report.json") in result["msg"]
    assert (tmp_path / "avma-report.json").read_text() == "the old report" and os.listdir(tmp_path) == ["avma-report.json"]
