# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The problems an action plugin found in its task's options, worded as Ansible's own modules word them.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

from ansible.module_utils.errors import UnsupportedError


def option_problems(action, validation):
    """Each problem ArgumentSpecValidator found (``validation``, its result) in the options of a task of ``action``."""
    return [("Unsupported parameters for (%s) module: %s" % (action, error.msg)) if isinstance(error, UnsupportedError) else error.msg
            for error in validation.errors]
