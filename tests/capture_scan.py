# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a capture of a lab run must not contain: every value of the fleet file that identifies a machine, a user or
a network (names, computer and VM names, FQDNs, domains, addresses, user names, passwords), and any product key
with more than its last five characters. ``leftovers`` lists what it finds, by file."""

import gzip
import pathlib
import re

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
