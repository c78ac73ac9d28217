# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kvp_info and host_info on a host with 1,000 running VMs, by real ansible-playbook against the lab: every VM
parsed, and the WS-Man request count the same as for 10 VMs except for Pull requests (paging)."""

from __future__ import annotations

import ipaddress
import json
import math


FLEET = "kvp_scale.yml"
SIZES = {"hv44small": 10, "hv44large": 1000}
# The client asks for envelopes of up to 512,000 bytes (MaxEnvelopeSize); one VM's KVP component (21 intrinsic and
# 2 guest items as escaped CIM-XML) takes well under 25 KB, so every page of each of the three enumerations carries
# at least 20 VMs.
MIN_VMS_PER_PAGE = 20


def test_kvp_info_requests_do_not_grow_with_the_vms(lab, ansible_playbook, out_dir):
    lab.reset_stats()
    run = ansible_playbook("kvp_info.yml", lab.inventory, extra_vars=dict(target_hosts="hv44small,hv44large", out_dir=str(out_dir)))
    assert run.returncode == 0, run.stdout + run.stderr
    stats = lab.stats()["machines"]

    for host, count in SIZES.items():
        result = json.loads((out_dir / ("%s.json" % host)).read_text())
        vms = result["vms"]
        assert len(vms) == count
        assert len({vm["id"] for vm in vms}) == count
        assert sorted(vm["name"] for vm in vms) == ["vm%04d" % number for number in range(1, count + 1)]
        for vm in vms:
            assert vm["state"] == "running", vm["name"]
            assert vm["data_exchange"] == dict(enabled=True, status="OK", status_code=2, operational_status=[2]), vm["name"]
            assert vm["guest_items"] == {"Role": "tenant", "Tier": "bronze"}, vm["name"]
            assert len(vm["intrinsic_items"]) == 21, vm["name"]
            facts = vm["intrinsic_facts"]
            assert facts["os_release"] == "2022" and facts["os_edition_id"] == "ServerDatacenter" and facts["os_build"] == 20348
            assert facts["fqdn"] and len(facts["ipv4_addresses"]) == 1
            assert ipaddress.ip_address(facts["ipv4_addresses"][0]) in ipaddress.ip_network("10.200.0.0/16")
            assert vm["issues"] == [], vm["name"]

    small, large = stats["hv44small"]["requests"], stats["hv44large"]["requests"]
    assert small == {"Enumerate": 3}, small
    assert set(large) == {"Enumerate", "Pull"} and large["Enumerate"] == 3, large
    # 1,000 VMs' items fill several envelopes: only Pull requests are added, at most one per page of each class.
    assert 1 <= large["Pull"] <= 3 * math.ceil(SIZES["hv44large"] / MIN_VMS_PER_PAGE), large
    assert stats["hv44small"]["total_writes"] == 0 and stats["hv44large"]["total_writes"] == 0


def test_host_info_reads_1000_vms_in_seven_requests(lab, ansible_playbook, out_dir):
    lab.reset_stats()
    run = ansible_playbook("host_readiness.yml", lab.inventory, extra_vars=dict(target_hosts="hv44small,hv44large", out_dir=str(out_dir)))
    assert run.returncode == 0, run.stdout + run.stderr
    stats = lab.stats()["machines"]
    for host, count in SIZES.items():
        result = json.loads((out_dir / ("%s.json" % host)).read_text())
        assert result["ready"] is True and len(result["vms"]) == count
        assert all(vm["data_exchange_enabled"] is True and vm["data_exchange_status"] == "OK" for vm in result["vms"])
        # Six enumerations of the host, and a seventh of MSCluster_Node to learn whether it is a cluster node.
        assert stats[host]["requests"] == {"Enumerate": 7}, stats[host]
