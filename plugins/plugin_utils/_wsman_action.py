# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The base of every hyperv.avma action plugin: run a task's WS-Man operation on the controller.

When the task's host uses the winrm or psrp connection, the endpoint and credentials that connection plugin resolved
are used (explicit ``winrm_*`` options win); with the local connection, for example under ``delegate_to: localhost``,
only the explicit options count. With any other connection (a Linux jump host over ssh, say) the module itself runs
there, so the WinRM traffic leaves from that host.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import os

from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.hyperv.avma.plugins.module_utils import _kerberos
from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient
from ansible_collections.hyperv.avma.plugins.module_utils._connection import TASK_WINRM_ARGUMENT_SPEC, build_settings, explicit_options
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaError, AvmaValueError, connection_failure, failure_fields
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WsmanClient
from ansible_collections.hyperv.avma.plugins.plugin_utils._connection_options import connection_kind, inherited_options
from ansible_collections.hyperv.avma.plugins.plugin_utils._option_problems import option_problems
from ansible_collections.hyperv.avma.plugins.plugin_utils._run_command import run_command

# kinit (Kerberos with a password) runs as a local command of this controller process.
_kerberos.command_runner = run_command

display = Display()

_IN_PROCESS_CONNECTIONS = ("winrm", "psrp", "local")


def _check_files(settings):
    """A CA bundle or client certificate that does not exist fails here, naming the machine, instead of as an OSError
    from deep inside the TLS set-up of the first request."""
    for option in ("ca_trust_path", "cert_pem", "cert_key_pem"):
        path = getattr(settings, option)
        if path and not os.path.exists(path):
            machine = "%s (%s)" % (settings.label, settings.host) if settings.label else settings.host
            raise AvmaValueError("%s: winrm_%s %s does not exist" % (machine, option, path))


class WsmanAction(ActionBase):
    """Subclasses set ``task = staticmethod(f)`` with ``f(cim, params, check_mode, diff) -> result dict`` and
    ``argument_spec`` (the task's own options; the connection options are added here)."""

    TRANSFERS_FILES = False
    _supports_check_mode = True
    argument_spec: dict = {}

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        full_spec = dict(TASK_WINRM_ARGUMENT_SPEC, **self.argument_spec)
        validation = ArgumentSpecValidator(full_spec).validate(dict(self._task.args))
        if validation.error_messages:
            result.update(failed=True, msg=self._validation_message(validation, task_vars))
            return result
        params = validation.validated_parameters

        kind = connection_kind(self._connection)
        if kind is None and self._connection_name() not in _IN_PROCESS_CONNECTIONS:
            return self._run_module_remotely(result, task_vars)

        label = self._target_name(kind, task_vars)
        secrets = set(validation._no_log_values)
        display.vvv("%s: running on the controller through the %s connection's settings" % (self._task.action, kind or "task's winrm_*"),
                    host=label)
        client = None
        try:
            settings = build_settings(explicit_options(params), self._inherited_options(), label=label)
            _check_files(settings)
            if settings.password:
                secrets.add(settings.password)
            client = CimClient(WsmanClient(settings, progress=self._progress_display(label or settings.host, secrets)))
            try:
                task_result = self.task(client, params, self._task.check_mode, self._task.diff)
                client.describe_task(self._task.action, params, task_result, check_mode=self._task.check_mode, diff=self._task.diff)
                result.update(task_result)
            finally:
                display.vvvv("%s: %d WS-Man requests" % (self._task.action, client.request_count), host=label)
                client.close()
        except AvmaError as error:
            if client is not None and connection_failure(error) and not client.answered:
                # As the winrm connection plugin does: a machine that never answered is UNREACHABLE, not FAILED.
                result.update(unreachable=True, msg=str(error))
            else:
                result.update(failure_fields(error))
        if label and result.get("warnings"):
            # Ansible prints a task's warnings without the host they are about.
            result["warnings"] = ["%s: %s" % (label, warning) for warning in result["warnings"]]
        return remove_values(result, secrets)

    def _progress_display(self, host, secrets):
        """Progress lines of long waits at -v: Ansible shows a task's result only when it ends."""
        def show(message):
            display.v(remove_values("%s: %s" % (self._task.action, message), secrets), host=host)
        return show

    def _validation_message(self, validation, task_vars):
        """One line naming the host, the module and each problem, with the wording of Ansible's own modules."""
        problems = option_problems(self._task.action, validation)
        host = self._task.delegate_to or task_vars.get("inventory_hostname")
        return "%s: %s" % (host, "; ".join(problems)) if host else "; ".join(problems)

    def _inherited_options(self):
        try:
            return inherited_options(self._connection)
        except (TypeError, ValueError) as error:
            raise AvmaValueError("invalid WinRM setting of the %s connection: %s" % (connection_kind(self._connection), error)) from error

    def _connection_name(self):
        return (getattr(self._connection, "_load_name", "") or "").rsplit(".", 1)[-1]

    def _target_name(self, kind, task_vars):
        """The name errors give the machine: the host whose winrm/psrp connection is used; under a local delegation
        the task's own host, for which the task names winrm_host; None (messages then show the address) when the task
        runs for the controller itself."""
        if kind:
            return self._task.delegate_to or task_vars.get("inventory_hostname")
        if self._task.delegate_to:
            return task_vars.get("inventory_hostname")
        return None

    def _run_module_remotely(self, result, task_vars):
        display.vvv("%s: running the module through the %s connection" % (self._task.action, self._connection_name()))
        result.update(self._execute_module(module_name=self._task.action, module_args=self._task.args, task_vars=task_vars))
        return result
