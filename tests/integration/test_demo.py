# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demo: hyperv.avma.site against the lab's demo fleet ends with a report whose problems are exactly the
fleet's planted troubles, and the HTML report shows them in a real browser (headless Chromium)."""

from __future__ import annotations

import html.parser
import json
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLEET = "../../hvlab/fleets/demo.yml"

PLANTED = {
    ("hv2022na", None, "host_not_activated"),
    ("hv2022na", "g19na", "avma_host_cannot_activate"),
    ("hv2022std", None, "host_not_datacenter"),
    ("hv2022std", "g22std", "avma_host_cannot_activate"),
    ("hv2019", "g22on19", "avma_host_cannot_activate"),
    ("hv2025", "gdxoff", "data_exchange_off"),
    ("hv2025", "g22eval", "guest_not_licensed"),
}
REFUSED_GUESTS = {"g19na", "g22std", "g22on19", "gdxoff", "g22eval"}


@pytest.fixture(scope="module")
def site_run(lab, playbook_runner, tmp_path_factory):
    """One run of the site playbook, as tools/demo.sh runs it."""
    report_dir = tmp_path_factory.mktemp("report")
    run = playbook_runner(tmp_path_factory.mktemp("site"), ROOT / "playbooks" / "site.yml", lab.inventory,
                          extra_vars=dict(host_setup_data_exchange=False, compliance_report_dir=str(report_dir)))
    return run, report_dir


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


def test_html_report_renders_in_chromium(site_run, tmp_path):
    report_dir = site_run[1]
    chromium = shutil.which("chromium")
    assert chromium, "Chromium is needed (tools/test.sh installs Debian's chromium package)"
    rendered = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--user-data-dir=%s" % (tmp_path / "profile"), "--dump-dom",
         (report_dir / "avma-report.html").as_uri()],
        capture_output=True, text=True, timeout=120, check=True)
    page = _Page()
    page.feed(rendered.stdout)
    assert page.cards["non-compliant-vms"] == "5"
    assert page.noncompliant_rows == 5
    assert "gdxoff" in rendered.stdout and "hv2022na is not activated" in rendered.stdout
