# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Make ``ansible_collections.hyperv.avma`` importable from this checkout.

The collection is reached through ``<repo>/.build/pytest_collections/ansible_collections/hyperv/avma``, a symlink
to the repository root that is created when missing, and that tree is put first on ``sys.path``. Neither
``ansible_collections`` nor ``ansible_collections.hyperv`` has an ``__init__.py``: both are namespace packages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_ROOT = REPO_ROOT / ".build" / "pytest_collections"
COLLECTION_LINK = COLLECTIONS_ROOT / "ansible_collections" / "hyperv" / "avma"


def _ensure_collection_link() -> None:
    if COLLECTION_LINK.is_symlink() and COLLECTION_LINK.resolve() != REPO_ROOT:
        COLLECTION_LINK.unlink()  # a checkout that moved: point the link at this one
    if not COLLECTION_LINK.exists():
        COLLECTION_LINK.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(REPO_ROOT, COLLECTION_LINK, target_is_directory=True)
        except FileExistsError:  # another pytest-xdist worker made it first
            pass


def _ensure_import_path() -> None:
    root = str(COLLECTIONS_ROOT)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    import ansible_collections  # pylint: disable=import-outside-toplevel

    # If some other tree already provided the package, make ours one of its portions too.
    portion = str(COLLECTIONS_ROOT / "ansible_collections")
    if portion not in list(ansible_collections.__path__):
        ansible_collections.__path__.append(portion)


_ensure_collection_link()
_ensure_import_path()
