# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Render a fleet compliance report (see _compliance.build_report) as CSV (VMs, and monthly AVMA usage) or as one
self-contained HTML page (inline style, script and SVG pictures), for screens and for A4 print.

Pure code. Every value in a report can come from a guest (KVP data) or a host, so none of it is trusted: the HTML
escapes every value it writes, embeds no value in script, style or attribute context unescaped, and loads nothing
from outside the page.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import csv
import html
import io

CSV_COLUMNS = ("host", "vm", "vm_id", "state", "fqdn", "os", "release", "edition", "ipv4", "data_exchange", "avma_requests",
               "first_avma_request", "last_avma_request", "guest_license", "guest_partial_key", "compliance", "evidence",
               "problems", "to_settle")
USAGE_CSV_COLUMNS = ("host", "month", "vm", "vm_id", "requests", "first_request", "last_request", "month_complete", "incomplete_because")

_STATE_LABELS = {"compliant": "compliant", "not_compliant": "NOT compliant", "unknown": "unknown"}
_STATE_COLOURS = {"compliant": "#1b7f3b", "not_compliant": "#b00020", "unknown": "#8a8a8a"}

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
h1 { font-size: 1.4rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .5rem 0; font-size: .9rem; }
header dt { font-weight: 600; } header dd { margin: 0; overflow-wrap: anywhere; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: .6rem 1rem; min-width: 8rem; }
.card .value { font-size: 1.6rem; font-weight: 600; }
.card.bad .value { color: #b00020; } .card.good .value { color: #1b7f3b; } .card.unknown .value { color: #5a5a5a; }
figure { margin: 1rem 0; } figcaption { font-size: .9rem; font-weight: 600; } svg { max-width: 100%; height: auto; }
svg text { font-family: system-ui, sans-serif; font-size: 11px; fill: #1b1b1b; }
table { border-collapse: collapse; margin-top: .5rem; width: 100%; font-size: .85rem; table-layout: auto; }
th, td { border: 1px solid #ddd; padding: .25rem .4rem; text-align: left; vertical-align: top; overflow-wrap: break-word; }
th { background: #f3f3f3; cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " \\25B2"; } th[aria-sort=descending]::after { content: " \\25BC"; }
tr.noncompliant td { background: #fff1f1; } tr.unknown td { background: #f6f6f6; } tr.incomplete td { background: #fff8e6; }
.ok { color: #1b7f3b; } .problem { color: #b00020; } .unknown { color: #5a5a5a; }
input.filter { padding: .3rem .5rem; width: 20rem; max-width: 100%; margin-top: 1rem; }
.legend span { display: inline-block; margin-right: 1rem; font-size: .85rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: middle; }
@media (max-width: 1000px) { th, td { overflow-wrap: anywhere; } table { font-size: .75rem; } }
@page { size: A4 portrait; margin: 12mm; }
@page landscape { size: A4 landscape; margin: 12mm; }
section.wide { page: landscape; }
@media print {
  body { margin: 0; font-size: 9pt; }
  input.filter { display: none; }
  th { cursor: auto; } th::after { content: none !important; }
  table { font-size: 7.5pt; page-break-inside: auto; }
  th, td { overflow-wrap: anywhere; }
  thead { display: table-header-group; } tr { page-break-inside: avoid; }
  h2 { page-break-after: avoid; }
  tr.noncompliant td, tr.unknown td, tr.incomplete td, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(item) for item in value)
    return str(value)


def _escape(value):
    return html.escape(_text(value), quote=True)


def _cell(value, css_class=None):
    attribute = ' class="%s"' % css_class if css_class else ""
    return "<td%s>%s</td>" % (attribute, _escape(value))


def _time_cell(value):
    return '<td><time>%s</time></td>' % _escape(value) if value else "<td></td>"


def _table(table_id, headers, rows, extra_classes=""):
    head = "".join("<th scope=\"col\">%s</th>" % html.escape(header) for header in headers)
    return '<table id="%s" class="sortable filterable %s"><thead><tr>%s</tr></thead><tbody>%s</tbody></table>' % (
        _escape(table_id), extra_classes, head, "".join(rows))


def _problem_rows(report):
    return ["<tr>%s%s%s%s%s</tr>" % (
        _cell(problem.get("host")), _cell(problem.get("vm")), _cell(problem.get("code"), "problem"),
        _cell(problem.get("message")), _cell(problem.get("remedy"))) for problem in report["problems"]]


def _evidence_text(vm):
    parts = []
    for item in vm.get("evidence") or []:
        text = item.get("summary") or ""
        if item.get("time"):
            text += " at %s" % item["time"]
        if item.get("age_days") is not None:
            text += " (%s days ago)" % item["age_days"]
        parts.append(text)
    return "; ".join(parts)


def _explanation(vm):
    """The cause of a VM that is not compliant (then its evidence), the evidence of a compliant one, or what would
    settle an unknown one."""
    causes = "; ".join(problem["message"] for problem in vm.get("problems", []))
    evidence = _evidence_text(vm)
    if vm["compliance"] == "unknown":
        return vm.get("settle")
    return "; ".join(part for part in (causes, "evidence: " + evidence if causes and evidence else evidence) if part)


def _vm_rows(host):
    rows = []
    for vm in host["vms"]:
        requests = vm.get("avma_requests") or {}
        guest = vm.get("guest") or {}
        state = vm["compliance"]
        css = {"not_compliant": "noncompliant", "unknown": "unknown"}.get(state, "")
        rows.append('<tr class="%s" data-compliance="%s">%s</tr>' % (css, _escape(state), "".join((
            _cell(vm.get("name")), _cell(vm.get("state")), _cell(vm.get("fqdn")), _cell(vm.get("os_name")),
            _cell(vm.get("edition_id")), _cell(vm.get("ipv4")), _cell(vm.get("data_exchange_enabled")),
            _cell(requests.get("count")), _time_cell(requests.get("last")),
            _cell(guest.get("license_status_name")), _cell(guest.get("partial_product_key")),
            _cell(_STATE_LABELS[state], {"compliant": "ok", "not_compliant": "problem"}.get(state, "unknown")),
            _cell(_explanation(vm)),
        ))))
    return rows


def _card(label, value, tone=""):
    return '<div class="card %s"><div class="label">%s</div><div class="value" data-summary="%s">%s</div></div>' % (
        tone, html.escape(label), html.escape(label.lower().replace(" ", "-"), quote=True), _escape(value))


def _legend():
    return '<p class="legend" aria-hidden="true">%s</p>' % "".join(
        '<span><i style="background:%s"></i>%s</span>' % (_STATE_COLOURS[state], _STATE_LABELS[state]) for state in _STATE_COLOURS)


def _compliance_chart(report):
    """Per host, one horizontal bar split into compliant / not compliant / unknown VMs (inline SVG)."""
    hosts = report["hosts"]
    width, label_width, bar_height, gap = 640, 130, 18, 8
    most = max([len(host["vms"]) for host in hosts] + [1])
    scale = (width - label_width - 60) / most
    parts = []
    for index, host in enumerate(hosts):
        y = index * (bar_height + gap)
        parts.append('<text x="0" y="%d">%s</text>' % (y + 13, _escape(host["name"])))
        x = label_width
        counts = {state: sum(1 for vm in host["vms"] if vm["compliance"] == state) for state in _STATE_COLOURS}
        for state, count in counts.items():
            if count:
                parts.append('<rect class="bar" data-host="%s" data-state="%s" data-count="%d" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s">'
                             '<title>%s: %d %s</title></rect>' % (
                                 _escape(host["name"]), state, count, x, y, count * scale, bar_height, _STATE_COLOURS[state],
                                 _escape(host["name"]), count, _STATE_LABELS[state]))
                x += count * scale
        label = "not read" if not host.get("read", True) else "%d / %d / %d" % tuple(counts.values())
        parts.append('<text x="%.1f" y="%d">%s</text>' % (x + 6, y + 13, html.escape(label)))
    height = max(len(hosts), 1) * (bar_height + gap)
    return ('<figure><figcaption>VMs per host: compliant / not compliant / unknown</figcaption>%s'
            '<svg id="chart-compliance" role="img" aria-label="VMs per host by compliance state" viewBox="0 0 %d %d" width="%d" height="%d">%s</svg></figure>'
            % (_legend(), width, height, width, height, "".join(parts)))


def _requests_chart(usage):
    """AVMA requests per calendar month, all hosts together, from the 12310 history (inline SVG); a month whose
    history is incomplete on some host has a light bar."""
    months = usage["months"]
    totals = [sum(row["requests"] for row in usage["rows"] if row["month"] == month) for month in months]
    incomplete = {row["month"] for row in usage["rows"] if row.get("complete") is False}
    width, height, bottom = 640, 160, 30
    slot = (width - 40) / max(len(months), 1)
    bar_width = min(slot * 0.7, 60)
    top = max(totals + [1])
    parts = ['<line x1="30" y1="%d" x2="%d" y2="%d" stroke="#999"/>' % (height - bottom, width, height - bottom)]
    for index, (month, total) in enumerate(zip(months, totals)):
        bar_height = (height - bottom - 20) * total / top
        x = 40 + index * slot
        partial = month in incomplete
        parts.append('<rect class="bar" data-month="%s" data-count="%d" data-complete="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">'
                     '<title>%s: %d AVMA requests%s</title></rect>' % (
                         _escape(month), total, "no" if partial else "yes", x, height - bottom - bar_height, bar_width, bar_height,
                         "#a9bcd8" if partial else "#3060a0", _escape(month), total, " (history incomplete: may be more)" if partial else ""))
        parts.append('<text x="%.1f" y="%.1f">%d</text>' % (x, height - bottom - bar_height - 4, total))
        parts.append('<text x="%.1f" y="%d">%s</text>' % (x, height - 10, _escape(month)))
    return ('<figure><figcaption>AVMA requests per month (Event 12310, all hosts)%s</figcaption>'
            '<svg id="chart-requests" role="img" aria-label="AVMA requests per month" viewBox="0 0 %d %d" width="%d" height="%d">%s</svg></figure>'
            % (": light bars are months whose history is incomplete" if incomplete else "", width, height, width, height, "".join(parts)))


def _month_complete_cell(row):
    if row.get("complete") is False:
        return _cell("no: %s" % _text(row.get("incomplete_because")), "problem")
    return _cell("yes")


def _usage_rows(usage):
    rows = []
    for row in usage["rows"]:
        css = ' class="incomplete"' if row.get("complete") is False else ""
        if not row["vms"]:
            rows.append("<tr%s>%s%s%s%s%s%s%s</tr>" % (css, _cell(row["host"]), _cell(row["month"]), _cell("(no requests)"), _cell(0), _cell(""), _cell(""),
                                                       _month_complete_cell(row)))
        for vm in row["vms"]:
            rows.append("<tr%s>%s%s%s%s%s%s%s</tr>" % (
                css, _cell(row["host"]), _cell(row["month"]), _cell(vm["vm"] if vm["vm_id"] else "%s (no longer on the host)" % _text(vm["vm"])),
                _cell(vm["requests"]), _time_cell(vm["first"]), _time_cell(vm["last"]), _month_complete_cell(row)))
    return rows


def _history_text(host):
    """Where a host's 12310 history read starts, and whether it was cut at max_events."""
    if not host.get("read", True):
        return "not read"
    text = "read from %s" % (host.get("events_since") or "the start of the log")
    if host.get("events_limited"):
        text += ", cut at compliance_report_max_events: complete only from %s" % host.get("history_complete_from")
    return text


def _history_list(report):
    return '<ul class="history">%s</ul>' % "".join(
        "<li>%s: %s</li>" % (_escape(host["name"]), _escape(_history_text(host))) for host in report["hosts"] if host.get("read", True))


def _header(report):
    scope = report.get("scope") or {}
    context = report.get("context") or {}
    failed = scope.get("hosts_failed") or []
    guests_read = scope.get("guests_read") or []
    rows = (
        ("Generated", '<time>%s</time>' % _escape(report.get("generated_at"))),
        ("Hosts asked", "%d: %s" % (len(scope.get("hosts_asked") or []), _escape(scope.get("hosts_asked")))),
        ("Hosts read", "%d" % len(scope.get("hosts_read") or [])),
        ("Hosts failed", "%d%s" % (len(failed), ": " + _escape(failed) if failed else "")),
        ("Guests read", "%d (licence facts read from the guests)" % len(guests_read) if guests_read else
         "none: the host-side view only (KVP and Event 12310)"),
        ("Renewal window", "%s days" % _escape(report.get("renewal_window_days"))),
        ("AVMA request history", _history_summary(report)),
        ("Collection", "hyperv.avma %s" % _escape(context.get("collection_version") or "(version unknown)")),
        ("Controller", "%s, user %s" % (_escape(context.get("controller") or "?"), _escape(context.get("user") or "?"))),
        ("Report schema", "version %s" % _escape(report.get("schema_version"))),
    )
    return "<header><h1>AVMA compliance report</h1><dl>%s</dl></header>" % "".join(
        "<dt>%s</dt><dd>%s</dd>" % (html.escape(label), value) for label, value in rows)


def _history_summary(report):
    rows = (report.get("usage") or {}).get("rows") or []
    incomplete = [row for row in rows if row.get("complete") is False]
    limited = [host["name"] for host in report["hosts"] if host.get("events_limited")]
    text = ("complete for every host and month of the usage section" if not incomplete else
            "%d of %d host-months incomplete (%s): see the usage section" % (
                len(incomplete), len(rows), "history cut at compliance_report_max_events on " + _text(limited) if limited else
                "the history read starts after the month begins"))
    return _escape(text)


def render_html(report):
    """The report as one self-contained HTML page (inline style, script and SVG pictures; no external assets)."""
    summary = report["summary"]
    cards = "".join((
        _card("Hosts", summary["hosts"]),
        _card("Hosts failed", summary["hosts_failed"], "bad" if summary["hosts_failed"] else "good"),
        _card("Hosts not ready", summary["hosts_not_ready"], "bad" if summary["hosts_not_ready"] else "good"),
        _card("VMs", summary["vms"]),
        _card("Compliant VMs", summary["compliant_vms"], "good"),
        _card("Non-compliant VMs", summary["non_compliant_vms"], "bad" if summary["non_compliant_vms"] else "good"),
        _card("Unknown VMs", summary["unknown_vms"], "unknown"),
        _card("Problems", summary["problems"], "bad" if summary["problems"] else "good"),
    ))
    sections = []
    for host in report["hosts"]:
        facts = ("not read" if not host.get("read", True) else "%s, %s, %s" % (
            _text(host.get("release")) or "?", _text(host.get("edition_id")) or "?", "activated" if host.get("activated") else "NOT activated"))
        sections.append('<section class="wide"><h2>%s <small>(%s)</small></h2>%s</section>' % (
            _escape(host["name"]), html.escape(facts),
            _table("vms-" + _text(host["name"]), (
                "VM", "State", "FQDN", "OS", "Edition", "IPv4", "Data Exchange", "AVMA requests", "Last request",
                "Guest licence", "Key", "Compliance", "Evidence, cause or what would settle it"), _vm_rows(host))))
    usage = report["usage"]
    body = (
        _header(report)
        + '<div class="cards">%s</div>' % cards
        + _compliance_chart(report)
        + '<input class="filter" type="search" placeholder="Filter rows" aria-label="Filter rows">'
        + "<h2>Problems</h2>"
        + _table("problems", ("Host", "VM", "Problem", "What it means", "What to do"), _problem_rows(report))
        + "".join(sections)
        + "<section><h2>AVMA usage per month (%s to %s)</h2>%s<p>Event 12310 history per host:</p>%s%s</section>" % (
            _escape(usage["first_month"]), _escape(usage["last_month"]), _requests_chart(usage), _history_list(report),
            _table("usage", ("Host", "Month", "VM", "AVMA requests", "First", "Last", "Month complete"), _usage_rows(usage)))
    )
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
            "<title>AVMA compliance report</title><style>%s</style></head><body>%s<script>%s</script></body></html>\n"
            % (_STYLE, body, _SCRIPT))


def render_csv(report):
    """One row per VM (CSV_COLUMNS). Cells that a spreadsheet would run as a formula are prefixed with a quote."""
    rows = []
    for host in report["hosts"]:
        for vm in host["vms"]:
            requests = vm.get("avma_requests") or {}
            guest = vm.get("guest") or {}
            rows.append((
                host["name"], vm.get("name"), vm.get("id"), vm.get("state"), vm.get("fqdn"), vm.get("os_name"), vm.get("release"),
                vm.get("edition_id"), vm.get("ipv4"), vm.get("data_exchange_enabled"), requests.get("count"), requests.get("first"),
                requests.get("last"), guest.get("license_status_name"), guest.get("partial_product_key"), vm["compliance"],
                _evidence_text(vm), [problem["code"] for problem in vm.get("problems", [])], vm.get("settle")))
    return _csv(CSV_COLUMNS, rows)


def render_usage_csv(report):
    """SPLA usage: one row per host, month and VM with AVMA requests (USAGE_CSV_COLUMNS); months without any request
    get one row with an empty VM and 0 requests. ``month_complete`` is "no" (with ``incomplete_because``) for a month
    whose history was not read in full on that host: its counts may be too low."""
    rows = []
    for row in report["usage"]["rows"]:
        complete = (row.get("complete") is not False, row.get("incomplete_because"))
        if not row["vms"]:
            rows.append((row["host"], row["month"], None, None, 0, None, None) + complete)
        for vm in row["vms"]:
            rows.append((row["host"], row["month"], vm["vm"], vm["vm_id"], vm["requests"], vm["first"], vm["last"]) + complete)
    return _csv(USAGE_CSV_COLUMNS, rows)


def _csv(columns, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_spreadsheet_safe(_text(value)) for value in row])
    return buffer.getvalue()


def _spreadsheet_safe(text):
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
