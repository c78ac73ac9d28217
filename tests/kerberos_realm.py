# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A throwaway MIT Kerberos realm for the tests: a KDC on a free loopback port, run from files in one directory.

``KerberosRealm(directory).start()`` writes ``krb5.conf`` and ``kdc.conf``, creates the database, starts
``krb5kdc`` in the foreground (it never forks, so ``stop()`` ends it by its pid) and waits until it answers.
Then ``add_user(name, password)`` and ``add_service_keytab(fqdns, keytab)`` provision principals. ``env()`` gives
the variables that point Kerberos at this realm (``KRB5_CONFIG``, never ``/etc/krb5.conf``).

Host names never come from a resolver: the machines are ``<name>.hvlab.test``, clients name them through
pywinrm's Kerberos hostname override, and ``krb5.conf`` turns off DNS canonicalisation and reverse lookups.

Needs Debian's krb5-kdc, krb5-admin-server and krb5-user (``tools/lib.sh ensure_kerberos_tools``).

Command line, to check the set-up on a machine (and to time it):
``python tests/kerberos_realm.py check DIR`` starts a realm in DIR, adds a user and a service, gets a ticket, stops.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time

REALM = "HVLAB.TEST"
DNS_DOMAIN = "hvlab.test"
MASTER_PASSWORD = "hvlab-kdc-master"
KDC_BINARIES = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")
START_TIMEOUT = 20


def machine_fqdn(name):
    """The DNS name a lab machine has in the realm (its service principal is ``HTTP/<fqdn>``)."""
    return "%s.%s" % (name.lower(), DNS_DOMAIN)


def missing_tools():
    """The Kerberos programs not found (in PATH, /usr/sbin or /sbin)."""
    return [name for name in KDC_BINARIES if _which(name) is None]


def _which(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class KerberosRealm:
    """One realm in ``directory``; ``start``/``stop``, or use it as a context manager."""

    def __init__(self, directory, realm=REALM):
        self.directory = pathlib.Path(directory)
        self.realm = realm
        self.port = None
        self.process = None
        self.krb5_conf = self.directory / "krb5.conf"
        self.kdc_conf = self.directory / "kdc.conf"

    def env(self):
        """Variables that make Kerberos libraries and tools use this realm only."""
        return {"KRB5_CONFIG": str(self.krb5_conf), "KRB5_KDC_PROFILE": str(self.kdc_conf)}

    def start(self):
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self._write_configuration()
        self._run("kdb5_util", "create", "-s", "-r", self.realm, "-P", MASTER_PASSWORD)
        log = open(self.directory / "krb5kdc.out", "wb")  # pylint: disable=consider-using-with
        try:
            self.process = subprocess.Popen([_which("krb5kdc"), "-n", "-r", self.realm], env=self._tool_env(),
                                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        finally:
            log.close()
        self._wait_until_listening()
        return self

    def stop(self):
        """End the KDC by its pid (SIGTERM, then SIGKILL after 5 s)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def add_user(self, name, password):
        self._kadmin("addprinc -pw %s %s@%s" % (password, name, self.realm))

    def add_service_keytab(self, fqdns, keytab):
        """``HTTP/<fqdn>`` principals with random keys, written to ``keytab`` (created or extended)."""
        for fqdn in fqdns:
            principal = "HTTP/%s@%s" % (fqdn, self.realm)
            self._kadmin("addprinc -randkey %s" % principal)
            self._kadmin("ktadd -k %s %s" % (keytab, principal))

    def kinit(self, principal, password, ccache, *arguments):
        """A ticket for ``principal`` in the file ``ccache``; CalledProcessError with kinit's message on failure."""
        env = dict(self._tool_env(), KRB5CCNAME="FILE:%s" % ccache)
        subprocess.run([_which("kinit"), *arguments, principal], input=password + "\n", env=env, check=True,
                       capture_output=True, text=True, timeout=30)

    def _kadmin(self, query):
        self._run("kadmin.local", "-r", self.realm, "-q", query)

    def _run(self, tool, *arguments):
        completed = subprocess.run([_which(tool), *arguments], env=self._tool_env(), capture_output=True, text=True,
                                   timeout=60, check=False, stdin=subprocess.DEVNULL)
        # kadmin.local exits 0 even when a query fails; it reports on stderr.
        if completed.returncode != 0 or "error" in completed.stderr.lower() or "failed" in completed.stderr.lower():
            raise RuntimeError("%s %s failed: %s" % (tool, arguments[-1] if tool == "kadmin.local" else " ".join(arguments[:2]),
                                                     (completed.stderr or completed.stdout).strip()))
        return completed

    def _tool_env(self):
        return dict(os.environ, **self.env())

    def _write_configuration(self):
        directory = self.directory
        self.krb5_conf.write_text(
            "[libdefaults]\n"
            "  default_realm = %(realm)s\n"
            "  dns_lookup_kdc = false\n"
            "  dns_lookup_realm = false\n"
            "  dns_canonicalize_hostname = false\n"
            "  rdns = false\n"
            "  forwardable = true\n"
            "  ticket_lifetime = 10h\n"
            "  udp_preference_limit = 1\n"
            "[realms]\n"
            "  %(realm)s = {\n"
            "    kdc = 127.0.0.1:%(port)d\n"
            "  }\n"
            "[domain_realm]\n"
            "  .%(domain)s = %(realm)s\n"
            "  %(domain)s = %(realm)s\n"
            % {"realm": self.realm, "port": self.port, "domain": DNS_DOMAIN})
        self.kdc_conf.write_text(
            "[kdcdefaults]\n"
            "  kdc_listen = 127.0.0.1:%(port)d\n"
            "  kdc_tcp_listen = 127.0.0.1:%(port)d\n"
            "[realms]\n"
            "  %(realm)s = {\n"
            "    database_name = %(dir)s/principal\n"
            "    key_stash_file = %(dir)s/stash\n"
            "    acl_file = %(dir)s/kadm5.acl\n"
            "    max_life = 10h\n"
            "    max_renewable_life = 1d\n"
            "    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n"
            "  }\n"
            "[logging]\n"
            "  kdc = FILE:%(dir)s/kdc.log\n"
            % {"realm": self.realm, "port": self.port, "dir": directory})
        (directory / "kadm5.acl").write_text("")

    def _wait_until_listening(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("krb5kdc exited with %s: %s" % (
                    self.process.returncode, (self.directory / "krb5kdc.out").read_text(errors="replace").strip()))
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.settimeout(0.5)
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("krb5kdc did not listen on 127.0.0.1:%d within %d s" % (self.port, START_TIMEOUT))


def _check(directory):
    """Start a realm, provision a user and a service, get a ticket, stop: the set-up the tests do, end to end."""
    directory = pathlib.Path(directory)
    with KerberosRealm(directory) as realm:
        realm.add_user("check", "Check-Passw0rd!")
        realm.add_service_keytab([machine_fqdn("check")], directory / "http.keytab")
        realm.kinit("check@%s" % realm.realm, "Check-Passw0rd!", directory / "ccache")
    print("kerberos realm %s: KDC, principals, keytab and kinit work" % REALM)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "check":
        sys.exit("usage: kerberos_realm.py check DIR")
    _check(sys.argv[2])
