# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.hyperv.avma.plugins.module_utils._guest_licensing import AVMA_KEYWORD, PRODUCT_KEY_SPEC, product_key_task
from ansible_collections.hyperv.avma.plugins.plugin_utils._wsman_action import WsmanAction


class ActionModule(WsmanAction):
    argument_spec = PRODUCT_KEY_SPEC
    task = staticmethod(product_key_task)

    def run(self, tmp=None, task_vars=None):
        # key is no_log, so its value is scrubbed from everything the task returns. The keyword "avma" means the same
        # as leaving key out; passed on, it would turn every "avma" in the result into asterisks.
        key = self._task.args.get("key")
        if isinstance(key, str) and key.strip().lower() == AVMA_KEYWORD:
            self._task.args = {name: value for name, value in self._task.args.items() if name != "key"}
        return super().run(tmp, task_vars)
