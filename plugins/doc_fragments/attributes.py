# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    # Every module of the collection takes its connection options from module_defaults of the winrm group.
    DOCUMENTATION = r"""
attributes:
  action_group:
    support: full
    description: Takes its connection options from C(module_defaults) of the group.
    membership: [hyperv.avma.winrm]
"""

    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description: Reads only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is nothing to show.
"""
