# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Render a fleet compliance report (see _compliance.build_report) as CSV or as one self-contained HTML page.

Pure code. Every value in a report can come from a guest (KVP data) or a host, so none of it is trusted: the HTML
escapes every value it writes, embeds no value in script, style or attribute context unescaped, and loads nothing
from outside the page.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import csv
import html
import io

CSV_COLUMNS = ("host", "vm", "vm_id", "state", "fqdn", "os", "edition", "ipv4", "data_exchange", "avma_requests",
               "first_avma_request", "last_avma_request", "guest_license", "guest_partial_key", "compliant", "problems")

# The page's script only sorts and filters the tables it finds; it reads no data but the cells' text.
_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (header, column) {
    header.addEventListener('click', function () {
      var body = table.tBodies[0];
      var ascending = header.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (other) { other.removeAttribute('aria-sort'); });
      header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      Array.from(body.rows).sort(function (a, b) {
        var x = a.cells[column].textContent, y = b.cells[column].textContent;
        var order = x.localeCompare(y, undefined, {numeric: true});
        return ascending ? order : -order;
      }).forEach(function (row) { body.appendChild(row); });
    });
  });
});
document.querySelectorAll('input.filter').forEach(function (input) {
  input.addEventListener('input', function () {
    var needle = input.value.toLowerCase();
    document.querySelectorAll('table.filterable tbody tr').forEach(function (row) {
      row.hidden = needle !== '' && row.textContent.toLowerCase().indexOf(needle) === -1;
    });
  });
});
"""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: .6rem 1rem; min-width: 9rem; }
.card .value { font-size: 1.6rem; font-weight: 600; }
.card.bad .value { color: #b00020; } .card.good .value { color: #1b7f3b; }
table { border-collapse: collapse; margin-top: .5rem; width: 100%; font-size: .9rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " \\25B2"; } th[aria-sort=descending]::after { content: " \\25BC"; }
tr.noncompliant td { background: #fff1f1; }
.ok { color: #1b7f3b; } .problem { color: #b00020; }
input.filter { padding: .3rem .5rem; width: 20rem; margin-top: 1rem; }
.scroll { overflow-x: auto; }
"""


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _cell(value, css_class=None):
    attribute = ' class="%s"' % css_class if css_class else ""
    return "<td%s>%s</td>" % (attribute, html.escape(_text(value), quote=True))


def _table(table_id, headers, rows, extra_classes=""):
    head = "".join("<th scope=\"col\">%s</th>" % html.escape(header) for header in headers)
    return '<div class="scroll"><table id="%s" class="sortable filterable %s"><thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>' % (
        table_id, extra_classes, head, "".join(rows))


def _problem_rows(report):
    rows = []
    for problem in report["problems"]:
        rows.append("<tr>%s%s%s%s%s</tr>" % (
            _cell(problem.get("host")), _cell(problem.get("vm")), _cell(problem.get("code"), "problem"),
            _cell(problem.get("message")), _cell(problem.get("remedy"))))
    return rows


def _vm_rows(host):
    rows = []
    for vm in host["vms"]:
        requests = vm.get("avma_requests") or {}
        guest = vm.get("guest") or {}
        css = "noncompliant" if not vm["compliant"] else ""
        rows.append('<tr class="%s">%s</tr>' % (css, "".join((
            _cell(vm.get("name")), _cell(vm.get("state")), _cell(vm.get("fqdn")), _cell(vm.get("os_name")),
            _cell(vm.get("edition_id")), _cell(vm.get("ipv4")), _cell(vm.get("data_exchange_enabled")),
            _cell(requests.get("count")), _cell(requests.get("first")), _cell(requests.get("last")),
            _cell(guest.get("license_status_name")), _cell(guest.get("partial_product_key")),
            _cell("compliant" if vm["compliant"] else "NOT compliant", "ok" if vm["compliant"] else "problem"),
            _cell([problem["code"] for problem in vm.get("problems", [])], "problem"),
        ))))
    return rows


def _card(label, value, tone=""):
    return '<div class="card %s"><div class="label">%s</div><div class="value" data-summary="%s">%s</div></div>' % (
        tone, html.escape(label), html.escape(label.lower().replace(" ", "-"), quote=True), html.escape(_text(value)))


def render_html(report):
    """The report as one self-contained HTML page (inline style and script, no external assets)."""
    summary = report["summary"]
    cards = "".join((
        _card("Hosts", summary["hosts"]),
        _card("Hosts not ready", summary["hosts_not_ready"], "bad" if summary["hosts_not_ready"] else "good"),
        _card("VMs", summary["vms"]),
        _card("Compliant VMs", summary["compliant_vms"], "good"),
        _card("Non-compliant VMs", summary["non_compliant_vms"], "bad" if summary["non_compliant_vms"] else "good"),
        _card("Problems", summary["problems"], "bad" if summary["problems"] else "good"),
    ))
    sections = []
    for host in report["hosts"]:
        facts = "%s, %s, %s" % (_text(host.get("release")) or "?", _text(host.get("edition_id")) or "?",
                                "activated" if host.get("activated") else "NOT activated")
        sections.append("<h2>%s <small>(%s)</small></h2>%s" % (
            html.escape(_text(host["name"])), html.escape(facts),
            _table("vms-" + html.escape(_text(host["name"]), quote=True), (
                "VM", "State", "FQDN", "OS", "Edition", "IPv4", "Data Exchange", "AVMA requests", "First request",
                "Last request", "Guest licence", "Key", "Compliance", "Problems"), _vm_rows(host))))
    body = (
        "<h1>AVMA compliance report</h1>"
        "<p>Generated %s from %d Hyper-V hosts.</p>" % (html.escape(_text(report.get("generated_at")) or "-"), summary["hosts"])
        + '<div class="cards">%s</div>' % cards
        + '<input class="filter" type="search" placeholder="Filter rows" aria-label="Filter rows">'
        + "<h2>Problems</h2>"
        + _table("problems", ("Host", "VM", "Problem", "What it means", "What to do"), _problem_rows(report))
        + "".join(sections)
    )
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
            "<title>AVMA compliance report</title><style>%s</style></head><body>%s<script>%s</script></body></html>\n"
            % (_STYLE, body, _SCRIPT))


def render_csv(report):
    """One row per VM (CSV_COLUMNS). Cells that a spreadsheet would run as a formula are prefixed with a quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for host in report["hosts"]:
        for vm in host["vms"]:
            requests = vm.get("avma_requests") or {}
            guest = vm.get("guest") or {}
            writer.writerow([_spreadsheet_safe(_text(value)) for value in (
                host["name"], vm.get("name"), vm.get("id"), vm.get("state"), vm.get("fqdn"), vm.get("os_name"), vm.get("edition_id"),
                vm.get("ipv4"), vm.get("data_exchange_enabled"), requests.get("count"), requests.get("first"), requests.get("last"),
                guest.get("license_status_name"), guest.get("partial_product_key"), vm["compliant"],
                [problem["code"] for problem in vm.get("problems", [])])])
    return buffer.getvalue()


def _spreadsheet_safe(text):
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
