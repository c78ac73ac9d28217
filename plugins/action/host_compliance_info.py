# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.hyperv.avma.plugins.module_utils._host_compliance import HOST_COMPLIANCE_INFO_SPEC, host_compliance_info_task
from ansible_collections.hyperv.avma.plugins.plugin_utils._wsman_action import WsmanAction


class ActionModule(WsmanAction):
    argument_spec = HOST_COMPLIANCE_INFO_SPEC
    task = staticmethod(host_compliance_info_task)
