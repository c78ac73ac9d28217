# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Where a compliance report is made: the collection's version, the controller and the user, for the report's header.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import getpass
import json
import pathlib
import socket

_COLLECTION_ROOT = pathlib.Path(__file__).resolve().parents[2]


def collection_version():
    """The version of this copy of the collection: MANIFEST.json of an installed build, else galaxy.yml of a source
    tree; None when neither says."""
    manifest = _COLLECTION_ROOT / "MANIFEST.json"
    if manifest.is_file():
        return json.loads(manifest.read_text(encoding="utf-8")).get("collection_info", {}).get("version")
    galaxy = _COLLECTION_ROOT / "galaxy.yml"
    if galaxy.is_file():
        for line in galaxy.read_text(encoding="utf-8").splitlines():
            if line.startswith("version:"):
                return line.split(":", 1)[1].strip().strip("'\"")
    return None


def run_context():
    """Where the report is made: collection version, controller host name and user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = None
    return dict(collection_version=collection_version(), controller=socket.getfqdn(), user=user)
