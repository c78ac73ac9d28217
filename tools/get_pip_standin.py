# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for ansible-test's get-pip bootstrap script, used only when the real one cannot be downloaded.

ansible-test runs ``python get-pip.py [pip options] pip==X ...`` in a new virtual environment. This script does the
same with the pip wheel that Python's ensurepip bundles: it installs the requested packages from the package index.
"""
import glob
import os
import runpy
import sys
import ensurepip

IGNORED_OPTIONS = ("--no-setuptools", "--no-wheel")


def main():
    bundled = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl"))
    if not bundled:
        sys.exit("get-pip stand-in: ensurepip has no bundled pip wheel")
    sys.path.insert(0, bundled[0])
    arguments = [argument for argument in sys.argv[1:] if argument not in IGNORED_OPTIONS]
    sys.argv = ["pip", "install", "--upgrade", "--force-reinstall"] + arguments
    runpy.run_module("pip", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
