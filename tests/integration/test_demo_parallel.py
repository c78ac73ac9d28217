# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two ``tools/demo.sh`` at once on one machine both succeed, each with its own lab (directory, free ports) and its
own report, and each stops its lab.

This test costs what two demos side by side cost: 176 s on the shared 2-core machine under a load average of about 16
(other test runs going), where one demo alone took 95 s (``time ./tools/demo.sh``); measured with
``.venv/bin/pytest -p no:cacheprovider -q -s --durations=1 tests/integration/test_demo_parallel.py``, which also prints
the time. The demos' lab directories (.lab/demo-*) are removed afterwards.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"^AVMA compliance report: 5 hosts \(0 not read, 2 not ready\), 29 VMs, 24 compliant, 5 not compliant, 0 unknown, "
                     r"7 problems$", re.MULTILINE)
REPORT = re.compile(r"^==> report: (\S+)/report/avma-report\.html ", re.MULTILINE)


def running(pid_file):
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


@pytest.mark.skipif(Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(),
                    reason="tools/demo.sh always runs on the main venv (.venv): its run covers it")
def test_two_demos_at_once_both_succeed_and_print_their_reports():
    env = dict(os.environ)
    for name in ("ANSIBLE_CONFIG", "ANSIBLE_COLLECTIONS_PATH", "PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    started = time.monotonic()
    demos = [subprocess.Popen([str(ROOT / "tools" / "demo.sh")], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for _run in range(2)]
    outputs = [demo.communicate(timeout=600)[0] for demo in demos]
    elapsed = time.monotonic() - started
    for demo, output in zip(demos, outputs):
        assert demo.returncode == 0, output[-4000:]
        assert SUMMARY.search(output), output[-4000:]
        assert "Address already in use" not in output
    lab_dirs = [Path(REPORT.search(output).group(1)) for output in outputs]
    try:
        assert lab_dirs[0] != lab_dirs[1], lab_dirs
        for lab_dir in lab_dirs:
            assert (lab_dir / "report" / "avma-report.json").stat().st_size > 0
            # Each demo stopped its own lab.
            assert not running(lab_dir / "pid"), lab_dir
    finally:
        for lab_dir in set(lab_dirs):
            shutil.rmtree(lab_dir, ignore_errors=True)
    print("two demos side by side: %.0f s" % elapsed)
