# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make ``ansible_collections.hyperv.avma`` importable for tests outside tests/unit (tests/integration, tests/live)
that call the collection's Python directly: the same link and path as tests/unit/conftest.py, imported for effect."""

import importlib.util
import pathlib

_UNIT_CONFTEST = pathlib.Path(__file__).resolve().parent / "unit" / "conftest.py"

_spec = importlib.util.spec_from_file_location("_hyperv_avma_collection_path", _UNIT_CONFTEST)
_spec.loader.exec_module(importlib.util.module_from_spec(_spec))
