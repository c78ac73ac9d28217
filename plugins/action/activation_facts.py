# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.hyperv.avma.plugins.module_utils._guest_licensing import ACTIVATION_FACTS_SPEC, activation_facts_task
from ansible_collections.hyperv.avma.plugins.plugin_utils._wsman_action import WsmanAction


class ActionModule(WsmanAction):
    argument_spec = ACTIVATION_FACTS_SPEC
    task = staticmethod(activation_facts_task)
