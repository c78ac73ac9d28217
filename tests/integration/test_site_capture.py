# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capture and replay (issue 9): one run of the site playbook against the demo fleet with HYPERV_AVMA_CAPTURE_DIR
set records every WS-Man exchange of every task; nothing that identifies a machine, a user or a network is left
in the files; and every recorded task, replayed against its files with no network, returns what it returned."""

from __future__ import annotations

import json
import pathlib
import re

import capture_scan
import pytest
import replay

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLEET = "../../hvlab/fleets/demo.yml"
FLEET_FILE = ROOT / "tests" / "hvlab" / "fleets" / "demo.yml"


@pytest.fixture(scope="module")
def capture(lab, playbook_runner, tmp_path_factory):
    directory = tmp_path_factory.mktemp("capture")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HYPERV_AVMA_CAPTURE_DIR", str(directory))
        run = playbook_runner(tmp_path_factory.mktemp("site"), ROOT / "playbooks" / "site.yml", lab.inventory,
                              extra_vars=dict(host_setup_data_exchange=False, compliance_report_dir=str(tmp_path_factory.mktemp("report"))))
    assert "PLAY RECAP" in run.stdout, run.stdout[-2000:]
    # g22dc is managed with a domain account (DEMOCORP\Administrator): its tasks ran, so its user and domain were
    # learned as the capture's user and domain, and the scan below looks for both.
    assert re.search(r"g22dc\s+: ok=[1-9]\d*\s+changed=\d+\s+unreachable=0\s+failed=0", run.stdout), run.stdout[-3000:]
    assert lab.host_vars["g22dc"]["ansible_user"] == "DEMOCORP\\Administrator"
    return directory


def test_every_machine_and_module_of_the_run_is_captured(capture):
    documents = [json.loads(text) for text in capture_scan.capture_texts(capture).values()]
    actions = {document["task"]["action"] for document in documents if document["task"]}
    assert {"hyperv.avma.host_info", "hyperv.avma.product_key", "hyperv.avma.activation_facts", "hyperv.avma.host_compliance_info"} <= actions
    endpoints = {document["endpoint"] for document in documents}
    assert len(endpoints) == 34  # 5 hosts and 29 guests, each under its own placeholder
    assert all(document["exchanges"] for document in documents)


def test_nothing_identifying_is_left_in_the_capture(capture):
    texts = capture_scan.capture_texts(capture)
    values = capture_scan.identifying_values(FLEET_FILE)
    assert values["DEMOCORP"] == "domain"
    assert capture_scan.leftovers(texts, values) + capture_scan.address_leftovers(texts) == []
    # the lab's machines are addressed by IP: each endpoint's address is a placeholder in 198.18.0.0/15
    assert all(json.loads(text)["endpoint"].startswith(("http://198.18.", "http://198.19.")) for text in texts.values())


def test_every_task_replays_to_its_recorded_result(capture, monkeypatch):
    replayed = 0
    documents = {name: json.loads(text) for name, text in capture_scan.capture_texts(capture).items()}
    for name, document in documents.items():
        if document["task"] is None:
            continue  # a task that failed before it returned: its exchanges are kept, there is no result to compare
        result, transport = replay.replay_task(document, monkeypatch, list(documents.values()))
        assert json.loads(json.dumps(result, default=str)) == document["result"], name
        assert transport.exhausted and all(opened.exhausted for opened in transport.opened), name
        replayed += 1
    assert replayed >= 100
    assert replay.network_attempts == []
