# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read and validate a fleet file (format: FLEET.md) into ``MachineSpec`` objects.

Every error is a ``ValueError`` naming the file, the machine and the field, e.g.
``fleet.yml: machine 'g2022dc': os.edition: unknown edition 'Datacentre' (known: ServerStandard, ...)``.
"""

import hashlib
import ipaddress
import re
from datetime import datetime, timedelta

import yaml

from . import activation, catalog, eventlog, fleetfile_hyperv
from .cimtypes import CimTypeError, normalize
from .faultxml import FAULT_STYLES
from .fleetspec import (AcceptedKey, CertificateMapping, Credential, ExtraProduct, LicenseSpec, MachineSpec, OsSpec, SeedEvent,
                        WinrmAuthSpec, WinrmConfigSpec)
from .schema import MACHINE_KINDS

MACHINE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,14}$")
PARTIAL_KEY = re.compile(r"^[A-Z0-9]{5}$")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
EDITION_IN_NAME = re.compile(r"^(?:.*?, )?(?P<family>\S+) edition(?: add-on)?$")
PRODUCT_KEY_CHARACTERS = "BCDFGHJKMPQRTVWXY2346789"
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")

MACHINE_FIELDS = {"address", "kind", "hyperv_host", "inventory", "credentials", "os", "windows_license",
                  "extra_products", "fault_style", "accepted_keys", "events", "vm", "hyperv", "synthetic_vms", "wire",
                  "winrm_auth", "winrm_config"}
WINRM_AUTH_METHODS = ("basic", "negotiate", "kerberos", "credssp", "certificate")
OS_FIELDS = {"version", "edition", "caption", "build", "sku", "computer_name"}
LICENSE_FIELDS = {"channel", "status", "status_reason", "grace_minutes", "partial_product_key", "avma_host",
                  "last_avma_activation", "product_key_channel"}
EXTRA_PRODUCT_FIELDS = {"application", "name", "description", "license_family", "channel", "status", "addon",
                        "partial_product_key"}
ACCEPTED_KEY_FIELDS = {"key", "channel", "edition", "activates", "product_key_channel"}
RELATIVE_TIME = re.compile(r"^-(\d{1,4})([hd])$")
EVENT_FIELDS = {"log", "id", "time", "source", "type", "insertion_strings", "message", "count", "every_seconds"}
MAX_REPEATED_EVENTS = 1000000
APPLICATIONS = {"windows": catalog.WINDOWS_APPLICATION_ID, "office": catalog.OFFICE_APPLICATION_ID}


def synthetic_partial_key(machine, channel):
    """Five product-key characters derived from the machine and channel, for keys the facts do not list (KMS, MAK,
    retail, OEM): the lab needs a stable PartialProductKey, not a real key."""
    digest = hashlib.sha256(("%s|%s" % (machine, channel)).encode("utf-8")).digest()
    return "".join(PRODUCT_KEY_CHARACTERS[byte % len(PRODUCT_KEY_CHARACTERS)] for byte in digest[:5])


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a repeated mapping key instead of silently keeping the last one."""


def _construct_unique_mapping(loader, node, deep=False):
    seen = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, "duplicate key %r" % (key,), key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


class FleetError(ValueError):
    """A fleet file that cannot be used."""


def load_fleet_file(path):
    """Parse and validate the fleet file at ``path``; return a tuple of ``MachineSpec`` in file order."""
    try:
        with open(path, encoding="utf-8") as stream:
            document = yaml.load(stream, Loader=_UniqueKeyLoader)  # nosec B506: a SafeLoader subclass
    except OSError as error:
        raise FleetError("%s: cannot read the fleet file: %s" % (path, error)) from error
    except yaml.YAMLError as error:
        raise FleetError("%s: not valid YAML: %s" % (path, error)) from error
    return parse_fleet(document, str(path))


def parse_fleet(document, source="fleet"):
    """Validate an already loaded fleet document; return a tuple of ``MachineSpec``."""
    if not isinstance(document, dict):
        raise FleetError("%s: the fleet file must be a mapping with 'machines'" % source)
    unknown = set(document) - {"defaults", "machines"}
    if unknown:
        raise FleetError("%s: unknown top-level keys %s (allowed: defaults, machines)" % (source, sorted(map(str, unknown))))
    defaults = document.get("defaults") or {}
    machines = document.get("machines")
    if not isinstance(defaults, dict):
        raise FleetError("%s: defaults must be a mapping" % source)
    if not isinstance(machines, dict) or not machines:
        raise FleetError("%s: machines must be a non-empty mapping of name to machine" % source)
    specs = []
    for name, raw in machines.items():
        specs.append(_MachineReader(source, name, _merge(defaults, raw)).read())
    _check_fleet(source, specs)
    return fleetfile_hyperv.link_vms(source, specs)


def _merge(defaults, machine):
    """Machine values win; mappings (os, windows_license, inventory, wire, ...) merge one level deep."""
    if not isinstance(machine, dict):
        return machine
    merged = dict(defaults)
    for key, value in machine.items():
        if isinstance(value, dict) and isinstance(defaults.get(key), dict):
            merged[key] = dict(defaults[key], **value)
        else:
            merged[key] = value
    return merged


def _check_fleet(source, specs):
    names = {}
    addresses = {}
    for spec in specs:
        if spec.name.lower() in names:
            raise FleetError("%s: machine %r: name clashes with %r (names are case-insensitive)"
                             % (source, spec.name, names[spec.name.lower()]))
        names[spec.name.lower()] = spec.name
        if spec.address in addresses:
            raise FleetError("%s: machine %r: address: %s is already used by %r"
                             % (source, spec.name, spec.address, addresses[spec.address]))
        addresses[spec.address] = spec.name
    kinds = {spec.name.lower(): spec.kind for spec in specs}
    for spec in specs:
        if spec.hyperv_host is not None and kinds.get(spec.hyperv_host.lower()) != "host":
            raise FleetError("%s: machine %r: hyperv_host: %r is not a machine of kind host in this fleet"
                             % (source, spec.name, spec.hyperv_host))


class _MachineReader:
    """Reads one machine mapping; ``fail`` prefixes every message with the file, machine and field."""

    def __init__(self, source, name, raw):
        self.source = source
        self.name = name
        self.raw = raw

    def fail(self, field, message):
        raise FleetError("%s: machine %r: %s: %s" % (self.source, self.name, field, message))

    def read(self):
        if not isinstance(self.name, str) or not MACHINE_NAME.match(self.name):
            raise FleetError("%s: machine %r: name: use 1-15 letters, digits or '-', starting with a letter or digit"
                             % (self.source, self.name))
        if not isinstance(self.raw, dict):
            self.fail("(machine)", "must be a mapping")
        unknown = set(self.raw) - MACHINE_FIELDS
        if unknown:
            self.fail(sorted(map(str, unknown))[0], "unknown field (allowed: %s)" % ", ".join(sorted(MACHINE_FIELDS)))
        kind = self.raw.get("kind")
        if kind not in MACHINE_KINDS:
            self.fail("kind", "must be one of %s, got %r" % (", ".join(MACHINE_KINDS), kind))
        hyperv_host = self.raw.get("hyperv_host")
        if hyperv_host is not None and (kind != "guest" or not isinstance(hyperv_host, str)):
            self.fail("hyperv_host", "only a guest names its Hyper-V host, by machine name")
        fault_style = self.raw.get("fault_style", "combined")
        if fault_style not in FAULT_STYLES:
            self.fail("fault_style", "must be one of %s, got %r" % (", ".join(FAULT_STYLES), fault_style))
        inventory = self.raw.get("inventory") or {}
        if not isinstance(inventory, dict) or not all(isinstance(key, str) for key in inventory):
            self.fail("inventory", "must be a mapping of setting name to value")
        os_spec = self._os()
        return MachineSpec(
            name=self.name, address=self._address(), kind=kind, credentials=self._credentials(),
            inventory=dict(inventory), hyperv_host=hyperv_host, os=os_spec, license=self._license(os_spec),
            extra_products=self._extra_products(), fault_style=fault_style,
            accepted_keys=self._accepted_keys(os_spec), events=self._events(), winrm_auth=self._winrm_auth(),
            winrm_config=self._winrm_config(),
            **fleetfile_hyperv.read_fields(self, kind, os_spec))

    def _address(self):
        text = self.raw.get("address")
        try:
            address = ipaddress.ip_address(str(text))
        except ValueError:
            self.fail("address", "%r is not an IPv4 address" % (text,))
        if address.version != 4 or address not in LOOPBACK:
            self.fail("address", "%s is not in 127.0.0.0/8" % address)
        return str(address)

    def _credentials(self):
        entries = self.raw.get("credentials")
        if not isinstance(entries, list) or not entries:
            self.fail("credentials", "must be a non-empty list of {user, password, domain}")
        credentials = []
        for index, entry in enumerate(entries):
            field = "credentials[%d]" % index
            if not isinstance(entry, dict) or set(entry) - {"user", "password", "domain"}:
                self.fail(field, "must be a mapping with user, password and optional domain")
            values = [entry.get("user"), entry.get("password"), entry.get("domain", "")]
            if not all(isinstance(value, str) for value in values) or not values[0] or not values[1]:
                self.fail(field, "user and password must be non-empty strings, domain a string")
            credentials.append(Credential(*values))
        return tuple(credentials)

    def _winrm_auth(self):
        raw = self.raw.get("winrm_auth") or {}
        allowed = set(WINRM_AUTH_METHODS) | {"certificate_mappings"}
        if not isinstance(raw, dict) or set(raw) - allowed:
            self.fail("winrm_auth", "must be a mapping of %s (true/false) and certificate_mappings" % ", ".join(WINRM_AUTH_METHODS))
        switches = {}
        for method in WINRM_AUTH_METHODS:
            if method in raw:
                if not isinstance(raw[method], bool):
                    self.fail("winrm_auth.%s" % method, "must be true or false, got %r" % (raw[method],))
                switches[method] = raw[method]
        mappings = []
        users = {credential.user.lower() for credential in self._credentials()}
        for index, entry in enumerate(raw.get("certificate_mappings") or []):
            field = "winrm_auth.certificate_mappings[%d]" % index
            if not isinstance(entry, dict) or set(entry) != {"subject", "user"} or not all(
                    isinstance(value, str) and value for value in entry.values()):
                self.fail(field, "must be a mapping of subject (a UPN) and user (one of the machine's credentials)")
            if entry["user"].lower() not in users:
                self.fail(field, "user %r is not one of the machine's credentials" % entry["user"])
            mappings.append(CertificateMapping(entry["subject"], entry["user"]))
        return WinrmAuthSpec(certificate_mappings=tuple(mappings), **switches)

    def _winrm_config(self):
        raw = self.raw.get("winrm_config") or {}
        if not isinstance(raw, dict) or set(raw) - {"max_batch_items"}:
            self.fail("winrm_config", "must be a mapping with max_batch_items")
        if "max_batch_items" not in raw:
            return WinrmConfigSpec()
        return WinrmConfigSpec(max_batch_items=self._int("winrm_config.max_batch_items", raw["max_batch_items"], 1, 4294967295))

    def _int(self, field, value, low, high):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(field, "must be an integer from %d to %d, got %r" % (low, high, value))
        return value

    def _os(self):
        raw = self.raw.get("os")
        if not isinstance(raw, dict):
            self.fail("os", "must be a mapping with version and edition")
        unknown = set(raw) - OS_FIELDS
        if unknown:
            self.fail("os.%s" % sorted(map(str, unknown))[0], "unknown field (allowed: %s)" % ", ".join(sorted(OS_FIELDS)))
        version = catalog.VERSIONS_BY_NAME.get(str(raw.get("version", "")).lower())
        if version is None:
            self.fail("os.version", "unknown version %r (known: %s)"
                      % (raw.get("version"), ", ".join(item.name for item in catalog.VERSIONS)))
        edition = catalog.EDITIONS_BY_ID.get(str(raw.get("edition", "")).lower())
        if edition is None:
            self.fail("os.edition", "unknown edition %r (known: %s)"
                      % (raw.get("edition"), ", ".join(item.edition_id for item in catalog.EDITIONS)))
        if edition.edition_id not in version.editions:
            self.fail("os.edition", "%s does not exist for Windows Server %s" % (edition.edition_id, version.name))
        caption = raw.get("caption", catalog.caption(version, edition))
        computer_name = raw.get("computer_name", self.name.upper())
        for field, value in (("caption", caption), ("computer_name", computer_name)):
            if not isinstance(value, str) or not value:
                self.fail("os.%s" % field, "must be a non-empty string")
        return OsSpec(
            version=version, edition=edition, caption=caption,
            build=self._int("os.build", raw.get("build", version.build), 1, 99999),
            sku=self._int("os.sku", raw.get("sku", edition.sku), 0, 2 ** 32 - 1),
            computer_name=computer_name)

    def _status(self, field, value, default):
        if value is None:
            return default
        if isinstance(value, str) and value.lower() in catalog.LICENSE_STATUS:
            return catalog.LICENSE_STATUS[value.lower()]
        if isinstance(value, int) and not isinstance(value, bool) and value in catalog.LICENSE_STATUS.values():
            return value
        self.fail(field, "must be one of %s or 0-6, got %r" % (", ".join(catalog.LICENSE_STATUS), value))
        return None

    def _hresult(self, field, value):
        if isinstance(value, str):
            try:
                value = int(value, 0)
            except ValueError:
                self.fail(field, "%r is not an integer or hex string like 0xC004FD02" % value)
        if isinstance(value, bool) or not isinstance(value, int) or not -2 ** 31 <= value < 2 ** 32:
            self.fail(field, "must be a 32-bit HRESULT, got %r" % (value,))
        return value & 0xFFFFFFFF

    def _partial_key(self, field, value):
        if value is not None and (not isinstance(value, str) or not PARTIAL_KEY.match(value)):
            self.fail(field, "must be 5 characters A-Z or 0-9, got %r" % (value,))
        return value

    def _event_time(self, field, value):
        """An event's time (see _recent_time); required."""
        time = self._recent_time(field, value)
        if time is None:
            self.fail(field, "is required: an ISO 8601 date and time with a time zone, or a duration before now like -2d or -36h")
        return time

    def _recent_time(self, field, value):
        """ISO 8601 with a zone, or a duration before the lab starts (``-36h``, ``-2d``), so that a fleet can hold
        history that is recent whenever it is started; None when not given."""
        match = RELATIVE_TIME.match(value) if isinstance(value, str) else None
        if match:
            amount, unit = int(match.group(1)), match.group(2)
            return normalize("datetime", eventlog.now() - timedelta(**{dict(h="hours", d="days")[unit]: amount}))
        return self._datetime(field, value)

    def _datetime(self, field, value):
        if value is None:
            return None
        try:
            if isinstance(value, datetime) and value.tzinfo is None:
                raise CimTypeError("no time zone")
            return normalize("datetime", value)
        except CimTypeError:
            self.fail(field, "must be an ISO 8601 date and time with a time zone, like 2026-11-20T08:30:00Z")
        return None

    def _license(self, os_spec):
        raw = self.raw.get("windows_license") or {}
        if not isinstance(raw, dict):
            self.fail("windows_license", "must be a mapping")
        unknown = set(raw) - LICENSE_FIELDS
        if unknown:
            self.fail("windows_license.%s" % sorted(map(str, unknown))[0],
                      "unknown field (allowed: %s)" % ", ".join(sorted(LICENSE_FIELDS)))
        channel = raw.get("channel", catalog.NO_KEY_CHANNEL)
        if channel != catalog.NO_KEY_CHANNEL and channel not in catalog.CHANNELS:
            self.fail("windows_license.channel", "must be one of %s, none; got %r" % (", ".join(catalog.CHANNELS), channel))
        has_key = channel != catalog.NO_KEY_CHANNEL
        status = self._status("windows_license.status", raw.get("status"), 1 if has_key else 0)
        if not has_key and status != 0:
            self.fail("windows_license.status", "a machine without a key (channel none) is unlicensed")
        partial_key = self._partial_key("windows_license.partial_product_key", raw.get("partial_product_key"))
        if not has_key and partial_key is not None:
            self.fail("windows_license.partial_product_key", "channel none means no key")
        if channel == "avma" and partial_key is None:
            key = catalog.avma_key(os_spec.version, os_spec.edition)
            if key is None:
                self.fail("windows_license.channel", "there is no AVMA key for Windows Server %s %s; give "
                          "partial_product_key to simulate one anyway" % (os_spec.version.name, os_spec.edition.edition_id))
            partial_key = key[-5:]
        elif has_key and partial_key is None:
            partial_key = synthetic_partial_key(self.name, channel)
        avma_only = [field for field in ("avma_host", "last_avma_activation") if raw.get(field) is not None]
        if avma_only and channel != "avma":
            self.fail("windows_license.%s" % avma_only[0], "applies to channel avma only")
        avma_host = raw.get("avma_host")
        if avma_host is not None and not isinstance(avma_host, str):
            self.fail("windows_license.avma_host", "must be a string")
        product_key_channel = raw.get("product_key_channel")
        if product_key_channel is not None and (not has_key or not isinstance(product_key_channel, str)):
            self.fail("windows_license.product_key_channel", "must be a string, and needs a key")
        return LicenseSpec(
            channel=channel, status=status,
            status_reason=self._hresult("windows_license.status_reason", raw.get("status_reason", 0)),
            grace_minutes=self._int("windows_license.grace_minutes", raw.get("grace_minutes", 0), 0, 2 ** 32 - 1),
            partial_product_key=partial_key, avma_host=avma_host,
            last_avma_activation=self._recent_time("windows_license.last_avma_activation", raw.get("last_avma_activation")),
            product_key_channel=product_key_channel)

    def _extra_products(self):
        entries = self.raw.get("extra_products") or []
        if not isinstance(entries, list):
            self.fail("extra_products", "must be a list")
        return tuple(self._extra_product("extra_products[%d]" % index, entry) for index, entry in enumerate(entries))

    def _extra_product(self, field, raw):
        if not isinstance(raw, dict):
            self.fail(field, "must be a mapping")
        unknown = set(raw) - EXTRA_PRODUCT_FIELDS
        if unknown:
            self.fail("%s.%s" % (field, sorted(map(str, unknown))[0]),
                      "unknown field (allowed: %s)" % ", ".join(sorted(EXTRA_PRODUCT_FIELDS)))
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            self.fail(field + ".name", "must be a non-empty string")
        addon = raw.get("addon", False)
        if not isinstance(addon, bool):
            self.fail(field + ".addon", "must be true or false")
        application = raw.get("application", "windows" if addon else "office")
        application_id = APPLICATIONS.get(str(application).lower(), application)
        if not isinstance(application_id, str) or not GUID.match(application_id):
            self.fail(field + ".application", "must be windows, office or an application GUID, got %r" % (application,))
        channel = raw.get("channel", "kms")
        if channel not in catalog.CHANNELS:
            self.fail(field + ".channel", "must be one of %s, got %r" % (", ".join(catalog.CHANNELS), channel))
        partial_key = self._partial_key(field + ".partial_product_key", raw.get("partial_product_key"))
        status = self._status(field + ".status", raw.get("status"), 1 if partial_key else 0)
        match = EDITION_IN_NAME.match(name)
        family = match.group("family") if match else name
        if application_id == catalog.WINDOWS_APPLICATION_ID:
            description = catalog.windows_description(catalog.CHANNELS[channel])
        else:
            description = "%s, %s channel" % (name.split(",", 1)[0], catalog.CHANNELS[channel].description_channel)
        description = raw.get("description", description)
        license_family = raw.get("license_family", family)
        for sub, value in (("description", description), ("license_family", license_family)):
            if not isinstance(value, str):
                self.fail("%s.%s" % (field, sub), "must be a string")
        return ExtraProduct(
            application_id=application_id.lower(), name=name, description=description, license_family=license_family,
            channel=channel, status=status, addon=addon, partial_product_key=partial_key)

    def _accepted_keys(self, os_spec):
        entries = self.raw.get("accepted_keys") or []
        if not isinstance(entries, list):
            self.fail("accepted_keys", "must be a list")
        accepted = []
        avma_keys = activation.public_avma_keys()
        for index, raw in enumerate(entries):
            field = "accepted_keys[%d]" % index
            if not isinstance(raw, dict):
                self.fail(field, "must be a mapping")
            unknown = set(raw) - ACCEPTED_KEY_FIELDS
            if unknown:
                self.fail("%s.%s" % (field, sorted(map(str, unknown))[0]),
                          "unknown field (allowed: %s)" % ", ".join(sorted(ACCEPTED_KEY_FIELDS)))
            key = raw.get("key")
            if not isinstance(key, str) or not activation.PRODUCT_KEY.match(activation.normalize_key(key)):
                self.fail(field + ".key", "must be a product key: five groups of five characters of %s"
                          % "BCDFGHJKMNPQRTVWXY2346789")
            key = activation.normalize_key(key)
            if key in avma_keys:
                self.fail(field + ".key", "is a public AVMA key; AVMA keys are accepted without a declaration")
            if any(item.key == key for item in accepted):
                self.fail(field + ".key", "is declared twice")
            channel = raw.get("channel")
            if channel not in activation.NON_AVMA_CHANNELS:
                self.fail(field + ".channel", "must be one of %s, got %r" % (", ".join(activation.NON_AVMA_CHANNELS), channel))
            edition = catalog.EDITIONS_BY_ID.get(str(raw.get("edition", os_spec.edition.edition_id)).lower())
            if edition is None:
                self.fail(field + ".edition", "unknown edition %r" % (raw.get("edition"),))
            activates = raw.get("activates", channel != "kms")
            if not isinstance(activates, bool):
                self.fail(field + ".activates", "must be true or false")
            product_key_channel = raw.get("product_key_channel")
            if product_key_channel is not None and not isinstance(product_key_channel, str):
                self.fail(field + ".product_key_channel", "must be a string")
            accepted.append(AcceptedKey(key=key, channel=channel, edition_id=edition.edition_id, activates=activates,
                                        product_key_channel=product_key_channel))
        return tuple(accepted)

    def _events(self):
        entries = self.raw.get("events") or []
        if not isinstance(entries, list):
            self.fail("events", "must be a list")
        events = []
        for index, raw in enumerate(entries):
            field = "events[%d]" % index
            if not isinstance(raw, dict):
                self.fail(field, "must be a mapping")
            unknown = set(raw) - EVENT_FIELDS
            if unknown:
                self.fail("%s.%s" % (field, sorted(map(str, unknown))[0]),
                          "unknown field (allowed: %s)" % ", ".join(sorted(EVENT_FIELDS)))
            log = {name.lower(): name for name in eventlog.LOGS}.get(str(raw.get("log", eventlog.APPLICATION_LOG)).lower())
            if log is None:
                self.fail(field + ".log", "must be one of %s" % ", ".join(eventlog.LOGS))
            time = self._event_time(field + ".time", raw.get("time"))
            event_type = raw.get("type", "information")
            if event_type not in eventlog.EVENT_TYPES:
                self.fail(field + ".type", "must be one of %s, got %r" % (", ".join(eventlog.EVENT_TYPES), event_type))
            strings = raw.get("insertion_strings", [])
            if not isinstance(strings, list) or not all(isinstance(item, str) for item in strings):
                self.fail(field + ".insertion_strings", "must be a list of strings")
            source = raw.get("source", eventlog.AVMA_SOURCE)
            if not isinstance(source, str) or not source:
                self.fail(field + ".source", "must be a non-empty string")
            message = raw.get("message")
            if message is not None and not isinstance(message, str):
                self.fail(field + ".message", "must be a string")
            count = self._int(field + ".count", raw.get("count", 1), 1, MAX_REPEATED_EVENTS)
            every = raw.get("every_seconds", 0)
            if isinstance(every, bool) or not isinstance(every, (int, float)) or not 0 <= every <= 366 * 86400 or (count > 1 and not every):
                self.fail(field + ".every_seconds", "must be a number of seconds from 0 to a year, above 0 when count is above 1")
            events.append(SeedEvent(log=log, event_id=self._int(field + ".id", raw.get("id"), 0, 65535), time=time,
                                    source=source, event_type=event_type, insertion_strings=tuple(strings),
                                    message=message, count=count, every_seconds=float(every)))
        return tuple(events)
