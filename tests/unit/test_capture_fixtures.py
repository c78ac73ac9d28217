# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The captures checked into tests/fixtures/captures as regression fixtures: each directory is scanned for anything
identifying that its fleet holds, and every task in it is replayed, with no network, to the result it recorded.
``site``: hyperv.avma.site against tests/hvlab/fleets/demo.yml (how it was made: docs/docsite/rst/guide_fidelity.rst)."""

from __future__ import annotations

import json
import pathlib

import capture_scan
import pytest
import replay

TESTS = pathlib.Path(__file__).resolve().parents[1]
CAPTURES = {"site": TESTS / "hvlab" / "fleets" / "demo.yml"}


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_a_checked_in_capture_holds_nothing_identifying(name):
    texts = capture_scan.capture_texts(TESTS / "fixtures" / "captures" / name)
    assert len(texts) > 100
    assert capture_scan.leftovers(texts, capture_scan.identifying_values(CAPTURES[name])) == []
    assert not (TESTS / "fixtures" / "captures" / name / ".capture-key").exists()


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_every_task_of_a_checked_in_capture_replays_to_its_result(name, monkeypatch):
    replayed = 0
    for file_name, text in capture_scan.capture_texts(TESTS / "fixtures" / "captures" / name).items():
        document = json.loads(text)
        if document["task"] is None:
            continue
        result, transport = replay.replay_task(document, monkeypatch)
        assert json.loads(json.dumps(result, default=str)) == document["result"], file_name
        assert transport.exhausted, file_name
        replayed += 1
    assert replayed > 100


def test_a_client_that_asks_for_something_else_fails_the_replay(monkeypatch):
    texts = capture_scan.capture_texts(TESTS / "fixtures" / "captures" / "site")
    # host_compliance_info reads what host_info reads, then the VMs' KVP data, which this capture never recorded.
    document = next(json.loads(text) for text in texts.values() if '"hyperv.avma.host_info"' in text)
    document["task"]["action"] = "hyperv.avma.host_compliance_info"
    document["task"]["params"] = dict(events_since="90d", max_events=1000, mask_values=[])
    with pytest.raises(replay.ReplayMismatch):
        replay.replay_task(document, monkeypatch)
