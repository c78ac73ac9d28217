# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._compliance import build_report, iso_time, usage_history, host_requests

NOW = "2026-12-02T12:00:00"


READY_2022 = dict(host=dict(name="HV1", os=dict(release="2022", edition_id="ServerDatacenter"), is_datacenter=True, activated=True,
                            hyperv_installed=True),
                  can_activate_releases=["2022", "2019", "2016", "2012 R2"], problems=[], ready=True)


def vm(name, *, release="2022", data_exchange=True, state="running", published=None, edition="ServerDatacenter"):
    items = {"HyperVAvma." + key: value for key, value in (published or {}).items()}
    return dict(name=name, id=name.upper() + "-ID", state=state, data_exchange=dict(enabled=data_exchange),
                guest_items=items, intrinsic_facts=dict(fqdn=name + ".corp.example", os_name="Windows Server", os_release=release,
                                                        os_edition_id=edition, ipv4_addresses=["10.0.0.1"]))


def guest(avma=True, status=1, reason=0, edition="ServerDatacenter", release="2022", key=True):
    product = dict(is_avma_key=avma, avma_activated=avma and status == 1, license_status=status,
                   license_status_name={0: "Unlicensed", 1: "Licensed", 2: "OOBGrace"}[status], partial_product_key="DV9BG",
                   license_status_reason=dict(hex="0x%08X" % reason, meaning=None)) if key else None
    return dict(os=dict(release=release, edition_id=edition), windows_product=product)


def host(name, host_info=None, vms=(), events=()):
    return dict(name=name, host_info=host_info or READY_2022, kvp=dict(vms=list(vms)), events=list(events))


RESULT_CODES = {"AVMA Success": "0x00000000", "Activation Denied": "0xC004FD02", "Invalid Host": "0xC004FD03"}


def request(name, time, outcome="AVMA Success"):
    return dict(event_id=12310, time_generated=time, insertion_strings=[name, name.upper(), "Microsoft Windows Server 2022", outcome,
                                                                        RESULT_CODES[outcome]])


def states(report):
    return {vm["name"]: vm["compliance"] for entry in report["hosts"] for vm in entry["vms"]}


def codes(report):
    return sorted(((problem["host"], problem["vm"], problem["code"]) for problem in report["problems"]), key=lambda row: (row[0], row[1] or "", row[2]))


def test_a_compliant_fleet_has_no_problems():
    report = build_report([host("hv1", vms=[vm("web")])], guests={"web": guest()}, generated_at=NOW)
    assert codes(report) == []
    assert report["summary"] == dict(hosts=1, hosts_failed=0, hosts_not_ready=0, vms=1, compliant_vms=1, non_compliant_vms=0,
                                     unknown_vms=0, problems=0)
    assert report["hosts"][0]["vms"][0]["evidence"][0]["source"] == "guest"
    assert report["scope"] == dict(hosts_asked=["hv1"], hosts_read=["hv1"], hosts_failed=[], guests_read=["web"])
    assert report["schema_version"] == 2 and report["generated_at"] == "2026-12-02T12:00:00+00:00"


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


def test_without_guest_access_the_published_status_counts_with_its_age():
    report = build_report([host("hv1", vms=[vm("a", published=dict(Channel="AVMA", LicenseStatus="Licensed", LastActivationTime="2026-11-30T12:00:00Z")),
                                            vm("b", published=dict(Channel="AVMA", LicenseStatus="Unlicensed"))])], generated_at=NOW)
    assert codes(report) == [("hv1", "b", "guest_not_licensed")]
    assert states(report) == dict(a="compliant", b="not_compliant")
    evidence = report["hosts"][0]["vms"][0]["evidence"][0]
    assert evidence["source"] == "guest_kvp" and evidence["age_days"] == 2.0


def licensed_avma(time="2026-11-30T12:00:00Z", **more):
    return dict(dict(Channel="AVMA", LicenseStatus="Licensed", LastActivationTime=time), **more)


@pytest.mark.parametrize("published, settles", [
    (licensed_avma("2026-11-20T12:00:00Z"), "last activation (2026-11-20T12:00:00+00:00) older than the 7-day renewal window"),
    (dict(Channel="AVMA", LicenseStatus="Licensed"), "with no last activation time"),
    (licensed_avma(""), "with no last activation time"),
    (licensed_avma("last Tuesday"), "with an unreadable last activation time"),
    (licensed_avma("2031-01-01T00:00:00Z"), "last activation in the future (2031-01-01T00:00:00+00:00)"),
    (licensed_avma("2026-12-02T12:30:00Z"), "last activation in the future"),
    (licensed_avma(Channel="VOLUME_MAK"), "published Licensed for a VOLUME_MAK key through KVP, which a host cannot check"),
    (licensed_avma(Channel=""), "published Licensed for a key of no named channel through KVP, which a host cannot check"),
])
def test_a_published_licensed_status_without_fresh_avma_evidence_is_unknown(published, settles):
    report = build_report([host("hv1", vms=[vm("web", published=published)])], generated_at=NOW)
    entry = report["hosts"][0]["vms"][0]
    assert entry["compliance"] == "unknown" and entry["evidence"] == [] and entry["problems"] == []
    assert settles in entry["settle"] and "read the guest (compliance_report_guest_access)" in entry["settle"]
    assert report["summary"]["compliant_vms"] == 0


def test_a_fresh_published_status_counts_within_the_clocks_tolerance():
    report = build_report([host("hv1", vms=[vm("web", published=licensed_avma("2026-12-02T12:05:00Z"))])], generated_at=NOW)
    entry = report["hosts"][0]["vms"][0]
    assert entry["compliance"] == "compliant"
    assert entry["evidence"] == [dict(source="guest_kvp", summary="the guest published Licensed for its AVMA key through KVP",
                                      time="2026-12-02T12:05:00+00:00", age_days=0.0)]


def test_the_hosts_own_log_outweighs_a_fresher_published_activation():
    old_request = request("web", "2026-11-10T08:00:00Z")
    report = build_report([host("hv1", vms=[vm("web", published=licensed_avma())], events=[old_request])], generated_at=NOW)
    entry = report["hosts"][0]["vms"][0]
    assert entry["compliance"] == "unknown"
    assert "last AVMA request (2026-11-10T08:00:00+00:00) is older than the 7-day renewal window" in entry["settle"]
    assert "last activation (2026-11-30T12:00:00+00:00) after the latest AVMA request the host logged from it" in entry["settle"]
    # A published activation at the time of the host's latest request agrees with it.
    agreeing = build_report([host("hv1", vms=[vm("web", published=licensed_avma("2026-11-28T08:01:00Z"))],
                                  events=[request("web", "2026-11-28T08:00:00Z", "Activation Denied")])], generated_at=NOW)
    assert states(agreeing) == dict(web="not_compliant")


def undecodable(name, time):
    return dict(event_id=12310, time_generated=time, insertion_strings=[name, "Aktivierung abgeschlossen"])


def test_a_request_whose_outcome_cannot_be_read_is_no_evidence_by_itself():
    report = build_report([host("hv1", vms=[vm("web")], events=[undecodable("web", "2026-12-01T08:00:00Z")])], generated_at=NOW)
    entry = report["hosts"][0]["vms"][0]
    assert entry["compliance"] == "unknown" and entry["avma_requests"]["count"] == 1 and entry["avma_requests"]["last_outcome"] is None
    assert "latest AVMA request in the host's Event 12310 history (2026-12-01T08:00:00+00:00) states no outcome" in entry["settle"]
    # What the guest published can settle it, when it agrees with the host's log.
    agreeing = vm("web", published=licensed_avma("2026-12-01T08:00:03Z"))
    published = build_report([host("hv1", vms=[agreeing], events=[undecodable("web", "2026-12-01T08:00:00Z")])], generated_at=NOW)
    assert published["hosts"][0]["vms"][0]["evidence"][0]["source"] == "guest_kvp" and states(published) == dict(web="compliant")
    # It still shows that the VM uses AVMA: on a host that cannot activate it, it is not compliant.
    standard = dict(READY_2022, host=dict(READY_2022["host"], is_datacenter=False), problems=[dict(code="host_not_datacenter", vm=None)])
    refused = build_report([host("hv1", standard, vms=[vm("web")], events=[undecodable("web", "2026-12-01T08:00:00Z")])], generated_at=NOW)
    assert codes(refused) == [("hv1", None, "host_not_datacenter"), ("hv1", "web", "avma_host_cannot_activate")]


def test_the_outcome_comes_from_the_result_code_in_any_language():
    german = dict(event_id=12310, time_generated="2026-12-01T08:00:00Z",
                  insertion_strings=["web", "WEB", "Microsoft Windows Server 2022", "AVMA erfolgreich", "0x00000000"])
    denied = dict(german, insertion_strings=["db", "DB", "Microsoft Windows Server 2022", "Aktivierung verweigert", "0xC004FD02"])
    report = build_report([host("hv1", vms=[vm("web"), vm("db")], events=[german, denied])], generated_at=NOW)
    assert states(report) == dict(web="compliant", db="not_compliant")
    assert codes(report) == [("hv1", "db", "avma_request_failed")]
    assert "Activation Denied (0xC004FD02)" in report["problems"][0]["message"]


def test_nothing_is_compliant_without_evidence():
    report = build_report([host("hv1", vms=[vm("quiet"), vm("off", state="off"), vm("dx", data_exchange=False)])], generated_at=NOW)
    assert states(report) == dict(quiet="unknown", off="unknown", dx="unknown")
    assert report["summary"]["unknown_vms"] == 3 and report["summary"]["compliant_vms"] == 0
    settles = {entry["name"]: entry["settle"] for entry in report["hosts"][0]["vms"]}
    assert "Event 12310" in settles["quiet"] and "read the guest" in settles["quiet"]
    assert "not running" in settles["off"] and "Data Exchange is off" in settles["dx"]
    assert codes(report) == []


def test_host_side_12310_requests_within_the_renewal_window():
    events = [request("recent", "2026-11-28T08:00:00Z"), request("old", "2026-11-10T08:00:00Z"),
              request("denied", "2026-11-30T08:00:00Z", outcome="Activation Denied"), request("recent", "2026-11-01T08:00:00Z")]
    report = build_report([host("hv1", vms=[vm("recent"), vm("old"), vm("denied")], events=events)], generated_at=NOW)
    assert states(report) == dict(recent="compliant", old="unknown", denied="not_compliant")
    entries = {entry["name"]: entry for entry in report["hosts"][0]["vms"]}
    assert entries["recent"]["evidence"][0]["source"] == "host_12310" and entries["recent"]["evidence"][0]["age_days"] == 4.2
    assert entries["recent"]["avma_requests"]["count"] == 2
    assert "older than the 7-day renewal window" in entries["old"]["settle"]
    assert codes(report) == [("hv1", "denied", "avma_request_failed")]
    wider = build_report([host("hv1", vms=[vm("old")], events=events)], generated_at=NOW, renewal_days=30)
    assert states(wider) == dict(old="compliant")


def test_host_side_requests_on_a_host_that_cannot_activate():
    standard = dict(READY_2022, host=dict(READY_2022["host"], is_datacenter=False), problems=[dict(code="host_not_datacenter", vm=None)])
    report = build_report([host("hv1", standard, vms=[vm("web")], events=[request("web", "2026-12-01T08:00:00Z", "Invalid Host")])],
                          generated_at=NOW)
    assert codes(report) == [("hv1", None, "host_not_datacenter"), ("hv1", "web", "avma_host_cannot_activate")]


@pytest.mark.parametrize("code", ["hyperv_missing", "hyperv_unavailable"])
def test_a_host_whose_hyperv_does_not_answer_is_read_but_not_ready(code):
    no_hyperv = dict(READY_2022, problems=[dict(code=code, vm=None)], ready=False)
    report = build_report([host("hv1", no_hyperv)], generated_at=NOW)
    assert report["scope"]["hosts_read"] == ["hv1"] and report["scope"]["hosts_failed"] == []
    assert codes(report) == [("hv1", None, code)]
    assert report["hosts"][0]["ready"] is False and report["summary"]["hosts_not_ready"] == 1


def test_evaluation_edition_seen_from_the_host():
    report = build_report([host("hv1", vms=[vm("eval", edition="ServerStandardEval")])], generated_at=NOW)
    assert codes(report) == [("hv1", "eval", "evaluation_edition")]
    assert states(report) == dict(eval="not_compliant")


def test_avma_guest_with_data_exchange_off_cannot_renew():
    report = build_report([host("hv1", vms=[vm("dx", data_exchange=False)])], guests={"dx": guest()}, generated_at=NOW)
    assert codes(report) == [("hv1", "dx", "data_exchange_off")]
    mak = build_report([host("hv1", vms=[vm("dx", data_exchange=False)])], guests={"dx": guest(avma=False)}, generated_at=NOW)
    assert states(mak) == dict(dx="compliant")


def test_times_are_iso_8601_with_zone_and_whole_seconds():
    assert iso_time("2026-12-02T16:20:05.123456") == "2026-12-02T16:20:05+00:00"
    assert iso_time("2026-12-02T17:20:05.5+01:00") == "2026-12-02T16:20:05+00:00"
    assert iso_time("not a time") is None
    report = build_report([host("hv1", vms=[vm("web")], events=[request("web", "2026-12-01T08:00:00.250000+00:00")])],
                          generated_at="2026-12-02T12:00:00.999999")
    assert report["generated_at"] == "2026-12-02T12:00:00+00:00"
    assert report["hosts"][0]["vms"][0]["avma_requests"]["last"] == "2026-12-01T08:00:00+00:00"


def test_monthly_usage_per_host_and_vm():
    events = [request("web", "2026-09-03T08:00:00Z"), request("web", "2026-09-10T08:00:00Z"), request("db", "2026-09-20T08:00:00Z"),
              request("gone", "2026-11-05T08:00:00Z"), request("web", "2026-12-01T08:00:00Z"), request("web", "2026-08-31T23:59:59Z")]
    report = build_report([host("hv1", vms=[vm("web"), vm("db")], events=events)], generated_at=NOW, usage_from="2026-09", usage_to="2026-11")
    usage = report["usage"]
    assert usage["months"] == ["2026-09", "2026-10", "2026-11"]
    rows = {row["month"]: row for row in usage["rows"]}
    assert [(entry["vm"], entry["requests"], entry["first"], entry["last"]) for entry in rows["2026-09"]["vms"]] == [
        ("db", 1, "2026-09-20T08:00:00+00:00", "2026-09-20T08:00:00+00:00"),
        ("web", 2, "2026-09-03T08:00:00+00:00", "2026-09-10T08:00:00+00:00")]
    assert rows["2026-10"]["vms"] == [] and rows["2026-10"]["requests"] == 0
    assert rows["2026-11"]["vms"] == [dict(vm="gone", vm_id=None, requests=1, first="2026-11-05T08:00:00+00:00", last="2026-11-05T08:00:00+00:00")]
    default = build_report([host("hv1", vms=[vm("web")], events=events)], generated_at=NOW)["usage"]
    assert default["first_month"] == "2026-08" and default["last_month"] == "2026-12"


def test_months_before_the_history_read_is_complete_are_marked():
    events = [request("web", "2026-09-20T08:00:00Z"), request("web", "2026-10-03T08:00:00Z"), request("web", "2026-11-05T08:00:00Z")]
    partial = dict(host("hv1", vms=[vm("web")], events=events), events_since="2026-09-15T00:00:00Z", events_limited=False)
    report = build_report([partial], generated_at=NOW, usage_from="2026-09", usage_to="2026-11")
    rows = {row["month"]: row for row in report["usage"]["rows"]}
    assert [rows[month]["complete"] for month in ("2026-09", "2026-10", "2026-11")] == [False, True, True]
    assert rows["2026-09"]["incomplete_because"] == "the history read starts at 2026-09-15T00:00:00+00:00"
    assert rows["2026-10"]["incomplete_because"] is None and report["usage"]["complete"] is False
    entry = report["hosts"][0]
    start = "2026-09-15T00:00:00+00:00"
    assert (entry["events_since"], entry["events_limited"], entry["history_complete_from"]) == (start, False, start)
    # Cut at max_events: only the newest were read, so the months up to the oldest one read are not complete.
    cut = dict(host("hv1", vms=[vm("web")], events=events[1:]), events_since="2026-09-01T00:00:00Z", events_limited=True)
    report = build_report([cut], generated_at=NOW, usage_from="2026-09", usage_to="2026-11")
    rows = {row["month"]: row for row in report["usage"]["rows"]}
    assert [rows[month]["complete"] for month in ("2026-09", "2026-10", "2026-11")] == [False, False, True]
    assert rows["2026-09"]["incomplete_because"] == ("the history read was cut at compliance_report_max_events: requests before "
                                                     "2026-10-03T08:00:00+00:00 were left out")
    assert report["hosts"][0]["events_limited"] is True and report["hosts"][0]["history_complete_from"] == "2026-10-03T08:00:00+00:00"
    # From the first day of the first month, and not cut: every month is complete.
    whole = dict(host("hv1", vms=[vm("web")], events=events), events_since="2026-09-01T00:00:00Z", events_limited=False)
    assert build_report([whole], generated_at=NOW, usage_from="2026-09", usage_to="2026-11")["usage"]["complete"] is True


@pytest.mark.parametrize("first, last", [("2026-13", "2026-12"), ("2026-9", "2026-10"), ("2026-11", "2026-10")])
def test_usage_period_is_checked(first, last):
    with pytest.raises(ValueError):
        usage_history({}, first, last)


def test_request_of_no_known_vm_keeps_its_logged_name():
    requests = host_requests([dict(id="A-ID", name="a")], [request("ghost", "2026-11-05T08:00:00Z"), dict(event_id=12310, insertion_strings=["a"])])
    assert [(item["vm_id"], item["vm_name"]) for item in requests] == [(None, "ghost")]


def test_stale_avma_items_after_a_key_change():
    report = build_report([host("hv1", vms=[vm("mak", published=dict(Channel="AVMA", LicenseStatus="Licensed"))])],
                          guests={"mak": guest(avma=False)})
    assert codes(report) == [("hv1", "mak", "stale_avma_kvp")]


def test_unreachable_host_is_reported_and_the_rest_still_counts():
    report = build_report([dict(name="hv9", error="connection refused"), host("hv1", vms=[vm("web")])], guests={"web": guest()})
    assert codes(report) == [("hv9", None, "host_unreachable")]
    assert "connection refused" in report["problems"][0]["message"]
    assert report["scope"]["hosts_failed"] == ["hv9"] and report["summary"]["hosts_failed"] == 1


def test_avma_request_history_from_host_events():
    events = [dict(event_id=12310, time_generated="2026-11-02T10:00:00+00:00", insertion_strings=["web", "WEB", "x", "AVMA Success"]),
              dict(event_id=12310, time_generated="2026-11-20T10:00:00+00:00", insertion_strings=["WEB-ID"]),
              dict(event_id=12310, time_generated="2026-11-21T10:00:00+00:00", insertion_strings=["other"]),
              dict(event_id=12309, time_generated="2026-11-22T10:00:00+00:00", insertion_strings=["web"])]
    report = build_report([host("hv1", vms=[vm("web")], events=events)], guests={"web": guest()}, generated_at=NOW)
    assert report["hosts"][0]["vms"][0]["avma_requests"] == dict(count=2, first="2026-11-02T10:00:00+00:00", last="2026-11-20T10:00:00+00:00",
                                                                 last_outcome=None)


def test_a_vm_whose_kvp_was_too_large_to_read_is_flagged_and_the_others_are_not():
    big = dict(vm("bigvm"), issues=[dict(source="guest", name=None, code="too_large", message="left out")])
    report = build_report([host("hv1", vms=[big, vm("web")])], guests={"web": guest()}, generated_at=NOW)
    assert codes(report) == [("hv1", "bigvm", "kvp_too_large")]
    assert states(report) == {"bigvm": "unknown", "web": "compliant"}


def test_the_published_status_leaves_out_the_digest_item():
    published = vm("web", published={"LicenseStatus": "Licensed", "Channel": "AVMA", "StatusDigest": "0123456789abcdef"})
    report = build_report([host("hv1", vms=[published])], generated_at=NOW)
    assert report["hosts"][0]["vms"][0]["published_status"] == {"LicenseStatus": "Licensed", "Channel": "AVMA"}
