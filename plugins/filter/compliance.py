# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters that build the fleet compliance report and render it; documented in compliance_report.yml,
report_html.yml, report_csv.yml and report_usage_csv.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.hyperv.avma.plugins.module_utils._compliance import DEFAULT_RENEWAL_DAYS, build_report
from ansible_collections.hyperv.avma.plugins.module_utils._report_render import render_csv, render_html, render_usage_csv
from ansible_collections.hyperv.avma.plugins.plugin_utils._report_context import run_context


def compliance_report(hosts, guests=None, generated_at=None, renewal_days=DEFAULT_RENEWAL_DAYS, usage_from=None, usage_to=None):
    if not isinstance(hosts, list) or not all(isinstance(host, dict) and host.get("name") for host in hosts):
        raise AnsibleFilterError("compliance_report expects a list of hosts, each a dict with at least 'name'")
    if guests is not None and not isinstance(guests, dict):
        raise AnsibleFilterError("compliance_report expects guests as a dict of guest name -> activation facts")
    try:
        return build_report(hosts, guests, generated_at, renewal_days=int(renewal_days), usage_from=usage_from or None,
                            usage_to=usage_to or None, context=run_context())
    except ValueError as error:
        raise AnsibleFilterError("compliance_report: %s" % error) from error


def _report(value, filter_name):
    if not isinstance(value, dict) or not {"summary", "hosts", "problems", "usage"} <= set(value):
        raise AnsibleFilterError("%s expects a report made by hyperv.avma.compliance_report" % filter_name)
    return value


def report_html(report):
    return render_html(_report(report, "report_html"))


def report_csv(report):
    return render_csv(_report(report, "report_csv"))


def report_usage_csv(report):
    return render_usage_csv(_report(report, "report_usage_csv"))


class FilterModule:

    def filters(self):
        return dict(compliance_report=compliance_report, report_html=report_html, report_csv=report_csv, report_usage_csv=report_usage_csv)
