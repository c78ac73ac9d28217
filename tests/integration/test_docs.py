# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation as ansible-doc renders it for a user, for every module, inventory and filter plugin of the
collection: no doubled backslash (a YAML or markup escape that was taken literally)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import collections_path  # pylint: disable=import-error

BIN = Path(sys.executable).parent
PLUGIN_TYPES = ("module", "inventory", "filter")
DOUBLED_BACKSLASH = "\\\\"


def ansible_doc(tmp_path, *arguments):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_path()), ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_DEPRECATION_WARNINGS="0", COLUMNS="160")
    env.pop("ANSIBLE_CONFIG", None)
    run = subprocess.run([str(BIN / "ansible-doc"), *arguments], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def sections(text, names):
    """The text ansible-doc printed for several plugins, cut at each plugin's heading line (it starts with "> ")."""
    found, current = {}, None
    for line in text.splitlines():
        if line.startswith("> "):
            current = next(name for name in names if name.lower() in line.lower())
            found[current] = []
        if current:
            found[current].append(line)
    return {name: "\n".join(lines) for name, lines in found.items()}


@pytest.fixture(scope="module", name="docs")
def docs_fixture(tmp_path_factory):
    """{(plugin type, name): (rendered text, parsed documentation)} for every plugin of the collection."""
    tmp_path = tmp_path_factory.mktemp("ansible-doc")
    found = {}
    for plugin_type in PLUGIN_TYPES:
        names = sorted(json.loads(ansible_doc(tmp_path, "-t", plugin_type, "-l", "hyperv.avma", "--json")))
        assert names, plugin_type
        parsed = json.loads(ansible_doc(tmp_path, "-t", plugin_type, "--json", *names))
        texts = sections(ansible_doc(tmp_path, "-t", plugin_type, *names), sorted(names, key=len, reverse=True))
        assert set(texts) == set(names), plugin_type
        for name in names:
            found[(plugin_type, name)] = (texts[name], parsed[name])
    return found


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_every_plugin_of_the_collection_is_read(docs):
    modules = {name for plugin_type, name in docs if plugin_type == "module"}
    assert {"hyperv.avma.kvp_item", "hyperv.avma.kvp_info", "hyperv.avma.host_compliance_info"} <= modules
    assert ("inventory", "hyperv.avma.kvp") in docs and ("filter", "hyperv.avma.compliance_report") in docs


def test_rendered_docs_show_no_doubled_backslash(docs):
    for (plugin_type, name), (text, parsed) in docs.items():
        examples = (parsed.get("examples") or "").strip()
        # ansible-doc prints EXAMPLES as written: YAML, whose double-quoted strings escape a backslash as two. What the
        # examples mean is checked instead, after YAML has read them.
        assert examples in text, (plugin_type, name)
        rendered = text.replace(examples, "") if examples else text
        lines = [line for line in rendered.splitlines() if DOUBLED_BACKSLASH in line]
        assert lines == [], (plugin_type, name, lines)
        values = [value for value in strings(yaml.safe_load(examples) if examples else None) if DOUBLED_BACKSLASH in value]
        assert values == [], (plugin_type, name, values)
