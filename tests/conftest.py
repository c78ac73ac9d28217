"""Make the lab package (tests/hvlab) importable as ``hvlab`` in every test session, and give every test session the
markers ``needs_modules`` and ``needs_commands``."""
import importlib.util
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "needs_modules(*names): skip unless these Python modules are installed; with HYPERV_AVMA_REQUIRE_TRANSPORTS=1 "
        "(the test command's main run) a missing one fails the test instead")
    config.addinivalue_line(
        "markers",
        "needs_commands(*names): skip unless these commands are on the PATH; with HYPERV_AVMA_REQUIRE_TRANSPORTS=1 a "
        "missing one fails the test instead")


def pytest_runtest_setup(item):
    for marker in item.iter_markers("needs_modules"):
        missing = [name for name in marker.args if importlib.util.find_spec(name) is None]
        if missing:
            _skip_or_fail("optional test requirements missing: %s (tests/requirements-auth.txt)" % ", ".join(missing))
    for marker in item.iter_markers("needs_commands"):
        missing = [name for name in marker.args if shutil.which(name) is None]
        if missing:
            _skip_or_fail("commands missing: %s (tools/lib.sh installs them)" % ", ".join(missing))


def _skip_or_fail(message):
    if os.environ.get("HYPERV_AVMA_REQUIRE_TRANSPORTS") == "1":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
