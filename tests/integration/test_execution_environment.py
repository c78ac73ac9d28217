# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment: ansible-builder turns the collection's meta/execution-environment.yml into a build
context that installs the collection's Python and system dependencies.

No container engine runs here, so the test checks the generated context and then runs the very step the build runs
inside the image (``ansible-builder introspect`` over the installed collection) on the controller."""

from __future__ import annotations

import os
import pathlib
import subprocess

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOLS_BIN = pathlib.Path(os.environ.get("HYPERV_AVMA_TOOLS_BIN", ROOT / ".venv-tools" / "bin"))


def tool(name, *arguments, cwd=None):
    # Without the work tree's collections path: there hyperv.avma is installed already, and ansible-galaxy would skip it.
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    result = subprocess.run([str(TOOLS_BIN / name), *map(str, arguments)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, "%s failed: %s%s" % (name, result.stdout, result.stderr)
    return result


def requirement_names(lines):
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(line.split(">", 1)[0].split("=", 1)[0].split("<", 1)[0].split("[", 1)[0].strip().lower())
    return names


def test_builder_context_installs_the_collections_dependencies(tmp_path):
    tool("ansible-galaxy", "collection", "build", "--output-path", tmp_path, cwd=ROOT)
    (tarball,) = tmp_path.glob("hyperv-avma-*.tar.gz")

    # The definition the AWX guide ships, with the built tarball in place of the collection from Galaxy.
    definition = yaml.safe_load((ROOT / "docs" / "execution-environment" / "execution-environment.yml").read_text())
    definition["dependencies"]["galaxy"] = dict(collections=[dict(name=str(tarball), type="file")])
    (tmp_path / "execution-environment.yml").write_text(yaml.safe_dump(definition))
    context = tmp_path / "context"
    tool("ansible-builder", "create", "--file", tmp_path / "execution-environment.yml", "--context", context, "--output-filename", "Containerfile")

    containerfile = (context / "Containerfile").read_text()
    assert 'EE_BASE_IMAGE="registry.fedoraproject.org/fedora-minimal:42"' in containerfile
    assert "ansible-core==2.21.5" in containerfile and "ansible-runner==2.4.3" in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile and "assemble" in containerfile
    assert (context / "_build" / "scripts" / "assemble").is_file()
    assert yaml.safe_load((context / "_build" / "requirements.yml").read_text())["collections"][0]["name"] == str(tarball)

    # What the image build does next: install the collection, then gather and install its declared requirements.
    collections = tmp_path / "collections"
    tool("ansible-galaxy", "collection", "install", "--collections-path", collections, tarball)
    tool("ansible-builder", "introspect", "--write-pip", tmp_path / "pip.txt", "--write-bindep", tmp_path / "bindep.txt", collections)

    declared = requirement_names((ROOT / "meta" / "ee-requirements.txt").read_text().splitlines())
    gathered = requirement_names((tmp_path / "pip.txt").read_text().splitlines())
    # Every transport: NTLM (pywinrm, pyspnego, requests-ntlm), Kerberos (pykerberos), CredSSP (requests-credssp).
    assert {"pywinrm", "pyspnego", "requests-ntlm", "pykerberos", "requests-credssp", "jmespath"} <= declared
    assert declared <= gathered
    bindep = (tmp_path / "bindep.txt").read_text()
    assert "krb5" in bindep and "krb5-workstation" in bindep and "gcc" in bindep
