# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The compliance report's files on the controller: the report's files, written whole or not at all, and the
fragments of a sliced job (one file per host) that another run assembles into the one report.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import json
import os
import re
import tempfile

FORMATS = ("json", "csv", "html")
FRAGMENT_SUFFIX = ".json"
# A fragment holds one host's compact answer (about 1 KB per VM); far beyond any real host, a file is not one.
MAX_FRAGMENT_BYTES = 64 * 1024 * 1024
# Inventory host names that are safe as a file name as they are; any other is written hex-encoded.
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,200}$")


class ReportFilesError(Exception):
    """A report or fragment that cannot be written or read, in one line."""


def nice_json(document):
    """JSON as Ansible's to_nice_json writes it (sorted keys, four spaces), with a final newline."""
    return json.dumps(document, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"


def _write_whole(path, content, mode):
    """Write ``content`` to ``path`` through a temporary file in the same directory and a rename, so that a reader
    never sees half a file and a failure leaves the old one."""
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path), suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(content)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _directory(path, check_mode):
    if os.path.isdir(path):
        return
    if os.path.exists(path):
        raise ReportFilesError("%s exists and is not a directory" % path)
    if not check_mode:
        try:
            os.makedirs(path, mode=0o755)
        except OSError as error:
            raise ReportFilesError("cannot create the directory %s: %s" % (path, error.strerror or error)) from error


def write_files(directory, contents, *, check_mode=False):
    """Write each (file name, text) into ``directory`` (created when missing), mode 0644; nothing in check mode.
    Returns the paths (written, or that would be)."""
    _directory(directory, check_mode)
    paths = []
    for name, content in contents:
        path = os.path.join(directory, name)
        if not check_mode:
            try:
                _write_whole(path, content, 0o644)
            except OSError as error:
                raise ReportFilesError("cannot write %s: %s" % (path, error.strerror or error)) from error
        paths.append(path)
    return paths


def fragment_name(host_name):
    """The file name of a host's fragment: the host's name when it is a plain file name, else its UTF-8 in hex."""
    if _PLAIN_NAME.match(host_name) and host_name not in (".", ".."):
        return host_name + FRAGMENT_SUFFIX
    return "x-" + host_name.encode("utf-8").hex() + FRAGMENT_SUFFIX


def write_fragments(directory, inputs, *, check_mode=False):
    """One fragment per host into ``directory``, mode 0600 (a fragment holds what the host answered): each (report
    input of the host, its guests' activation facts). Returns the paths."""
    _directory(directory, check_mode)
    paths = []
    for host, guests in inputs:
        path = os.path.join(directory, fragment_name(host["name"]))
        if not check_mode:
            try:
                _write_whole(path, nice_json(dict(host=host, guests=guests)), 0o600)
            except OSError as error:
                raise ReportFilesError("cannot write %s: %s" % (path, error.strerror or error)) from error
        paths.append(path)
    return paths


def read_fragments(directory):
    """Every host fragment of ``directory`` (what write_fragments wrote, possibly by several runs), in file name
    order: a list of (report input of the host, guests). Fails naming the first file that is not one."""
    try:
        names = sorted(name for name in os.listdir(directory) if name.endswith(FRAGMENT_SUFFIX) and not name.startswith("."))
    except OSError as error:
        raise ReportFilesError("cannot read the fragments in %s: %s" % (directory, error.strerror or error)) from error
    if not names:
        raise ReportFilesError("no report fragments in %s: write them first (the hosts option with fragment_dir)" % directory)
    inputs = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            if os.path.getsize(path) > MAX_FRAGMENT_BYTES:
                raise ReportFilesError("%s is larger than %d bytes: not a report fragment" % (path, MAX_FRAGMENT_BYTES))
            with open(path, encoding="utf-8") as stream:
                fragment = json.load(stream)
        except (OSError, ValueError) as error:
            raise ReportFilesError("cannot read the report fragment %s: %s" % (path, error)) from error
        host = fragment.get("host") if isinstance(fragment, dict) else None
        guests = fragment.get("guests") if isinstance(fragment, dict) else None
        if not isinstance(host, dict) or not isinstance(host.get("name"), str) or not isinstance(guests, dict):
            raise ReportFilesError("%s is not a report fragment (expected host with a name, and guests)" % path)
        inputs.append((host, guests))
    return inputs
