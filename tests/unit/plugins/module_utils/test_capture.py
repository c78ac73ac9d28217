# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Capture of WS-Man exchanges: what is replaced, that placeholders are stable, and how capture is switched on."""

from __future__ import annotations

import json

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._capture import CAPTURE_ENV, CaptureSession, Scrubber
from ansible_collections.hyperv.avma.plugins.module_utils._connection import build_settings
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WinrmSettings

import capture_scan

ANSWER = ("<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body><w:XmlFragment xmlns:w='urn:w'>"
          "<CSName>HV2022</CSName><Domain>corp.example</Domain><RegisteredUser>CORP\\alice</RegisteredUser>"
          "<GuestIntrinsicExchangeItems>&lt;INSTANCE CLASSNAME=\"Msvm_KvpExchangeDataItem\"&gt;&lt;PROPERTY NAME=\"Data\" "
          "TYPE=\"string\"&gt;&lt;VALUE&gt;web01.corp.example&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;PROPERTY NAME=\"Name\" "
          "TYPE=\"string\"&gt;&lt;VALUE&gt;FullyQualifiedDomainName&lt;/VALUE&gt;&lt;/PROPERTY&gt;&lt;/INSTANCE&gt;"
          "</GuestIntrinsicExchangeItems><InsertionStrings>web01</InsertionStrings><InsertionStrings>AVMA Success</InsertionStrings>"
          "<InsertionStrings>0x00000000</InsertionStrings></w:XmlFragment></s:Body></s:Envelope>")


@pytest.fixture
def settings(tmp_path):
    return WinrmSettings(host="hv2022.corp.example", user="CORP\\svc-avma", password="S3cret&<pass>", label="hv2022", capture_dir=str(tmp_path))


def test_names_addresses_keys_and_passwords_are_replaced(tmp_path, settings):
    session = CaptureSession(str(tmp_path), settings)
    session.record(b"<r>FROM Win32_OperatingSystem</r>", answer=ANSWER.encode())
    scrub = session.scrubber.scrub
    text = scrub(ANSWER + " http://hv2022.corp.example:5986/wsman 10.1.2.3 fe80::215:7f00:a%12 CORP\\svc-avma "
                 "S3cret&amp;&lt;pass&gt; key W269N-WFGWX-YVC9B-4J6C9-T83GX version 10.0.20348.1 at 08:30:00")
    for secret in ("HV2022", "hv2022", "corp.example", "alice", "svc-avma", "web01", "10.1.2.3", "fe80::215", "S3cret",
                   "W269N-WFGWX"):
        assert secret.lower() not in text.lower(), secret
    assert "XXXXX-XXXXX-XXXXX-XXXXX-T83GX" in text
    assert "AVMA Success" in text and "0x00000000" in text and "10.0.20348.1" in text and "08:30:00" in text
    assert "HOST-" in text and "host-" in text and "domain-" in text and "user-" in text and "198.1" in text and "2001:db8::" in text


def test_placeholders_are_stable_in_a_directory_and_keep_the_case(tmp_path):
    key = b"k" * 32
    first, second = Scrubber(key), Scrubber(key)
    first.learn("host", "Web01")
    second.learn("host", "WEB01")
    assert first.scrub("Web01 web01 WEB01") == second.scrub("web01 Web01 WEB01")
    upper = first.scrub("WEB01")
    assert upper.isupper() and first.scrub("web01") == upper.lower()
    assert Scrubber(b"x" * 32).placeholder("host", "web01") != first.placeholder("host", "web01")


def test_a_session_file_holds_the_task_and_no_credentials(tmp_path, settings):
    session = CaptureSession(str(tmp_path), settings)
    session.record(b"<r>FROM Win32_OperatingSystem</r>", answer=ANSWER.encode())
    session.describe_task("hyperv.avma.kvp_info", {"winrm_password": "S3cret&<pass>", "vms": ["web01"]}, {"host_name": "HV2022"}, False, True)
    session.close()
    files = [path for path in tmp_path.iterdir() if path.suffix == ".json"]
    assert len(files) == 1 and (tmp_path / ".capture-key").exists()
    document = json.loads(files[0].read_text())
    assert document["task"]["params"] == {"vms": [document["task"]["params"]["vms"][0]]}
    assert document["task"]["params"]["vms"][0].startswith("host-") and document["result"]["host_name"].startswith("HOST-")
    assert (document["task"]["check_mode"], document["task"]["diff"]) == (False, True)
    assert "S3cret" not in files[0].read_text() and "svc-avma" not in files[0].read_text()


def test_failed_exchanges_are_recorded_and_raised_again(tmp_path, settings):
    class Failing:
        def send_message(self, message):
            error = RuntimeError("HTTP 500")
            error.code = 500
            error.response_text = ANSWER
            raise error

        def close_session(self):
            pass

    session = CaptureSession(str(tmp_path), settings)
    with pytest.raises(RuntimeError):
        session.wrap(Failing()).send_message(b"<r/>")
    assert session.exchanges[0]["status"] == 500 and session.exchanges[0]["answer"] == ANSWER


def test_capture_is_switched_on_by_the_option_or_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(CAPTURE_ENV, raising=False)
    assert build_settings({"host": "h", "user": "u", "password": "p"}).capture_dir is None
    assert build_settings({"host": "h", "user": "u", "password": "p", "capture_dir": str(tmp_path)}).capture_dir == str(tmp_path)
    monkeypatch.setenv(CAPTURE_ENV, str(tmp_path / "env"))
    assert build_settings({"host": "h", "user": "u", "password": "p"}).capture_dir == str(tmp_path / "env")


def test_the_scan_finds_what_was_left():
    found = capture_scan.leftovers({"a.json": "answer from G2022DC at 127.0.31.10 key W269N-WFGWX-YVC9B-4J6C9-T83GX"},
                                   {"G2022DC": "computer name", "127.0.31.10": "address"})
    assert sorted(what for _file, what, _value in found) == ["address", "computer name", "product key"]


def test_hex_looking_names_are_learned_codes_are_not(tmp_path):
    scrubber = Scrubber(b"k" * 32)
    for value in ("beef", "dbface", "0x00000000", "20348"):
        scrubber.learn("host", value)
    assert scrubber.scrub("beef dbface 0x00000000 20348").split()[2:] == ["0x00000000", "20348"]
    assert "beef" not in scrubber.scrub("beef dbface")


def test_every_process_of_a_run_gets_the_same_key(tmp_path):
    from ansible_collections.hyperv.avma.plugins.module_utils._capture import _directory_key

    first = _directory_key(str(tmp_path))
    assert len(first) == 32 and _directory_key(str(tmp_path)) == first
    assert [path.name for path in tmp_path.iterdir()] == [".capture-key"]
