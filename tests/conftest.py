"""Make the lab package (tests/hvlab) importable as ``hvlab`` in every test session, and give every test session the
marker ``needs_modules``."""
import importlib.util
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "needs_modules(*names): skip unless these Python modules are installed; with HYPERV_AVMA_REQUIRE_TRANSPORTS=1 "
        "(the test command's main run) a missing one fails the test instead")


def pytest_runtest_setup(item):
    for marker in item.iter_markers("needs_modules"):
        missing = [name for name in marker.args if importlib.util.find_spec(name) is None]
        if not missing:
            continue
        message = "optional test requirements missing: %s (tests/requirements-auth.txt)" % ", ".join(missing)
        if os.environ.get("HYPERV_AVMA_REQUIRE_TRANSPORTS") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
