# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the Kerberos set-up that tests/integration/test_transports.py pays on every run once its venv is built.

A throwaway realm as the test module provisions it (tests/kerberos_realm.py): the MIT KDC started on a free loopback
port, the test user, the ``HTTP/<machine>.hvlab.test`` keytab of every machine of the transports fleet, then the KDC
stopped. Prints the time of each of --repeat rounds. Needs the Debian packages of tools/lib.sh
``ensure_kerberos_tools``; the cold part (those packages, and building tests/requirements-auth.txt) is measured as
docs/docsite/rst/guide_transports.rst says.

    .venv/bin/python tests/benchmarks/kerberos_setup.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

import yaml

TESTS = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from kerberos_realm import KerberosRealm, machine_fqdn, missing_tools  # noqa: E402  pylint: disable=import-error,wrong-import-position

FLEET = TESTS / "integration" / "fleets" / "transports.yml"


def provision(directory, machines):
    started = time.monotonic()
    kdc = KerberosRealm(directory).start()
    try:
        kdc.add_user("avmaops", "Ops-Passw0rd!")
        kdc.add_service_keytab([machine_fqdn(name) for name in machines], directory / "http.keytab")
    finally:
        kdc.stop()
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args()
    missing = missing_tools()
    if missing:
        parser.error("Kerberos tools missing: %s (tools/lib.sh ensure_kerberos_tools)" % ", ".join(missing))
    machines = yaml.safe_load(FLEET.read_text())["machines"]
    times = []
    for _round in range(arguments.repeat):
        with tempfile.TemporaryDirectory() as directory:
            times.append(provision(pathlib.Path(directory), machines))
    print("realm provisioning (KDC start, user, keytab of %d machines, stop): %s" % (len(machines), ", ".join("%.2f s" % value for value in times)))


if __name__ == "__main__":
    main()
