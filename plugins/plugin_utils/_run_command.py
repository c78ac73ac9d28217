# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""How the controller-side plugins (action plugins, the inventory plugin) run a local command such as kinit; modules
use AnsibleModule.run_command instead (module_utils/_module.py).

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import subprocess


def run_command(command, stdin, env, timeout):
    """Run ``command`` with ``stdin`` (bytes) and exactly ``env``: (return code, stderr as text). Raises OSError
    (FileNotFoundError when the program is missing) or TimeoutError."""
    try:
        completed = subprocess.run(command, input=stdin, capture_output=True, env=env, timeout=timeout, start_new_session=True,
                                   check=False)
    except subprocess.TimeoutExpired as exc:
        raise TimeoutError(f"no answer within {timeout} s") from exc
    return completed.returncode, completed.stderr.decode("utf-8", "replace")
