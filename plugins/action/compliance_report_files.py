# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""hyperv.avma.compliance_report_files: build the fleet compliance report on the controller and write its files, in
one step (the documentation is in plugins/modules/compliance_report_files.py)."""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase

from ansible_collections.hyperv.avma.plugins.module_utils._compliance import DEFAULT_RENEWAL_DAYS, build_report
from ansible_collections.hyperv.avma.plugins.module_utils._host_compliance import report_host
from ansible_collections.hyperv.avma.plugins.module_utils._report_render import render_csv, render_html, render_usage_csv
from ansible_collections.hyperv.avma.plugins.plugin_utils._option_problems import option_problems
from ansible_collections.hyperv.avma.plugins.plugin_utils._report_context import run_context
from ansible_collections.hyperv.avma.plugins.plugin_utils._report_files import (
    FORMATS,
    ReportFilesError,
    nice_json,
    read_fragments,
    write_files,
    write_fragments,
)

ARGUMENT_SPEC = dict(
    hosts=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True),
        result=dict(type="dict"),
        guests=dict(type="dict", default={}),
    )),
    fragment_dir=dict(type="path"),
    dest=dict(type="path"),
    formats=dict(type="list", elements="str", choices=list(FORMATS), default=list(FORMATS)),
    renewal_days=dict(type="int", default=DEFAULT_RENEWAL_DAYS),
    usage_from=dict(type="str", default=""),
    usage_to=dict(type="str", default=""),
)

# The report's files, by the format that writes them.
_FILES = (
    ("json", "avma-report.json", nice_json),
    ("csv", "avma-report.csv", render_csv),
    ("csv", "avma-usage.csv", render_usage_csv),
    ("html", "avma-report.html", render_html),
)


def _without_answers(args):
    """The task's arguments with each host's answer and guest facts (the dicts among them) stood in by empty dicts, and
    those answers by the host's index. ArgumentSpecValidator deep-copies what it validates: for 50 hosts of 100 VMs
    that copy cost a second of CPU. The stand-ins keep what validation checks of them (that each is a dict); what is
    in them is checked where it is read (report_host)."""
    hosts = args.get("hosts")
    if not isinstance(hosts, list):
        return dict(args), {}
    answers, entries = {}, []
    for index, entry in enumerate(hosts):
        if isinstance(entry, dict):
            answer = {key: entry[key] for key in ("result", "guests") if isinstance(entry.get(key), dict)}
            if answer:
                answers[index] = answer
                entry = dict(entry, **{key: {} for key in answer})
        entries.append(entry)
    return dict(args, hosts=entries), answers


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args, answers = _without_answers(self._task.args)
        validation = ArgumentSpecValidator(ARGUMENT_SPEC, required_one_of=[("hosts", "fragment_dir")]).validate(args)
        if validation.error_messages:
            result.update(failed=True, msg=self._validation_message(validation))
            return result
        params = validation.validated_parameters
        for index, entry in answers.items():
            params["hosts"][index].update(entry)
        try:
            if params["hosts"] is not None and params["fragment_dir"]:
                written = write_fragments(params["fragment_dir"], self._host_inputs(params["hosts"]), check_mode=self._task.check_mode)
                result.update(changed=True, fragments=written)
                return result
            if not params["dest"]:
                raise ReportFilesError("dest is required to write the report (only writing fragments needs none)")
            inputs = self._host_inputs(params["hosts"]) if params["hosts"] is not None else read_fragments(params["fragment_dir"])
            hosts, guests = [host for host, _guests in inputs], {}
            for _host, host_guests in inputs:
                guests.update(host_guests)
            report = build_report(hosts, guests, renewal_days=params["renewal_days"], usage_from=params["usage_from"] or None,
                                  usage_to=params["usage_to"] or None, context=run_context())
            contents = [(name, render(report)) for file_format, name, render in _FILES if file_format in params["formats"]]
            files = write_files(params["dest"], contents, check_mode=self._task.check_mode)
        except (ReportFilesError, ValueError) as error:
            result.update(failed=True, msg="hyperv.avma.compliance_report_files: %s" % error)
            return result
        result.update(changed=True, files=files, generated_at=report["generated_at"], summary=report["summary"], scope=report["scope"],
                      problems=report["problems"])
        return result

    @staticmethod
    def _host_inputs(hosts):
        """For each entry of the hosts option: (the report's input for the host, the activation facts of the guests
        read for it, by guest name)."""
        return [(report_host(host["name"], host["result"]), host["guests"]) for host in hosts]

    def _validation_message(self, validation):
        return "%s: %s" % (self._task.action, "; ".join(option_problems(self._task.action, validation)))
