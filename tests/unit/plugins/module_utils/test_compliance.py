# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.hyperv.avma.plugins.module_utils._compliance import build_report

READY_2022 = dict(host=dict(name="HV1", os=dict(release="2022", edition_id="ServerDatacenter"), is_datacenter=True, activated=True,
                            hyperv_installed=True),
                  can_activate_releases=["2022", "2019", "2016", "2012 R2"], problems=[], ready=True)


def vm(name, *, release="2022", data_exchange=True, state="running", published=None):
    items = {"HyperVAvma." + key: value for key, value in (published or {}).items()}
    return dict(name=name, id=name.upper() + "-ID", state=state, data_exchange=dict(enabled=data_exchange),
                guest_items=items, intrinsic_facts=dict(fqdn=name + ".corp.example", os_name="Windows Server", os_release=release,
                                                        os_edition_id="ServerDatacenter", ipv4_addresses=["10.0.0.1"]))


def guest(avma=True, status=1, reason=0, edition="ServerDatacenter", release="2022", key=True):
    product = dict(is_avma_key=avma, avma_activated=avma and status == 1, license_status=status,
                   license_status_name={0: "Unlicensed", 1: "Licensed", 2: "OOBGrace"}[status], partial_product_key="DV9BG",
                   license_status_reason=dict(hex="0x%08X" % reason, meaning=None)) if key else None
    return dict(os=dict(release=release, edition_id=edition), windows_product=product)


def host(name, host_info=None, vms=(), events=()):
    return dict(name=name, host_info=host_info or READY_2022, kvp=dict(vms=list(vms)), events=list(events))


def codes(report):
    return sorted(((problem["host"], problem["vm"], problem["code"]) for problem in report["problems"]), key=lambda row: (row[0], row[1] or "", row[2]))


def test_a_compliant_fleet_has_no_problems():
    report = build_report([host("hv1", vms=[vm("web")])], guests={"web": guest()})
    assert codes(report) == []
    assert report["summary"] == dict(hosts=1, hosts_not_ready=0, vms=1, compliant_vms=1, non_compliant_vms=0, problems=0)


def test_host_problems_and_their_avma_guests():
    not_activated = dict(READY_2022, host=dict(READY_2022["host"], activated=False), ready=False,
                         problems=[dict(code="host_not_activated", vm=None)])
    guests = {"web": guest(status=0, reason=0xC004FD02), "mak": guest(avma=False)}
    report = build_report([host("hv1", not_activated, vms=[vm("web"), vm("mak")])], guests=guests)
    assert codes(report) == [("hv1", None, "host_not_activated"), ("hv1", "web", "avma_host_cannot_activate")]
    assert "not activated" in report["problems"][1]["message"]
    assert report["summary"]["hosts_not_ready"] == 1 and report["summary"]["non_compliant_vms"] == 1


def test_guest_newer_than_its_host():
    old_host = dict(READY_2022, host=dict(READY_2022["host"], os=dict(release="2019")), can_activate_releases=["2019", "2016", "2012 R2"])
    report = build_report([host("hv19", old_host, vms=[vm("new", release="2022")])], guests={"new": guest(status=0, reason=0xC004FD03)})
    assert codes(report) == [("hv19", "new", "avma_host_cannot_activate")]
    assert "newer than the host" in report["problems"][0]["message"]


def test_data_exchange_off_explains_the_unlicensed_guest():
    report = build_report([host("hv1", vms=[vm("dx", data_exchange=False)])], guests={"dx": guest(status=0, reason=0xC004FD04)})
    assert codes(report) == [("hv1", "dx", "data_exchange_off")]


def test_evaluation_edition_without_a_key():
    report = build_report([host("hv1", vms=[vm("eval")])], guests={"eval": guest(key=False, edition="ServerStandardEval")})
    assert codes(report) == [("hv1", "eval", "guest_not_licensed")]
    assert "evaluation edition" in report["problems"][0]["message"]


def test_without_guest_access_the_published_status_counts():
    report = build_report([host("hv1", vms=[vm("a", published=dict(Channel="AVMA", LicenseStatus="Licensed")),
                                            vm("b", published=dict(Channel="AVMA", LicenseStatus="Unlicensed"))])])
    assert codes(report) == [("hv1", "b", "guest_not_licensed")]


def test_stale_avma_items_after_a_key_change():
    report = build_report([host("hv1", vms=[vm("mak", published=dict(Channel="AVMA", LicenseStatus="Licensed"))])],
                          guests={"mak": guest(avma=False)})
    assert codes(report) == [("hv1", "mak", "stale_avma_kvp")]


def test_unreachable_host_is_reported_and_the_rest_still_counts():
    report = build_report([dict(name="hv9", error="connection refused"), host("hv1", vms=[vm("web")])], guests={"web": guest()})
    assert codes(report) == [("hv9", None, "host_unreachable")]
    assert "connection refused" in report["problems"][0]["message"]


def test_avma_request_history_from_host_events():
    events = [dict(event_id=12310, time_generated="2026-11-02T10:00:00+00:00", insertion_strings=["web", "WEB", "x", "AVMA Success"]),
              dict(event_id=12310, time_generated="2026-11-20T10:00:00+00:00", insertion_strings=["WEB-ID"]),
              dict(event_id=12310, time_generated="2026-11-21T10:00:00+00:00", insertion_strings=["other"]),
              dict(event_id=12309, time_generated="2026-11-22T10:00:00+00:00", insertion_strings=["web"])]
    report = build_report([host("hv1", vms=[vm("web")], events=events)], guests={"web": guest()})
    assert report["hosts"][0]["vms"][0]["avma_requests"] == dict(count=2, first="2026-11-02T10:00:00+00:00", last="2026-11-20T10:00:00+00:00")
