# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The versions the collection states agree: every ``version_added`` is a release in changelogs/changelog.yaml or
the version galaxy.yml is about to release."""

from __future__ import annotations

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSION_ADDED = re.compile(r"^\s*version_added:\s*['\"]?([0-9][0-9.]*)['\"]?\s*$", re.MULTILINE)


def known_versions():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    released = set((yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text()).get("releases") or {}))
    return galaxy, released | {galaxy}


def test_every_version_added_is_released_or_the_coming_version():
    galaxy, known = known_versions()
    stated = {}
    for path in sorted((ROOT / "plugins").rglob("*")) + sorted((ROOT / "roles").rglob("argument_specs.yml")):
        if path.suffix in (".py", ".yml", ".yaml") and path.is_file():
            for version in VERSION_ADDED.findall(path.read_text(encoding="utf-8")):
                stated.setdefault(version, []).append(str(path.relative_to(ROOT)))
    assert stated, "no version_added found"
    assert {version: files for version, files in stated.items() if version not in known} == {}, "galaxy.yml says %s" % galaxy
