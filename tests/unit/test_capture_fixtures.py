# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The captures checked into tests/fixtures/captures as regression fixtures: each directory is scanned for anything
identifying that its fleet holds, and every task in it is replayed, with no network, to the result it recorded.
Every directory there is one fixture; its file ``FLEET`` names the lab fleet it was recorded from (relative to tests/).
``site``: hyperv.avma.site against tests/hvlab/fleets/demo.yml (how it was made: docs/docsite/rst/guide_fidelity.rst)."""

from __future__ import annotations

import json
import pathlib

import capture_scan
import pytest
import replay

TESTS = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures" / "captures"
CAPTURES = {directory.name: directory for directory in sorted(FIXTURES.iterdir()) if directory.is_dir()}


def fleet_of(name):
    """The fleet file the capture ``name`` was recorded from, as its FLEET file names it."""
    marker = CAPTURES[name] / "FLEET"
    assert marker.is_file(), "%s has no FLEET file naming the fleet it was recorded from" % CAPTURES[name]
    return TESTS / marker.read_text(encoding="utf-8").strip()


def test_the_fixture_directories_are_found():
    assert "site" in CAPTURES and fleet_of("site") == TESTS / "hvlab" / "fleets" / "demo.yml"
    assert len(capture_scan.capture_texts(CAPTURES["site"])) > 100


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_a_checked_in_capture_holds_nothing_identifying(name):
    texts = capture_scan.capture_texts(CAPTURES[name])
    assert texts
    assert capture_scan.leftovers(texts, capture_scan.identifying_values(fleet_of(name))) == []
    assert not (CAPTURES[name] / ".capture-key").exists()


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_every_task_of_a_checked_in_capture_replays_to_its_result(name, monkeypatch):
    replayed = 0
    documents = {file_name: json.loads(text) for file_name, text in capture_scan.capture_texts(CAPTURES[name]).items()}
    for file_name, document in documents.items():
        if document["task"] is None:
            continue  # a connection a task opened to another machine (replayed with that task), or a task that failed
        result, transport = replay.replay_task(document, monkeypatch, list(documents.values()))
        assert json.loads(json.dumps(result, default=str)) == document["result"], file_name
        assert transport.exhausted and all(opened.exhausted for opened in transport.opened), file_name
        replayed += 1
    assert replayed and replay.network_attempts == []


def test_a_client_that_asks_for_something_else_fails_the_replay(monkeypatch):
    texts = capture_scan.capture_texts(CAPTURES["site"])
    # host_compliance_info reads what host_info reads, then the VMs' KVP data, which this capture never recorded.
    document = next(json.loads(text) for text in texts.values() if '"hyperv.avma.host_info"' in text)
    document["task"]["action"] = "hyperv.avma.host_compliance_info"
    document["task"]["params"] = dict(events_since="90d", max_events=1000)
    with pytest.raises(replay.ReplayMismatch):
        replay.replay_task(document, monkeypatch)
