# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's state directory: persisted fleet state, runtime files (pid, admin endpoint) and the generated inventory.

Layout of ``DIR``::

    state/          fleet state: fleet.json (format + SHA-256 of the fleet file it was made from) and one file per
                    machine under machines/, rewritten when a request changed that machine
    ca.pem          lab CA certificate (trust it with ansible_winrm_ca_trust_path)
    ca-key.pem      lab CA private key
    certs/          per-machine HTTPS server certificates
    users/          per-machine NTLM credential files (NTLM_USER_FILE format)
    pid             pid of the running lab process
    admin.json      {"url": "http://127.0.0.1:PORT", "pid": N}
    inventory.yml   Ansible inventory of the fleet
    lab.log         output of a lab started with ``python -m hvlab up``
"""

import hashlib
import json
import os
import tempfile
import urllib.parse

import yaml

from .fleet import STATE_FORMAT as FLEET_STATE_FORMAT

STATE_FORMAT = 2


class StateDir:
    """Paths inside a lab state directory, and reading/writing the files in it."""

    def __init__(self, path):
        self.path = os.path.abspath(path)

    def ensure(self):
        """Create the directory (and its private sub-directories) when missing."""
        os.makedirs(self.path, exist_ok=True)
        os.makedirs(self.machines_state_dir, exist_ok=True)
        os.makedirs(self.certs_dir, exist_ok=True)
        os.makedirs(self.users_dir, mode=0o700, exist_ok=True)

    @property
    def state_dir(self):
        return os.path.join(self.path, "state")

    @property
    def state_file(self):
        """The state's marker: its format and the digest of the fleet file the machine files belong to."""
        return os.path.join(self.state_dir, "fleet.json")

    @property
    def machines_state_dir(self):
        return os.path.join(self.state_dir, "machines")

    def machine_state_file(self, machine_name):
        return os.path.join(self.machines_state_dir, urllib.parse.quote(machine_name, safe="") + ".json")

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

    def save_machine_states(self, texts):
        """Write the machines' states (``{machine name: JSON text of its instances}``), each file atomically."""
        os.makedirs(self.machines_state_dir, exist_ok=True)
        for name, text in texts.items():
            write_atomically(self.machine_state_file(name), text)

    def save_marker(self, fleet_digest):
        """Tag the machine files with the digest of the fleet file they belong to (written after all of them)."""
        write_atomically(self.state_file, json.dumps({"format": STATE_FORMAT, "fleet_sha256": fleet_digest}) + "\n")

    def clear_state(self):
        """Forget the saved state (the marker first, so that no half-removed state is ever restored)."""
        _remove(self.state_file)
        if os.path.isdir(self.machines_state_dir):
            for name in os.listdir(self.machines_state_dir):
                _remove(os.path.join(self.machines_state_dir, name))

    def load_state(self, fleet_digest, machine_names):
        """The saved state of ``machine_names`` (``{"format": 1, "machines": {name: {"instances": ...}}}``, as
        ``Fleet.restore_state`` takes it) when it was made from the same fleet file, else None. A machine without a
        file is left out.

        Raises ValueError when a file exists but cannot be read as lab state.
        """
        document = self._read_json(self.state_file)
        if document is None:
            return None
        if not isinstance(document, dict) or document.get("format") != STATE_FORMAT:
            raise ValueError("%s is not a lab state file of format %d" % (self.state_file, STATE_FORMAT))
        if document.get("fleet_sha256") != fleet_digest:
            return None
        machines = {}
        for name in machine_names:
            instances = self._read_json(self.machine_state_file(name))
            if instances is not None:
                machines[name] = {"instances": instances}
        return {"format": FLEET_STATE_FORMAT, "machines": machines}

    @staticmethod
    def _read_json(path):
        try:
            with open(path, encoding="utf-8") as state_input:
                return json.load(state_input)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise ValueError("cannot read lab state %s: %s" % (path, error)) from error

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
    """Write ``text`` to ``path`` through a temporary file and a rename, so readers never see half a file.

    No fsync: what is written survives the end of the lab process (also by SIGKILL), which is what "a restart loses
    nothing" promises; a power cut may lose the last writes, and flushing every write to disk would cost each one
    milliseconds.
    """
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as output:
            output.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        _remove(temporary)
        raise


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
