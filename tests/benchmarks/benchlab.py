# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the benchmarks share: the collection importable from this checkout, the lab's command line and its admin
endpoint."""

from __future__ import annotations

import json
import os
import pathlib
import platform
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]


def collections_path(root=ROOT):
    """A collections path whose ansible_collections/hyperv/avma is the checkout at ``root`` (default: this one), so
    that a benchmark can measure another checkout (a git worktree of an older commit) against the same lab."""
    root = pathlib.Path(root).resolve()
    base = root / ".build" / "benchmark_collections"
    link = base / "ansible_collections" / "hyperv" / "avma"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(root, target_is_directory=True)
    return base


def import_collection(root=ROOT):
    """Make ansible_collections.hyperv.avma of the checkout at ``root`` importable (as tests/unit/conftest.py does)."""
    sys.path.insert(0, str(collections_path(root)))


def hvlab(*arguments, timeout=600, root=ROOT):
    """``python -m hvlab ARGUMENTS`` with the lab of the checkout at ``root`` (default: this one), from its root;
    raises on a non-zero exit."""
    return subprocess.run([sys.executable, "-m", "hvlab", *arguments], env=dict(os.environ, PYTHONPATH=str(pathlib.Path(root) / "tests")),
                          cwd=root, check=True, capture_output=True, text=True, timeout=timeout)


def admin(url, method, route, body=None):
    """A request to the lab's admin endpoint: its JSON answer."""
    data = json.dumps(body).encode() if body is not None else (b"" if method in ("POST", "DELETE") else None)
    request = urllib.request.Request(url + route, method=method, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def process_cpu_seconds(pid):
    """The CPU time (user and system) process ``pid`` has used so far, from /proc."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def finish(table, checks, markdown=None, note=""):
    """Print the benchmark's report (the machine and time, ``note``, the ``table``, and each budget of ``checks``,
    (text, met) pairs, as ok or MISSED), write it to ``markdown`` when given, and return the exit code: 1 when a
    budget is missed."""
    machine = f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}"
    report = "\n".join([f"Measured on {machine}, {time.strftime('%Y-%m-%d %H:%M %Z')}{note}.", "", table, "",
                        *[f"- {'ok' if met else 'MISSED'}: {text}" for text, met in checks]])
    print(report)
    if markdown:
        pathlib.Path(markdown).write_text(report + "\n")
    return 0 if all(met for _text, met in checks) else 1
