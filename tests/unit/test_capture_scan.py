# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The capture scan a user runs before publishing a capture of a real host (``python -m capture_scan DIR --value ...``):
it finds the values given, full product keys, addresses outside the placeholder ranges and the .capture-key file,
and passes a clean directory."""

from __future__ import annotations

import json
import pathlib

import capture_scan

TESTS = pathlib.Path(__file__).resolve().parents[1]


def capture_file(directory, text):
    (directory / "20261201T000000-1-1.json").write_text(json.dumps(dict(format=1, endpoint="http://198.18.1.2:5985/wsman", exchanges=[
        dict(request="<s:Envelope/>", status=200, answer=text, error=None)])))


def test_the_scan_finds_what_identifies_a_real_host(tmp_path, capsys):
    capture_file(tmp_path, "<p:CSName>HV01</p:CSName><p:Domain>corp.example</p:Domain><p:Key>W3GNR-8DDXR-2TFRP-H8P33-DV9BG</p:Key>"
                           "<a>10.20.30.40</a><b>fe80::1:2</b><c>198.18.7.7</c><d>2001:db8::5</d>")
    (tmp_path / ".capture-key").write_text("00")
    assert capture_scan.main([str(tmp_path), "--value", "hv01", "--value", "CORP.EXAMPLE"]) == 1
    findings = capsys.readouterr().out
    for expected in ("given value: hv01", "given value: corp.example", "product key: W3GNR-8DDXR-2TFRP-H8P33-DV9BG",
                     "address: 10.20.30.40", "address: fe80::1:2", ".capture-key: placeholder key"):
        assert expected in findings, expected
    assert "198.18.7.7" not in findings and "2001:db8::5" not in findings and "6 findings" in findings


def test_a_clean_capture_passes(tmp_path, capsys):
    capture_file(tmp_path, "<p:CSName>HOST-3fa2c1</p:CSName><p:Key>XXXXX-XXXXX-XXXXX-XXXXX-DV9BG</p:Key><a>198.18.0.9</a>")
    assert capture_scan.main([str(tmp_path), "--value", "hv01"]) == 0
    assert "1 files scanned, 0 findings" in capsys.readouterr().out


def test_the_checked_in_site_capture_passes_the_scan_of_its_fleet():
    assert capture_scan.main([str(TESTS / "fixtures" / "captures" / "site"), "--fleet", str(TESTS / "hvlab" / "fleets" / "demo.yml")]) == 0
