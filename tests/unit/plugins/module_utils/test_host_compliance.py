# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_compliance_info's options are checked before any request (the reads themselves: the integration test)."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError
from ansible_collections.hyperv.avma.plugins.module_utils._host_compliance import host_compliance_info_task


class NoRequests:
    display_name = "hv01 (127.0.10.1:5985)"

    def __getattr__(self, name):
        raise AssertionError("a request was made: %s" % name)


def params(**overrides):
    return dict(dict(check_cluster_nodes=True, cluster_node_addresses={}, events_since="90d", max_events=1000, mask_values=[]), **overrides)


@pytest.mark.parametrize("overrides, message", [
    (dict(max_events=0), "max_events (0) must be a number from 1 to 10000"),
    (dict(max_events=10001), "max_events (10001) must be a number from 1 to 10000"),
    (dict(events_since="last tuesday"), "last tuesday"),
])
def test_bad_options_fail_naming_the_machine_before_any_request(overrides, message):
    with pytest.raises(AvmaValueError) as caught:
        host_compliance_info_task(NoRequests(), params(**overrides), False, False)
    assert str(caught.value).startswith("hv01 (127.0.10.1:5985): ") and message in str(caught.value)
