# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a capture must not contain before it is published: every value of a lab fleet file (or any values given)
that identifies a machine, a user or a network (names, computer and VM names, FQDNs, domains, addresses, user names,
passwords), any product key with more than its last five characters, any address outside the placeholder ranges,
and the directory's ``.capture-key``. ``leftovers`` and ``scan`` list what they find, by file.

A capture of a real host is scanned from the command line, with the names that identify it::

    PYTHONPATH=tests .venv/bin/python -m capture_scan /tmp/capture --value hv01 --value CORP --value avma-reader

(``--fleet FILE`` takes the values of a lab fleet file instead); it exits 1 and lists each finding when it finds any.
"""

import argparse
import gzip
import ipaddress
import pathlib
import re
import sys

from hvlab import catalog, hyperv
from hvlab.fleet import Fleet

_FULL_PRODUCT_KEY = re.compile(r"(?<![A-Za-z0-9])(?!XXXXX-)[A-Za-z0-9]{5}(-[A-Za-z0-9]{5}){4}(?![A-Za-z0-9])")


def identifying_values(fleet_path):
    """``{value: what it is}`` for every identifying value of the fleet."""
    fleet = Fleet.load(fleet_path)
    values = {catalog.LAB_DNS_DOMAIN: "DNS domain"}
    for machine in fleet.machines.values():
        spec = machine.spec
        values[spec.name] = "machine name"
        values[spec.address] = "address"
        values[hyperv.link_local_ipv6(spec.address).split("%")[0]] = "IPv6 address"
        if spec.os is not None and spec.os.computer_name:
            values[spec.os.computer_name] = "computer name"
            values[hyperv.fqdn(spec.os.computer_name)] = "FQDN"
        if spec.vm is not None:
            values[spec.vm.name] = "VM name"
            values[spec.vm.fqdn] = "FQDN"
        for credential in spec.credentials:
            values[credential.user] = "user name"
            values[credential.password] = "password"
            if credential.domain:
                values[credential.domain] = "domain"
    return values


def capture_texts(directory):
    """``{file name: text}`` of a capture directory (``.json`` or ``.json.gz``), the key file left out."""
    texts = {}
    for path in sorted(pathlib.Path(directory).iterdir()):
        if path.name.endswith(".json.gz"):
            texts[path.name] = gzip.decompress(path.read_bytes()).decode("utf-8")
        elif path.name.endswith(".json"):
            texts[path.name] = path.read_text(encoding="utf-8")
    return texts


def leftovers(texts, values):
    """``[(file, what, value)]`` of identifying values found as whole words (any case), and full product keys."""
    found = []
    kinds = {value.lower(): what for value, what in values.items() if value}
    alternatives = "|".join(re.escape(value) for value in sorted(kinds, key=len, reverse=True))
    pattern = re.compile(r"(?<![A-Za-z0-9_])(?:%s)(?![A-Za-z0-9_])" % alternatives, re.IGNORECASE)
    for name, text in texts.items():
        for value in sorted({match.lower() for match in pattern.findall(text)}):
            found.append((name, kinds[value], value))
        for match in _FULL_PRODUCT_KEY.finditer(text):
            found.append((name, "product key", match.group(0)))
    return found


_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# Where the capture's placeholders for addresses live (plugins/module_utils/_capture.py), and what names no machine.
_PLACEHOLDER_NETWORKS = (ipaddress.ip_network("198.18.0.0/15"), ipaddress.ip_network("2001:db8::/32"))
_NO_MACHINE = {ipaddress.ip_address(text) for text in ("0.0.0.0", "255.255.255.255", "::", "::1", "127.0.0.1")}


def address_leftovers(texts):
    """``[(file, "address", address)]`` for every IPv4 or IPv6 address outside the capture's placeholder ranges."""
    found = []
    for name, text in texts.items():
        for candidate in sorted(set(_IPV4.findall(text)) | set(_IPV6.findall(text))):
            try:
                address = ipaddress.ip_address(candidate)
            except ValueError:
                continue
            if address not in _NO_MACHINE and not any(address in network for network in _PLACEHOLDER_NETWORKS):
                found.append((name, "address", candidate))
    return found


def scan(directory, values):
    """Everything a capture directory still holds that it should not: the ``values`` (``{value: what it is}``),
    full product keys, addresses outside the placeholder ranges, and its ``.capture-key`` file."""
    found = leftovers(capture_texts(directory), values) + address_leftovers(capture_texts(directory))
    if (pathlib.Path(directory) / ".capture-key").exists():
        found.append((".capture-key", "placeholder key", "remove it before publishing: it turns placeholders back into names"))
    return found


def main(arguments=None):
    """``python -m capture_scan DIRECTORY [--fleet FLEET] [--value TEXT ...]``: exit 0 when nothing is found."""
    parser = argparse.ArgumentParser(prog="capture_scan", description="Scan a capture directory (winrm_capture_dir) before publishing it.")
    parser.add_argument("directory", help="the capture directory (.json or .json.gz files)")
    parser.add_argument("--fleet", help="a lab fleet file: every name, address, user, password and domain in it is looked for")
    parser.add_argument("--value", action="append", default=[], metavar="TEXT",
                        help="a value that must not be in the files: a host, domain or user name, a password (repeat for more)")
    options = parser.parse_args(arguments)
    values = identifying_values(options.fleet) if options.fleet else {}
    values.update({value: "given value" for value in options.value})
    found = scan(options.directory, values)
    for name, what, value in found:
        print("%s: %s: %s" % (name, what, value))
    print("%d files scanned, %d findings" % (len(capture_texts(options.directory)), len(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
