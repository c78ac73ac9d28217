# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Identify: the real request gets an answer shaped like Windows Server 2016's."""

import pytest

from ansible_collections.hyperv.avma.tests.unit.hvlab.wsman_test_helpers import call, findall, fixture, make_service, parse, structure, text


def test_identify_matches_the_real_windows_response():
    service = make_service()
    reply, root = call(service, "g2016dc", fixture("wsman_identify_request_real.xml"))
    real = parse(fixture("wsman_identify_response_win2016_real.xml"))
    assert reply.status == 200 and not reply.wrote
    assert structure(root) == structure(real)
    for path in ("wsmid:ProtocolVersion", "wsmid:ProductVendor", "wsmid:ProductVersion"):
        assert text(root, "s:Body/wsmid:IdentifyResponse/" + path) == text(real, "s:Body/wsmid:IdentifyResponse/" + path)
    profiles = "s:Body/wsmid:IdentifyResponse/wsmid:SecurityProfiles/wsmid:SecurityProfileName"
    assert [node.text for node in findall(root, profiles)] == [node.text for node in findall(real, profiles)]
    assert len(list(root.find("{http://www.w3.org/2003/05/soap-envelope}Header"))) == 0


@pytest.mark.parametrize("machine, version", [("g2022dc", "OS: 10.0.20348 SP: 0.0 Stack: 3.0"),
                                              ("g2012r2std", "OS: 6.3.9600 SP: 0.0 Stack: 3.0"),
                                              ("g2025az", "OS: 10.0.26100 SP: 0.0 Stack: 3.0")])
def test_identify_reports_the_machine_os_version(machine, version):
    _reply, root = call(make_service(), machine, fixture("wsman_identify_request_real.xml"))
    assert text(root, "s:Body/wsmid:IdentifyResponse/wsmid:ProductVersion") == version


def test_identify_is_counted():
    service = make_service()
    call(service, "g2022dc", fixture("wsman_identify_request_real.xml"))
    assert service.stats()["machines"]["g2022dc"]["requests"] == {"Identify": 1}
