# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The documentation as ansible-doc renders it for a user, for every module, inventory and filter plugin of the
collection: no doubled backslash (a YAML or markup escape that was taken literally), and the defaults it shows for the
``winrm_*`` options are the ones that apply, or, where it shows ``null``, the description says what applies."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BIN = Path(sys.executable).parent
PLUGIN_TYPES = ("module", "inventory", "filter")
DOUBLED_BACKSLASH = "\\\\"


def ansible_doc(tmp_path, collections_dir, *arguments):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections_dir), ANSIBLE_HOME=str(tmp_path / "home"),
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
def docs_fixture(tmp_path_factory, collections_dir):
    """{(plugin type, name): (rendered text, parsed documentation)} for every plugin of the collection."""
    tmp_path = tmp_path_factory.mktemp("ansible-doc")
    found = {}
    for plugin_type in PLUGIN_TYPES:
        names = sorted(json.loads(ansible_doc(tmp_path, collections_dir, "-t", plugin_type, "-l", "hyperv.avma", "--json")))
        assert names, plugin_type
        parsed = json.loads(ansible_doc(tmp_path, collections_dir, "-t", plugin_type, "--json", *names))
        texts = sections(ansible_doc(tmp_path, collections_dir, "-t", plugin_type, *names), sorted(names, key=len, reverse=True))
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


def option_blocks(text, names):
    """The rendered text of each option in ``names``: from the line that starts with its name to the next option's."""
    header = re.compile(r"^\s*(?:- )?(%s)(?:\s|$)" % "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)))
    blocks, current = {}, None
    for line in text.splitlines():
        match = header.match(line)
        if match:
            current = match.group(1)
            blocks[current] = [line]
        elif current:
            blocks[current].append(line)
    return {name: "\n".join(lines) for name, lines in blocks.items()}


def rendered_default(block):
    match = re.search(r"^\s*(?:default: (.*)|\[Default: (.*)\])$", block, re.MULTILINE)
    assert match, block
    return match.group(1) if match.group(1) is not None else match.group(2)


EFFECTIVE = {"winrm_retries": "3", "winrm_retry_max_sec": "120", "winrm_allow_basic_over_http": "false", "winrm_path": "/wsman",
             "winrm_transport": "ntlm", "winrm_server_cert_validation": "validate", "winrm_message_encryption": "auto",
             "winrm_operation_timeout_sec": "20", "winrm_kinit_cmd": "kinit", "winrm_kerberos_delegation": "false",
             "winrm_credssp_disable_tlsv1_2": "false"}


def test_winrm_option_defaults_shown_by_ansible_doc_are_the_ones_that_apply(docs):
    shown_null = set()
    for (plugin_type, name), (text, parsed) in docs.items():
        # Filters and the module that only writes report files on the controller take no connection options.
        if plugin_type == "filter" or name == "hyperv.avma.compliance_report_files":
            continue
        documented = parsed["doc"]["options"]
        options = {option for option in documented if option.startswith("winrm_")}
        assert len(options) > 20, name
        blocks = option_blocks(text, set(documented))
        for option in sorted(options):
            default = rendered_default(blocks[option])
            if default in ("null", "(null)", "None"):
                # The value comes from the task host's connection, or depends on other options: the description says.
                assert "When not set" in " ".join(blocks[option].split()), (name, option, blocks[option])
                shown_null.add(option)
            else:
                assert default.lower() == EFFECTIVE[option], (name, option, default)
    assert {"winrm_port", "winrm_scheme"} <= shown_null
