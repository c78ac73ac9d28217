# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmarks' stand-in for a Linux jump host: the local connection under another name, so that the collection's
action plugins run their module through it (AnsiballZ, a Python process per task) as they do over ssh to a jump host,
instead of in the controller's process."""

from __future__ import annotations

from ansible.plugins.connection.local import Connection as LocalConnection

DOCUMENTATION = """
    name: jump_host
    short_description: the local connection, standing in for a jump host in the benchmarks
    description:
        - Runs modules on the controller as the local connection does, under a name the collection does not run in
          process, so that its modules take the path they take through a jump host.
    author: hyperv.avma contributors (@hyperv-avma)
    options: {}
"""


class Connection(LocalConnection):
    transport = "jump_host"
