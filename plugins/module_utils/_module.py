# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Run a task as an Ansible module (when the action plugin sends it to a jump host): the module-side twin of
plugin_utils/_wsman_action.py, ending in the same task function.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient
from ansible_collections.hyperv.avma.plugins.module_utils._connection import WINRM_ARGUMENT_SPEC, build_settings, explicit_options
from ansible_collections.hyperv.avma.plugins.module_utils import _kerberos
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaError, failure_fields
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WsmanClient


def argument_spec(task_spec):
    """The connection options plus a task's own options."""
    return dict(WINRM_ARGUMENT_SPEC, **task_spec)


def run_module(task, task_spec):
    """Build the module, run ``task(cim, params, check_mode, diff)`` against ``winrm_host`` and exit with its result."""
    module = AnsibleModule(argument_spec=argument_spec(task_spec), supports_check_mode=True)

    def run_command(command, stdin, env, _timeout):
        returncode, _stdout, stderr = module.run_command(command, data=stdin, binary_data=True, environ_update=env)
        return returncode, stderr

    _kerberos.command_runner = run_command
    try:
        settings = build_settings(explicit_options(module.params), label=module.params.get("winrm_host"))
        client = CimClient(WsmanClient(settings))
        try:
            result = task(client, module.params, module.check_mode, module._diff)
            client.describe_task(module._name, module.params, result, check_mode=module.check_mode, diff=module._diff)
        finally:
            client.close()
    except AvmaError as error:
        module.fail_json(**failure_fields(error))
    module.exit_json(**result)
