# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what the integration playbooks saved: one <host>.json per host (see the out_dir fixture)."""

import json


def saved(directory):
    """The results saved in ``directory`` since the last call, by host name; the files are consumed."""
    results = {}
    for path in directory.glob("*.json"):
        results[path.stem] = json.loads(path.read_text())
        path.unlink()
    return results
