# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import csv
import html.parser
import io
import re

from ansible_collections.hyperv.avma.plugins.module_utils._report_render import CSV_COLUMNS, USAGE_CSV_COLUMNS, render_csv, render_html, render_usage_csv

HOSTILE_NAME = '<script>alert("x")</script>'
HOSTILE_FQDN = '"><img src=x onerror=alert(1)>'


def vm(name, compliance, problems=(), **extra):
    entry = dict(name=name, id="id-" + name, state="running", fqdn=name + ".corp", os_name="Windows Server 2022 Datacenter",
                 edition_id="ServerDatacenter", ipv4=["10.0.0.5"], data_exchange_enabled=True,
                 avma_requests=dict(count=3, first="2026-11-01T10:00:00+00:00", last="2026-11-20T10:00:00+00:00"),
                 guest=None, compliance=compliance, evidence=[], settle=None, problems=[dict(code=code, message=code) for code in problems])
    entry.update(extra)
    return entry


def report():
    return dict(
        schema_version=2,
        generated_at="2026-11-27T20:00:00+00:00",
        renewal_window_days=7,
        context=dict(collection_version="0.1.0", controller="ctl.example", user=HOSTILE_NAME),
        scope=dict(hosts_asked=["hv1", "hv2", "hv3"], hosts_read=["hv1", "hv2"], hosts_failed=["hv3"], guests_read=[]),
        summary=dict(hosts=3, hosts_failed=1, hosts_not_ready=2, vms=4, compliant_vms=1, non_compliant_vms=2, unknown_vms=1, problems=3),
        usage=dict(first_month="2026-10", last_month="2026-11", months=["2026-10", "2026-11"], complete=False, rows=[
            dict(host="hv1", month="2026-10", vm_count=0, requests=0, vms=[], complete=False,
                 incomplete_because="the history read starts at 2026-10-15T00:00:00+00:00"),
            dict(host="hv1", month="2026-11", vm_count=2, requests=5, complete=True, incomplete_because=None, vms=[
                dict(vm="app", vm_id="id-app", requests=4, first="2026-11-01T10:00:00+00:00", last="2026-11-22T10:00:00+00:00"),
                dict(vm="@gone", vm_id=None, requests=1, first="2026-11-03T10:00:00+00:00", last="2026-11-03T10:00:00+00:00")])]),
        problems=[dict(host="hv1", vm=None, code="host_not_activated", message="the host is not activated", remedy="activate it"),
                  dict(host="hv2", vm=HOSTILE_NAME, code="data_exchange_off", message="Data Exchange is off", remedy="enable it"),
                  dict(host="hv2", vm="web", code="guest_not_licensed", message="not licensed", remedy="activate")],
        hosts=[dict(name="hv1", read=True, release="2022", edition_id="ServerDatacenter", activated=False,
                    events_since="2026-10-15T00:00:00+00:00", events_limited=False, history_complete_from="2026-10-15T00:00:00+00:00",
                    vms=[vm("app", "not_compliant", ["host_not_activated"])]),
               dict(name="hv2", read=True, release="2025", edition_id="ServerDatacenter", activated=True,
                    vms=[vm(HOSTILE_NAME, "not_compliant", ["data_exchange_off"], fqdn=HOSTILE_FQDN), vm("=cmd|' /C calc'!A0", "compliant"),
                         vm("quiet", "unknown", settle="read the guest")]),
               dict(name="hv3", read=False, release=None, edition_id=None, activated=None, vms=[])],
    )


class _Collector(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page):
    collector = _Collector()
    collector.feed(page)
    return collector


def test_hostile_values_are_text_not_markup():
    page = render_html(report())
    parsed = parse(page)
    assert [tag for tag, _attrs in parsed.tags].count("script") == 1
    assert not any(tag == "img" for tag, _attrs in parsed.tags)
    assert not any(name.startswith("on") for _tag, attrs in parsed.tags for name in attrs)
    assert HOSTILE_NAME in "".join(parsed.text)
    assert HOSTILE_FQDN in "".join(parsed.text)


def test_page_is_self_contained():
    page = render_html(report())
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page


def test_summary_cards_and_problem_rows():
    parsed = parse(render_html(report()))
    text = "".join(parsed.text)
    assert "Non-compliant VMs" in text
    tables = [attrs.get("id") for tag, attrs in parsed.tags if tag == "table"]
    assert tables[0] == "problems"
    assert set(tables) == {"problems", "vms-hv1", "vms-hv2", "vms-hv3", "usage"}
    assert "Unknown VMs" in text and "read the guest" in text


def test_csv_has_one_row_per_vm_and_defuses_formulas():
    rows = list(csv.reader(io.StringIO(render_csv(report()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 5
    formula_row = [row for row in rows if row[1].startswith("'=")]
    assert formula_row and formula_row[0][1] == "'=cmd|' /C calc'!A0"
    hostile = [row for row in rows if row[1] == HOSTILE_NAME][0]
    assert hostile[CSV_COLUMNS.index("problems")] == "data_exchange_off"
    assert hostile[CSV_COLUMNS.index("compliance")] == "not_compliant"
    quiet = [row for row in rows if row[1] == "quiet"][0]
    assert quiet[CSV_COLUMNS.index("to_settle")] == "read the guest"


def test_charts_carry_the_counts():
    parsed = parse(render_html(report()))
    bars = [attrs for tag, attrs in parsed.tags if tag == "rect" and attrs.get("data-state")]
    assert {(rect["data-host"], rect["data-state"], rect["data-count"]) for rect in bars} == {
        ("hv1", "not_compliant", "1"), ("hv2", "not_compliant", "1"), ("hv2", "compliant", "1"), ("hv2", "unknown", "1")}
    months = {attrs["data-month"]: attrs["data-count"] for tag, attrs in parsed.tags if tag == "rect" and attrs.get("data-month")}
    assert months == {"2026-10": "0", "2026-11": "5"}


def test_header_states_the_scope_and_the_run():
    text = "".join(parse(render_html(report())).text)
    for expected in ("Hosts asked", "3: hv1, hv2, hv3", "Hosts failed", "1: hv3", "none: the host-side view only", "hyperv.avma 0.1.0",
                     "ctl.example", HOSTILE_NAME, "2026-11-27T20:00:00+00:00"):
        assert expected in text


def test_print_stylesheet_targets_a4_and_wraps_cells():
    page = render_html(report())
    assert "@page { size: A4 portrait" in page and "size: A4 landscape" in page and "@media print" in page
    assert "overflow-x: auto" not in page and "overflow-wrap: anywhere" in page


def test_usage_csv_lists_every_month_and_defuses_formulas():
    rows = list(csv.reader(io.StringIO(render_usage_csv(report()))))
    assert tuple(rows[0]) == USAGE_CSV_COLUMNS
    assert rows[1:] == [["hv1", "2026-10", "", "", "0", "", "", "no", "the history read starts at 2026-10-15T00:00:00+00:00"],
                        ["hv1", "2026-11", "app", "id-app", "4", "2026-11-01T10:00:00+00:00", "2026-11-22T10:00:00+00:00", "yes", ""],
                        ["hv1", "2026-11", "'@gone", "", "1", "2026-11-03T10:00:00+00:00", "2026-11-03T10:00:00+00:00", "yes", ""]]


def test_an_incomplete_month_is_marked_in_the_header_the_chart_and_the_usage_table():
    page = render_html(report())
    text = " ".join("".join(parse(page).text).split())
    assert "AVMA request history1 of 2 host-months incomplete (the history read starts after the month begins): see the usage section" in text
    assert "hv1: read from 2026-10-15T00:00:00+00:00" in text
    assert 'data-month="2026-10" data-count="0" data-complete="no"' in page and 'data-month="2026-11" data-count="5" data-complete="yes"' in page
    usage_rows = re.findall(r'<tr( class="incomplete")?><td>hv1</td><td>(2026-\d\d)</td>.*?</tr>', page.split('id="usage"')[1])
    assert usage_rows == [(' class="incomplete"', "2026-10"), ("", "2026-11"), ("", "2026-11")]
    assert "no: the history read starts at 2026-10-15T00:00:00+00:00" in text
    complete = dict(report(), usage=dict(report()["usage"], complete=True, rows=[dict(row, complete=True, incomplete_because=None)
                                                                                 for row in report()["usage"]["rows"]]))
    assert "complete for every host and month of the usage section" in "".join(parse(render_html(complete)).text)
