# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import csv
import html.parser
import io
import re

from ansible_collections.hyperv.avma.plugins.module_utils._report_render import CSV_COLUMNS, render_csv, render_html

HOSTILE_NAME = '<script>alert("x")</script>'
HOSTILE_FQDN = '"><img src=x onerror=alert(1)>'


def vm(name, compliant, problems=(), **extra):
    entry = dict(name=name, id="id-" + name, state="running", fqdn=name + ".corp", os_name="Windows Server 2022 Datacenter",
                 edition_id="ServerDatacenter", ipv4=["10.0.0.5"], data_exchange_enabled=True,
                 avma_requests=dict(count=3, first="2026-11-01T10:00:00+00:00", last="2026-11-20T10:00:00+00:00"),
                 guest=None, compliant=compliant, problems=[dict(code=code, message=code) for code in problems])
    entry.update(extra)
    return entry


def report():
    return dict(
        generated_at="2026-11-27T20:00:00+00:00",
        summary=dict(hosts=2, hosts_not_ready=1, vms=3, compliant_vms=1, non_compliant_vms=2, problems=3),
        problems=[dict(host="hv1", vm=None, code="host_not_activated", message="the host is not activated", remedy="activate it"),
                  dict(host="hv2", vm=HOSTILE_NAME, code="data_exchange_off", message="Data Exchange is off", remedy="enable it"),
                  dict(host="hv2", vm="web", code="guest_not_licensed", message="not licensed", remedy="activate")],
        hosts=[dict(name="hv1", release="2022", edition_id="ServerDatacenter", activated=False, vms=[vm("app", False, ["host_not_activated"])]),
               dict(name="hv2", release="2025", edition_id="ServerDatacenter", activated=True,
                    vms=[vm(HOSTILE_NAME, False, ["data_exchange_off"], fqdn=HOSTILE_FQDN), vm("=cmd|' /C calc'!A0", True)])],
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
    assert set(tables) == {"problems", "vms-hv1", "vms-hv2"}


def test_csv_has_one_row_per_vm_and_defuses_formulas():
    rows = list(csv.reader(io.StringIO(render_csv(report()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 4
    formula_row = [row for row in rows if row[1].startswith("'=")]
    assert formula_row and formula_row[0][1] == "'=cmd|' /C calc'!A0"
    hostile = [row for row in rows if row[1] == HOSTILE_NAME][0]
    assert hostile[CSV_COLUMNS.index("problems")] == "data_exchange_off"
    assert hostile[CSV_COLUMNS.index("compliant")] == "no"
