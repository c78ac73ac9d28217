# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SPLA usage history of hyperv.avma.report: per host and calendar month, the VMs that made AVMA requests, from
three months of Event 12310 history, checked against the lab's own event log (its saved state)."""

from __future__ import annotations

import collections
import csv
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLEET = "usage_history.yml"
MONTHS = ["2026-09", "2026-10", "2026-11"]


def _month(time_generated):
    """YYYY-MM of a saved TimeGenerated, ISO 8601 or DMTF (yyyymmddHHMMSS.ffffff+UUU); all lab times are UTC."""
    text = str(time_generated)
    return text[:7] if text[4] == "-" else "%s-%s" % (text[:4], text[4:6])


def lab_usage(lab, host):
    """(month, first insertion string) -> number of Events 12310 in the host's Application log, from the lab's state."""
    counts = collections.Counter()
    for event in lab.saved_instances(host)["root/cimv2/Win32_NTLogEvent"]:
        if event["EventCode"] == 12310 and event["Logfile"] == "Application" and _month(event["TimeGenerated"]) in MONTHS:
            counts[(_month(event["TimeGenerated"]), event["InsertionStrings"][0])] += 1
    return counts


def report_run(lab, playbook_runner, tmp_path_factory, **extra_vars):
    report_dir = tmp_path_factory.mktemp("report")
    run = playbook_runner(tmp_path_factory.mktemp("run"), ROOT / "playbooks" / "report.yml", lab.inventory,
                          extra_vars=dict(compliance_report_dir=str(report_dir), compliance_report_usage_from=MONTHS[0],
                                          compliance_report_usage_to=MONTHS[-1], **extra_vars))
    assert run.returncode == 0, run.stdout[-3000:]
    return json.loads((report_dir / "avma-report.json").read_text()), report_dir


@pytest.fixture(scope="module")
def usage(lab, playbook_runner, tmp_path_factory):
    return report_run(lab, playbook_runner, tmp_path_factory)


def test_usage_csv_counts_equal_the_labs_event_log(lab, usage):
    report_dir = usage[1]
    rows = list(csv.DictReader((report_dir / "avma-usage.csv").open()))
    reported = collections.Counter()
    for row in rows:
        if row["vm"]:
            reported[(row["host"], row["month"], row["vm"])] += int(row["requests"])
    expected = collections.Counter({(host, month, vm): count for host in ("ushv1", "ushv2") for (month, vm), count in lab_usage(lab, host).items()})
    assert reported == expected
    assert sum(expected.values()) > 20 and {month for (_host, month, _vm) in expected} == set(MONTHS)


def test_usage_section_per_host_and_month(usage):
    report = usage[0]
    assert report["usage"]["months"] == MONTHS
    rows = {(row["host"], row["month"]): row for row in report["usage"]["rows"]}
    assert len(rows) == 6
    # uapp was created in October: ushv2 has no request in September, and the month is listed empty.
    assert rows[("ushv2", "2026-09")]["vms"] == [] and rows[("ushv2", "2026-09")]["requests"] == 0
    # udb stopped renewing in mid-October; uold was deleted, its requests keep the logged name.
    assert [vm["vm"] for vm in rows[("ushv1", "2026-09")]["vms"]] == ["udb", "uold", "uweb"]
    assert [vm["vm"] for vm in rows[("ushv1", "2026-11")]["vms"]] == ["uweb"]
    old = rows[("ushv1", "2026-09")]["vms"][1]
    assert old["vm_id"] is None and old["requests"] == 2 and old["first"] == "2026-09-05T08:00:04+00:00" and old["last"] == "2026-09-12T08:00:04+00:00"
    # The failed request of uapp counts as a request (the host served it).
    assert rows[("ushv2", "2026-10")]["vms"][0]["requests"] == 6


def test_usage_is_in_the_html_report_with_its_chart(usage):
    page = (usage[1] / "avma-report.html").read_text()
    assert "AVMA usage per month (2026-09 to 2026-11)" in page
    totals = {month: sum(row["requests"] for row in usage[0]["usage"]["rows"] if row["month"] == month) for month in MONTHS}
    for month, total in totals.items():
        assert 'data-month="%s" data-count="%d"' % (month, total) in page


def test_whole_months_read_from_the_first_day_are_complete(usage):
    report, report_dir = usage
    assert {host["name"]: (host["events_since"], host["events_limited"]) for host in report["hosts"]} == {
        "ushv1": ("2026-09-01T00:00:00+00:00", False), "ushv2": ("2026-09-01T00:00:00+00:00", False)}
    assert report["usage"]["complete"] is True and all(row["complete"] for row in report["usage"]["rows"])
    assert {row["month_complete"] for row in csv.DictReader((report_dir / "avma-usage.csv").open())} == {"yes"}


def test_a_history_cut_at_max_events_marks_the_months_it_may_under_count(lab, playbook_runner, tmp_path_factory):
    # ushv1 logged 22 requests from 2026-08-28: the newest 10 reach back to 2026-10-02. ushv2 logged exactly 10.
    report, report_dir = report_run(lab, playbook_runner, tmp_path_factory, compliance_report_max_events=10)
    hosts = {host["name"]: host for host in report["hosts"]}
    assert hosts["ushv1"]["events_limited"] is True and hosts["ushv1"]["history_complete_from"] == "2026-10-02T06:00:04+00:00"
    assert hosts["ushv2"]["events_limited"] is False
    complete = {(row["host"], row["month"]): row["complete"] for row in report["usage"]["rows"]}
    assert complete == {("ushv1", "2026-09"): False, ("ushv1", "2026-10"): False, ("ushv1", "2026-11"): True,
                        ("ushv2", "2026-09"): True, ("ushv2", "2026-10"): True, ("ushv2", "2026-11"): True}
    # What was read is still counted right; what was not read is not invented.
    rows = {(row["host"], row["month"]): row for row in report["usage"]["rows"]}
    assert rows[("ushv1", "2026-09")]["requests"] == 0 and rows[("ushv1", "2026-11")]["requests"] == 4
    reasons = {(row["host"], row["month"], row["month_complete"], row["incomplete_because"])
               for row in csv.DictReader((report_dir / "avma-usage.csv").open()) if row["host"] == "ushv1"}
    cut = "the history read was cut at compliance_report_max_events: requests before 2026-10-02T06:00:04+00:00 were left out"
    assert reasons == {("ushv1", "2026-09", "no", cut), ("ushv1", "2026-10", "no", cut), ("ushv1", "2026-11", "yes", "")}
    page = (report_dir / "avma-report.html").read_text()
    assert "2 of 6 host-months incomplete (history cut at compliance_report_max_events on ushv1)" in page
    assert 'data-month="2026-09" data-count="0" data-complete="no"' in page and 'data-month="2026-11" data-count="8" data-complete="yes"' in page
    assert "cut at compliance_report_max_events: complete only from 2026-10-02T06:00:04+00:00" in page
