# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The unit tests run under ``ansible-test units`` as shipped, not only under plain pytest.

ansible-test imports every test file as ``ansible_collections.hyperv.avma.tests.unit...`` and puts no test directory
on ``sys.path``, so a helper imported by its bare file name (``from wsman_test_helpers import ...``) is found by plain
pytest and missed by ansible-test. It installs tests/unit/requirements.txt, whose pins must be the ones the other test
runs use.
"""

from __future__ import annotations

import re
from pathlib import Path

UNIT = Path(__file__).resolve().parent
TESTS = UNIT.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")
BARE_IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_][A-Za-z0-9_]*)\b", re.MULTILINE)


def pins(path):
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            found[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return found


def test_no_unit_test_imports_a_module_of_the_unit_tree_by_its_bare_name():
    helpers = {path.stem for path in UNIT.rglob("*.py")}
    offenders = sorted("%s: %s" % (path.relative_to(TESTS), name) for path in UNIT.rglob("*.py")
                       for name in BARE_IMPORT.findall(path.read_text()) if name in helpers)
    assert offenders == [], "import these through ansible_collections.hyperv.avma.tests.unit...: %s" % offenders


def test_unit_and_integration_requirements_pin_what_the_test_venvs_pin():
    pinned = dict(pins(TESTS / "requirements-runtime.txt"), **pins(TESTS / "requirements-auth.txt"))
    for requirements in (UNIT / "requirements.txt", TESTS / "integration" / "requirements.txt"):
        listed = pins(requirements)
        assert listed, requirements
        assert {name: version for name, version in listed.items() if pinned.get(name) != version} == {}, requirements
