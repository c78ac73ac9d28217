# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""hyperv.avma.activation_events run by real ansible-playbook against the lab: the records the lab holds and the
ones it writes for product_key runs, on guests (12309) and hosts (12310)."""

from __future__ import annotations

import datetime
import json
import re

import pytest

FLEET = "activation_events.yml"
HOSTILE = "{{ lookup('pipe', 'id') }}"


@pytest.fixture()
def results_dir(tmp_path):
    directory = tmp_path / "results"
    directory.mkdir()
    return directory


def read_events(ansible_playbook, lab, results_dir, targets, *arguments, **extra):
    run = ansible_playbook("activation_events.yml", lab.inventory, *arguments,
                           extra_vars=dict(target_hosts=targets, results_dir=str(results_dir), **extra))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    return {path.stem: json.loads(path.read_text()) for path in results_dir.glob("*.json")}


def mentions(event, name):
    text = " ".join([event["message"] or ""] + event["insertion_strings"])
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(name), text, re.IGNORECASE) is not None


def test_history_window_newest_first_raw_and_untemplated(lab, ansible_playbook, results_dir):
    lab.admin("POST", "/reset")
    lab.reset_stats()
    found = read_events(ansible_playbook, lab, results_dir, "ev22", "--check", ev_ids=[12309], ev_since="2026-11-15T00:00:00Z")["ev22"]
    assert found["since"] == "2026-11-15T00:00:00+00:00"
    assert found["count"] == 2 and found["limited"] is False
    foreign, invalid_data = found["events"]
    assert foreign["time_generated"].startswith("2026-11-21T07:00:00")
    assert foreign["provider"] == "ContosoAgent" and foreign["outcome"] is None
    assert foreign["insertion_strings"] == [HOSTILE] and HOSTILE in foreign["message"]
    assert foreign["raw"]["EventCode"] == 12309 and foreign["raw"]["Logfile"] == "Application"
    assert invalid_data["outcome"]["name"] == "invalid_data" and invalid_data["outcome"]["next_step"]
    assert invalid_data["record_number"] < foreign["record_number"]
    assert lab.stats()["total_writes"] == 0


def test_max_events_bounds_the_answer(lab, ansible_playbook, results_dir):
    found = read_events(ansible_playbook, lab, results_dir, "evhv", ev_ids=[12310], ev_max=1)["evhv"]
    assert found["count"] == 1 and found["limited"] is True
    assert found["events"][0]["event_id"] == 12310 and found["events"][0]["outcome"]["name"] == "success"


def test_records_the_lab_wrote_for_product_key_runs(lab, ansible_playbook, results_dir, tmp_path):
    lab.admin("POST", "/reset")
    since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=2)).isoformat()
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    run = ansible_playbook("product_key.yml", lab.inventory, extra_vars=dict(target_hosts="ev22,ev22na", results_dir=str(keys_dir)))
    assert run.returncode != 0  # ev22na cannot be activated: its host is not
    assert "ok: [ev22]" in run.stdout or "changed: [ev22]" in run.stdout

    found = read_events(ansible_playbook, lab, results_dir, "ev22,ev22na,evhv,evhvna", ev_since=since)
    expected = {"ev22": ("evhv", "success"), "ev22na": ("evhvna", "activation_denied")}
    for guest, (host, outcome) in expected.items():
        guest_events = found[guest]["events"]
        assert guest_events, guest
        assert all(event["event_id"] == 12309 and event["time_generated"] >= since[:19] for event in guest_events)
        assert guest_events[0]["outcome"]["name"] == outcome, guest_events[0]
        host_events = [event for event in found[host]["events"] if mentions(event, guest)]
        assert len(host_events) == len(guest_events), (guest, host_events, guest_events)
        assert all(event["event_id"] == 12310 and event["outcome"]["name"] == outcome for event in host_events)
