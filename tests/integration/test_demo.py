# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demo: hyperv.avma.site against the lab's demo fleet ends with a report whose problems are exactly the
fleet's planted troubles, and the HTML report shows them in a real browser (headless Chromium). The host-only report
(playbooks/report.yml) calls a guest compliant only by its host's Event 12310 log, before and after the site run, and
the site run's check mode predicts, guest by guest, what the real run then does."""

from __future__ import annotations

import collections
import html.parser
import json
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLEET = "../../hvlab/fleets/demo.yml"

ISO_WITH_ZONE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\+|-)\d{2}:\d{2}$")
# Activated through AVMA before the demo and renewing every 7 days: their hosts logged those requests (demo.yml).
PRELICENSED = {"g22dc", "g19std", "w22std", "w12dc", "o16std"}
# AVMA guests whose hosts refuse them: the hosts logged their failed requests.
REFUSED_BY_HOST = {"g19na", "g22std", "g22on19"}
ACTIVATED = {"g25dc", "g25std", "g25az", "g22dc", "g22stdx", "g22az", "g19dc", "g19std", "g19ess", "g16dc", "g16std", "g16ess",
             "g12dc", "g12std", "g12ess", "g22core", "w22dc", "w22std", "w19dc", "w19std", "w16std", "w12dc", "o19dc", "o16std"}
PLANTED = {
    ("hv2022na", None, "host_not_activated"),
    ("hv2022na", "g19na", "avma_host_cannot_activate"),
    ("hv2022std", None, "host_not_datacenter"),
    ("hv2022std", "g22std", "avma_host_cannot_activate"),
    ("hv2019", "g22on19", "avma_host_cannot_activate"),
    ("hv2025", "gdxoff", "data_exchange_off"),
    ("hv2025", "g22eval", "guest_not_licensed"),
}
# The guests the site playbook fails: those it cannot activate. gdxoff was activated before its Data Exchange went off,
# so it has nothing to activate and passes; the report names its trouble (PLANTED).
REFUSED_GUESTS = {"g19na", "g22std", "g22on19", "g22eval"}


def _host_only_report(lab, playbook_runner, tmp_path_factory, name):
    report_dir = tmp_path_factory.mktemp(name)
    run = playbook_runner(tmp_path_factory.mktemp(name + "-run"), ROOT / "playbooks" / "report.yml", lab.inventory,
                          extra_vars=dict(compliance_report_dir=str(report_dir)))
    assert run.returncode == 0, run.stdout[-3000:]
    return json.loads((report_dir / "avma-report.json").read_text()), (report_dir / "avma-report.html").read_text()


@pytest.fixture(scope="module")
def runs(lab, playbook_runner, tmp_path_factory):
    """In this order on one fresh demo fleet: the host-only report, the site playbook in check mode, the site
    playbook as tools/demo.sh runs it, and the host-only report again."""
    before = _host_only_report(lab, playbook_runner, tmp_path_factory, "before")
    site_vars = dict(host_setup_data_exchange=False)
    check = playbook_runner(tmp_path_factory.mktemp("check"), ROOT / "playbooks" / "site.yml", lab.inventory, "--check",
                            extra_vars=dict(site_vars, compliance_report_dir=str(tmp_path_factory.mktemp("check-report"))))
    report_dir = tmp_path_factory.mktemp("report")
    site = playbook_runner(tmp_path_factory.mktemp("site"), ROOT / "playbooks" / "site.yml", lab.inventory,
                           extra_vars=dict(site_vars, compliance_report_dir=str(report_dir)))
    after = _host_only_report(lab, playbook_runner, tmp_path_factory, "after")
    return dict(before=before, check=check, site=(site, report_dir), after=after)


@pytest.fixture(scope="module")
def site_run(runs):
    return runs["site"]


def recap(run):
    return {name: dict(re.findall(r"(\w+)=(\d+)", counts)) for name, counts in re.findall(r"^(\S+)\s+: (ok=.*)$", run.stdout, re.MULTILINE)}


def test_only_the_planted_guests_fail(site_run):
    run = site_run[0]
    failed = {name for name, counts in recap(run).items() if counts["failed"] != "0"}
    assert failed == REFUSED_GUESTS, run.stdout[-3000:]


def test_report_names_exactly_the_planted_troubles(site_run):
    report_dir = site_run[1]
    report = json.loads((report_dir / "avma-report.json").read_text())
    assert {(problem["host"], problem["vm"], problem["code"]) for problem in report["problems"]} == PLANTED
    assert report["summary"]["vms"] == 29 and report["summary"]["non_compliant_vms"] == 5
    assert (report_dir / "avma-report.csv").read_text().count("\n") == 30


def states(report):
    return {vm["name"]: vm["compliance"] for host in report["hosts"] for vm in host["vms"]}


def vms_of(report):
    return {vm["name"]: vm for host in report["hosts"] for vm in host["vms"]}


def by_state(report):
    return {state: {name for name, value in states(report).items() if value == state} for state in ("compliant", "not_compliant", "unknown")}


def assert_compliant_by_fresh_host_requests(report, names):
    """Every compliant VM is so by its host's own log: its latest Event 12310 request within the renewal window."""
    vms = vms_of(report)
    for name in names:
        evidence = vms[name]["evidence"][0]
        assert evidence["source"] == "host_12310" and "outcome AVMA Success" in evidence["summary"], (name, vms[name]["evidence"])
        assert 0 <= evidence["age_days"] <= report["renewal_window_days"], (name, evidence)


def test_host_only_report_before_activation_calls_compliant_only_what_the_hosts_logs_prove(runs):
    report, page = runs["before"]
    assert report["scope"]["guests_read"] == []
    states_now = by_state(report)
    assert states_now["compliant"] == PRELICENSED
    assert_compliant_by_fresh_host_requests(report, PRELICENSED)
    # The hosts' Event 12310 history shows the three AVMA guests they refuse; the evaluation edition shows in KVP.
    assert states_now["not_compliant"] == REFUSED_BY_HOST | {"g22eval"}
    vms = vms_of(report)
    assert {name: vms[name]["problems"][0]["code"] for name in states_now["not_compliant"]} == dict(
        g19na="avma_host_cannot_activate", g22std="avma_host_cannot_activate", g22on19="avma_host_cannot_activate",
        g22eval="evaluation_edition")
    assert len(states_now["unknown"]) == 20 == report["summary"]["unknown_vms"]
    assert all("read the guest" in vms[name]["settle"] and not vms[name]["evidence"] for name in states_now["unknown"])
    assert 'data-summary="compliant-vms">5<' in page and 'data-summary="unknown-vms">20<' in page


def test_host_only_report_after_site_shows_exactly_the_activated_guests_compliant(runs):
    report, page = runs["after"]
    states_now = by_state(report)
    assert states_now["compliant"] == ACTIVATED
    assert_compliant_by_fresh_host_requests(report, ACTIVATED)
    vms = vms_of(report)
    assert states_now["not_compliant"] == REFUSED_BY_HOST | {"g22eval"}
    for name in REFUSED_BY_HOST:
        problem = vms[name]["problems"][0]
        assert problem["code"] == "avma_host_cannot_activate" and name in problem["message"] and "cannot activate it" in problem["message"]
    assert vms["g22eval"]["problems"][0]["code"] == "evaluation_edition" and "ServerStandardEval" in vms["g22eval"]["problems"][0]["message"]
    # Data Exchange off: the host sees nothing of gdxoff, so it is unknown, not "not compliant", and says what would settle it.
    assert states_now["unknown"] == {"gdxoff"}
    assert vms["gdxoff"]["problems"] == [] and vms["gdxoff"]["evidence"] == []
    assert "Data Exchange is off" in vms["gdxoff"]["settle"] and "read the guest" in vms["gdxoff"]["settle"]
    assert 'data-summary="compliant-vms">%d<' % len(ACTIVATED) in page
    assert page.count('data-compliance="compliant"') == len(ACTIVATED) and page.count('data-compliance="unknown"') == 1


# The guest_activation role's line per guest: "<guest>: Windows Server <release> <edition>, <status>, key ...<5>
# (<channel>), host <host>: <actions>".
ACTIVATION_LINE = re.compile(r'"msg": "(?P<guest>[\w-]+): Windows Server [^,]+, (?P<status>[^,]+), key \.\.\.(?P<key>[\w-]{5}) '
                             r'\((?P<channel>[^)]+)\), host (?P<host>[^:]+): (?P<actions>[^"]*)"')
FATAL = re.compile(r"^fatal: \[([^\]\s]+)(?: -> [^\]]+)?\]: FAILED! => ", re.MULTILINE)
PENDING = "licence status known after activation (its host %s was checked and can activate it)"


def activation_lines(run):
    return {match.group("guest"): match.groupdict() for match in ACTIVATION_LINE.finditer(run.stdout)}


def failure_messages(run):
    found = collections.defaultdict(list)
    for match in FATAL.finditer(run.stdout):
        found[match.group(1)].append(json.JSONDecoder().raw_decode(run.stdout[match.end():])[0]["msg"])
    return found


def test_check_mode_predicts_the_real_run_guest_by_guest(runs):
    check_run, real_run = runs["check"], runs["site"][0]
    check, real = recap(check_run), recap(real_run)
    guests = sorted(name for name in real if name.startswith(("g", "w", "o")))
    assert len(guests) == 29
    assert {name: (check[name]["failed"], check[name]["changed"] != "0") for name in guests} == {
        name: (real[name]["failed"], real[name]["changed"] != "0") for name in guests}
    predicted, happened = activation_lines(check_run), activation_lines(real_run)
    predicted_failures, failures = failure_messages(check_run), failure_messages(real_run)
    assert set(predicted) == set(happened) == set(guests) - REFUSED_GUESTS
    for name in guests:
        # A refused guest is refused for the same cause, in the same words.
        assert predicted_failures.get(name) == failures.get(name), name
        if name in REFUSED_GUESTS:
            continue
        guess, outcome = predicted[name], happened[name]
        assert (guess["key"], guess["channel"], guess["host"]) == (outcome["key"], outcome["channel"], outcome["host"]), name
        installs = [[action for action in line["actions"].split("; ") if action.startswith("install the key")] for line in (guess, outcome)]
        assert installs[0] == installs[1], name
        if installs[0] or "activate Windows" in guess["actions"]:
            # Never "Licensed" nor "no key" before the host was asked: what the host check answered, then the outcome.
            assert guess["status"] == PENDING % outcome["host"], (name, guess["status"])
            assert outcome["status"] == "Licensed", (name, outcome["status"])
        else:
            assert guess["status"] == outcome["status"] == "Licensed", name


class _Page(html.parser.HTMLParser):
    """What a reader sees of the rendered page: the summary cards and the rows marked non-compliant."""

    def __init__(self):
        super().__init__()
        self.cards = {}
        self.noncompliant_rows = 0
        self._card = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "noncompliant" in (attrs.get("class") or "").split():
            self.noncompliant_rows += 1
        self._card = attrs.get("data-summary")

    def handle_data(self, data):
        if self._card and data.strip():
            self.cards[self._card] = data.strip()
            self._card = None


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1")
# A4 portrait at 96 CSS pixels per inch: 210 mm x 297 mm.
A4_WIDTH, A4_HEIGHT = 794, 1123
# Test-only: measured in the browser, the result left on <body> for --dump-dom (the page's CSP allows inline script).
MEASURE = """<script>
(function () {
  var width = document.documentElement.clientWidth, outside = [];
  document.querySelectorAll('td, th').forEach(function (cell) {
    var box = cell.getBoundingClientRect();
    if (box.right > width + 0.5 || box.left < -0.5) { outside.push(cell.textContent.slice(0, 40)); }
  });
  document.body.setAttribute('data-test-width', width);
  document.body.setAttribute('data-test-scroll-width', document.documentElement.scrollWidth);
  document.body.setAttribute('data-test-outside', JSON.stringify(outside));
})();
</script></body>"""


def chromium(tmp_path, *arguments):
    binary = shutil.which("chromium")
    assert binary, "Chromium is needed (tools/test.sh installs Debian's chromium package)"
    return subprocess.run([binary, *CHROMIUM_FLAGS, "--user-data-dir=%s" % (tmp_path / "profile"), *arguments],
                          capture_output=True, text=True, timeout=120, check=True)


class _Body(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.body = {}
        self.times = []
        self.bars = []
        self.months = {}
        self._in_time = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        elif tag == "rect" and "data-state" in attrs:
            self.bars.append((attrs["data-host"], attrs["data-state"], int(attrs["data-count"])))
        elif tag == "rect" and "data-month" in attrs:
            self.months[attrs["data-month"]] = int(attrs["data-count"])
        self._in_time = tag == "time"

    def handle_data(self, data):
        if self._in_time:
            self.times.append(data)
            self._in_time = False


def test_html_report_renders_in_chromium(site_run, tmp_path):
    report_dir = site_run[1]
    rendered = chromium(tmp_path, "--dump-dom", (report_dir / "avma-report.html").as_uri())
    page = _Page()
    page.feed(rendered.stdout)
    assert page.cards["non-compliant-vms"] == "5"
    assert page.noncompliant_rows == 5
    assert "gdxoff" in rendered.stdout and "hv2022na is not activated" in rendered.stdout


def lab_requests_per_month(lab):
    """YYYY-MM -> the Events 12310 in the Application logs of the demo's Hyper-V hosts, from the lab's saved state."""
    counts = collections.Counter()
    for host in (name for name, variables in lab.host_vars.items() if variables.get("hvlab_kind") == "host"):
        for event in lab.saved_instances(host)["root/cimv2/Win32_NTLogEvent"]:
            if event["EventCode"] == 12310 and event["Logfile"] == "Application":
                text = str(event["TimeGenerated"])
                counts[text[:7] if text[4] == "-" else "%s-%s" % (text[:4], text[4:6])] += 1
    return counts


def test_report_at_a4_width_clips_nothing_and_shows_its_counts(lab, site_run, tmp_path):
    report_dir = site_run[1]
    report = json.loads((report_dir / "avma-report.json").read_text())
    measured = tmp_path / "measured.html"
    measured.write_text((report_dir / "avma-report.html").read_text().replace("</body>", MEASURE, 1))
    rendered = chromium(tmp_path, "--window-size=%d,%d" % (A4_WIDTH, A4_HEIGHT), "--dump-dom", measured.as_uri())
    body = _Body()
    body.feed(rendered.stdout)
    assert int(body.body["data-test-width"]) <= A4_WIDTH
    assert json.loads(body.body["data-test-outside"]) == []
    assert int(body.body["data-test-scroll-width"]) <= int(body.body["data-test-width"])
    expected = {(host["name"], state, count) for host in report["hosts"]
                for state, count in collections.Counter(vm["compliance"] for vm in host["vms"]).items()}
    assert set(body.bars) == expected
    assert sum(count for _host, state, count in body.bars if state == "compliant") == report["summary"]["compliant_vms"]
    assert body.times and all(ISO_WITH_ZONE.match(text) for text in body.times), body.times
    # The requests-per-month chart counts what the hosts logged: the demo's renewals and refusals, and the site run's activations.
    logged = lab_requests_per_month(lab)
    assert body.months == {month: logged[month] for month in report["usage"]["months"]} and sum(body.months.values()) == sum(logged.values())
    assert sum(body.months.values()) >= len(ACTIVATED) + 3 * len(PRELICENSED)

    screenshot = tmp_path / "report-a4.png"
    chromium(tmp_path, "--window-size=%d,%d" % (A4_WIDTH, A4_HEIGHT), "--screenshot=%s" % screenshot, (report_dir / "avma-report.html").as_uri())
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_prints_to_a4_pdf_with_every_vm_and_column(site_run, tmp_path):
    report_dir = site_run[1]
    report = json.loads((report_dir / "avma-report.json").read_text())
    pdf = tmp_path / "report.pdf"
    chromium(tmp_path, "--no-pdf-header-footer", "--print-to-pdf=%s" % pdf, (report_dir / "avma-report.html").as_uri())
    for tool in ("pdfinfo", "pdftotext", "pdftoppm"):
        assert shutil.which(tool), "%s is needed (poppler-utils; tools/test.sh installs it)" % tool
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    sizes = set(re.findall(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info))
    assert {(round(float(width)), round(float(height))) for width, height in sizes} <= {(595, 842), (842, 595)}, info
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    for host in report["hosts"]:
        for vm in host["vms"]:
            assert vm["name"] in flat
    # The last column of the widest tables is on the page, not cut off.
    assert "settle it" in flat and "What to do" in flat
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    pages = list(tmp_path.glob("page*.png"))
    assert pages and pages[0].read_bytes()[:4] == b"\x89PNG"
