# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's state directory: persisted fleet state, runtime files (pid, admin endpoint) and the generated inventory.

Layout of ``DIR``::

    state/          fleet state: snapshot.jsonl (the whole fleet at one moment, and the SHA-256 of the fleet file it
                    was made from) and journal-N.jsonl (the changes since, one line per group of writes saved together)
    ca.pem          lab CA certificate (trust it with ansible_winrm_ca_trust_path)
    ca-key.pem      lab CA private key
    certs/          per-machine HTTPS server certificates
    users/          per-machine NTLM credential files (NTLM_USER_FILE format)
    pid             pid of the running lab process
    admin.json      {"url": "http://127.0.0.1:PORT", "pid": N}
    inventory.yml   Ansible inventory of the fleet
    lab.log         output of a lab started with ``python -m hvlab up``

The snapshot's first line is ``{"format": 3, "fleet_sha256": ..., "journal": N}``, then one line per machine,
``{"machine": name, "instances": {...}}``; it is replaced atomically. Journal N and the ones numbered after it, in
order, hold what changed since the snapshot: each line is a JSON list of ``Fleet.drain_changes`` records, appended in
one write before any request it covers is answered. A last line that is incomplete or unreadable was never
answered (the process died while writing it) and is dropped.
"""

import dataclasses
import hashlib
import itertools
import json
import os
import re
import tempfile

import yaml

from .fleet import STATE_FORMAT as FLEET_STATE_FORMAT

STATE_FORMAT = 3
_JOURNAL_NAME = re.compile(r"^journal-(\d+)\.jsonl$")


@dataclasses.dataclass
class SavedState:
    """What ``StateDir.load_state`` read: ``state`` for ``Fleet.restore_state``, then ``batches`` (lists of records)
    for ``Fleet.replay_changes``, in order; the journals ``first_journal`` to ``journal`` hold them, the last one
    ``journal_size`` bytes long without its dropped tail; ``snapshot_bytes`` and ``journal_bytes`` are their sizes."""

    state: dict
    batches: list
    first_journal: int
    journal: int
    journal_size: int
    snapshot_bytes: int
    journal_bytes: int


class Journal:
    """A journal file open for appending: one line per ``append``, written with one system call when the kernel
    takes it whole. Not fsynced (see ``write_atomically``)."""

    def __init__(self, path, size=0):
        self.path = path
        self._descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.ftruncate(self._descriptor, size)
        self.size = size

    def append(self, records):
        """Append ``records`` (JSON types) as one line; returns its size. On failure the file is cut back to its
        previous size, so that no half line is followed by later ones."""
        data = memoryview((json.dumps(records, separators=(",", ":")) + "\n").encode("utf-8"))
        try:
            written = 0
            while written < len(data):
                written += os.write(self._descriptor, data[written:])
        except BaseException:
            try:
                os.ftruncate(self._descriptor, self.size)
            except OSError:
                pass
            raise
        self.size += len(data)
        return len(data)

    def close(self):
        os.close(self._descriptor)


class StateDir:
    """Paths inside a lab state directory, and reading/writing the files in it."""

    def __init__(self, path):
        self.path = os.path.abspath(path)

    def ensure(self):
        """Create the directory (and its private sub-directories) when missing."""
        os.makedirs(self.path, exist_ok=True)
        os.makedirs(self.state_dir, exist_ok=True)
        os.makedirs(self.certs_dir, exist_ok=True)
        os.makedirs(self.users_dir, mode=0o700, exist_ok=True)

    @property
    def state_dir(self):
        return os.path.join(self.path, "state")

    @property
    def snapshot_file(self):
        return os.path.join(self.state_dir, "snapshot.jsonl")

    def journal_file(self, number):
        return os.path.join(self.state_dir, "journal-%d.jsonl" % number)

    @property
    def ca_file(self):
        return os.path.join(self.path, "ca.pem")

    @property
    def ca_key_file(self):
        return os.path.join(self.path, "ca-key.pem")

    @property
    def certs_dir(self):
        return os.path.join(self.path, "certs")

    @property
    def users_dir(self):
        return os.path.join(self.path, "users")

    @property
    def pid_file(self):
        return os.path.join(self.path, "pid")

    @property
    def admin_file(self):
        return os.path.join(self.path, "admin.json")

    @property
    def inventory_file(self):
        return os.path.join(self.path, "inventory.yml")

    @property
    def log_file(self):
        return os.path.join(self.path, "lab.log")

    def write_snapshot(self, fleet_digest, journal, state):
        """Replace the snapshot with ``state`` (as ``Fleet.to_state`` returns it), continued by journal ``journal``
        onwards; returns its size in bytes. The journals before ``journal`` are removed once it is in place."""
        header = {"format": STATE_FORMAT, "fleet_sha256": fleet_digest, "journal": journal}
        machines = (json.dumps({"machine": name, "instances": machine["instances"]}, separators=(",", ":")) + "\n"
                    for name, machine in state["machines"].items())
        write_atomically(self.snapshot_file, itertools.chain([json.dumps(header) + "\n"], machines))
        for number in self._journal_numbers():
            if number < journal:
                _remove(self.journal_file(number))
        return os.path.getsize(self.snapshot_file)

    def open_journal(self, number, size=0):
        """Journal ``number`` open for appending, cut to ``size`` bytes (created when missing)."""
        return Journal(self.journal_file(number), size)

    def clear_state(self):
        """Forget the saved state (the snapshot first, so that no half-removed state is ever restored)."""
        _remove(self.snapshot_file)
        self.remove_leftovers(1, 0)

    def remove_leftovers(self, first_journal, last_journal):
        """Remove the journals outside ``first_journal``..``last_journal`` and the temporary files of snapshots that
        were never completed."""
        for number in self._journal_numbers():
            if not first_journal <= number <= last_journal:
                _remove(self.journal_file(number))
        if os.path.isdir(self.state_dir):
            for name in os.listdir(self.state_dir):
                if name.startswith(".snapshot.jsonl."):
                    _remove(os.path.join(self.state_dir, name))

    def _journal_numbers(self):
        names = os.listdir(self.state_dir) if os.path.isdir(self.state_dir) else ()
        return sorted(int(match.group(1)) for match in map(_JOURNAL_NAME.match, names) if match)

    def load_state(self, fleet_digest):
        """The saved state (a ``SavedState``) when it was made from the fleet file with digest ``fleet_digest``; None
        when there is none or it belongs to another fleet file.

        Raises ValueError when a file exists but cannot be read as lab state (a torn last journal line excepted).
        """
        try:
            snapshot = open(self.snapshot_file, "rb")  # pylint: disable=consider-using-with
        except FileNotFoundError:
            if os.path.exists(os.path.join(self.state_dir, "fleet.json")):
                raise ValueError("state format 2 of an older hvlab") from None
            return None
        with snapshot:
            header = _json_line(snapshot.readline(), self.snapshot_file)
            if not isinstance(header, dict) or header.get("format") != STATE_FORMAT or not _is_count(header.get("journal")):
                raise ValueError("%s is not a lab state snapshot of format %d" % (self.snapshot_file, STATE_FORMAT))
            if header.get("fleet_sha256") != fleet_digest:
                return None
            machines = {}
            for line in snapshot:
                document = _json_line(line, self.snapshot_file)
                if not isinstance(document, dict) or not isinstance(document.get("machine"), str):
                    raise ValueError("%s: a line is not a machine's state" % self.snapshot_file)
                machines[document["machine"]] = {"instances": document.get("instances")}
            snapshot_bytes = snapshot.tell()
        first = number = header["journal"]
        batches, journal_bytes, last_size, torn = [], 0, 0, False
        while os.path.exists(self.journal_file(number)):
            if torn:
                raise ValueError("%s: an unreadable line is followed by another journal" % self.journal_file(number - 1))
            last_size, total = self._read_journal(self.journal_file(number), batches)
            torn = last_size < total
            journal_bytes += last_size
            number += 1
        return SavedState({"format": FLEET_STATE_FORMAT, "machines": machines}, batches, first, max(first, number - 1),
                          last_size, snapshot_bytes, journal_bytes)

    @staticmethod
    def _read_journal(path, batches):
        """Append the batches of the journal at ``path`` to ``batches``: ``(bytes up to the last good line, size)``."""
        try:
            with open(path, "rb") as journal:
                data = journal.read()
        except OSError as error:
            raise ValueError("cannot read lab state %s: %s" % (path, error)) from error
        good = 0
        while good < len(data):
            end = data.find(b"\n", good)
            if end < 0:
                break
            try:
                batch = json.loads(data[good:end])
            except ValueError:
                batch = None
            if not isinstance(batch, list):
                if data[end + 1:]:
                    raise ValueError("%s: line at byte %d is not a list of changes" % (path, good))
                break
            batches.append(batch)
            good = end + 1
        return good, len(data)

    def write_pid(self, pid):
        write_atomically(self.pid_file, "%d\n" % pid)

    def read_pid(self):
        """The pid in ``DIR/pid``, or None when the file is missing or unreadable."""
        try:
            with open(self.pid_file, encoding="ascii") as pid_input:
                return int(pid_input.read().strip())
        except (OSError, ValueError):
            return None

    def write_admin(self, url, pid):
        write_atomically(self.admin_file, json.dumps({"url": url, "pid": pid}) + "\n")

    def read_admin(self):
        """The content of ``DIR/admin.json``, or None when it is missing or unreadable."""
        try:
            with open(self.admin_file, encoding="utf-8") as admin_input:
                document = json.load(admin_input)
        except (OSError, ValueError):
            return None
        return document if isinstance(document, dict) else None

    def write_inventory(self, inventory):
        write_atomically(self.inventory_file, yaml.safe_dump(inventory, default_flow_style=False, sort_keys=True))

    def remove_runtime_files(self, pid):
        """Remove ``pid`` and ``admin.json`` when they still belong to process ``pid``."""
        admin = self.read_admin()
        if admin is not None and admin.get("pid") == pid:
            _remove(self.admin_file)
        if self.read_pid() == pid:
            _remove(self.pid_file)


def fleet_digest(fleet_path):
    """SHA-256 (hex) of the fleet file's bytes."""
    with open(fleet_path, "rb") as fleet_input:
        return hashlib.sha256(fleet_input.read()).hexdigest()


def write_atomically(path, text):
    """Write ``text`` (a string, or an iterable of strings written one after the other) to ``path`` through a
    temporary file and a rename, so readers never see half a file.

    No fsync: what is written survives the end of the lab process (also by SIGKILL), which is what "a restart loses
    nothing" promises; a power cut may lose the last writes, and flushing every write to disk would cost each one
    milliseconds.
    """
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as output:
            for chunk in [text] if isinstance(text, str) else text:
                output.write(chunk)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise


def _json_line(line, path):
    try:
        return json.loads(line)
    except ValueError as error:
        raise ValueError("cannot read lab state %s: %s" % (path, error)) from error


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def build_inventory(machines, ports, ca_file):
    """An Ansible YAML inventory (as a dict) that reaches every machine of the lab.

    ``machines`` are fleet machines; ``ports`` maps a machine name to ``{"http": N, "https": N}``. Guests go to group
    ``hyperv_guests``, hosts to ``hyperv_hosts``. Scheme and transport come from the machine's ``inventory`` settings
    (default http + ntlm); the password is the machine's first credential. A guest with a Hyper-V host gets
    ``hvlab_hyperv_host`` (the host's machine name, as in the fleet file; a migration does not change it).
    """
    groups = {"hyperv_guests": {}, "hyperv_hosts": {}}
    for machine in machines:
        settings = machine.inventory or {}
        scheme = settings.get("scheme", "http")
        credential = machine.credentials[0] if machine.credentials else None
        host_vars = {
            "ansible_host": machine.address,
            "ansible_connection": "winrm",
            "ansible_port": ports[machine.name]["https" if scheme == "https" else "http"],
            "ansible_winrm_scheme": scheme,
            "ansible_winrm_transport": settings.get("transport", "ntlm"),
            "ansible_winrm_path": "/wsman",
            "ansible_winrm_server_cert_validation": "validate",
            "ansible_winrm_ca_trust_path": os.path.abspath(ca_file),
            "hvlab_kind": machine.kind,
        }
        hyperv_host = getattr(machine, "hyperv_host", None)   # machine-like objects of tests may lack it
        if hyperv_host is not None:
            host_vars["hvlab_hyperv_host"] = hyperv_host
        if credential is not None:
            host_vars["ansible_user"] = qualified_user_name(credential)
            host_vars["ansible_password"] = credential.password
        group = "hyperv_hosts" if machine.kind == "host" else "hyperv_guests"
        groups[group][machine.name] = host_vars
    return {"all": {"children": {name: {"hosts": hosts} for name, hosts in groups.items()}}}


def qualified_user_name(credential):
    """``DOMAIN\\user`` when the credential has a domain, else the bare user name."""
    return "%s\\%s" % (credential.domain, credential.user) if credential.domain else credential.user
