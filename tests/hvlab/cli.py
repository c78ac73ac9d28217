# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line of the lab: ``python -m hvlab up|down|serve``.

- ``up FLEET --dir DIR``: start the lab in the background, wait until every listener and the admin endpoint
  answer, then exit 0. Output goes to ``DIR/lab.log``.
- ``down --dir DIR``: stop it (admin ``POST /shutdown``, then SIGTERM, then SIGKILL); fine when nothing runs.
- ``serve FLEET --dir DIR``: run the lab in the foreground until SIGTERM/SIGINT or ``POST /shutdown``.

Exit codes: 0 success, 1 error (with a one-line message on stderr).
"""

import argparse
import http.client
import os
import signal
import ssl
import subprocess
import sys
import time

from .admin import AdminServer, admin_request
from .certs import CertificateAuthority
from .fleet import Fleet
from .server import WSMAN_PATH, Lab
from .service import WsmanService
from .statedir import StateDir, build_inventory, fleet_digest

DEFAULT_START_TIMEOUT = 30.0
DEFAULT_STOP_TIMEOUT = 10.0
PROBE_TIMEOUT = 5.0
POLL_INTERVAL = 0.1
# The directory that holds the hvlab package, put on the child's PYTHONPATH for ``python -m hvlab``.
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class LabError(Exception):
    """A failure reported to the user as one line, with exit code 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.exit(1, "%s: error: %s\n" % (self.prog, message))


def build_parser():
    parser = _Parser(prog="python -m hvlab", description="Simulated Hyper-V fleet speaking WinRM on loopback addresses.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    up = commands.add_parser("up", help="start the lab in the background and wait until it answers")
    _add_serve_arguments(up)
    up.add_argument("--timeout", type=float, default=DEFAULT_START_TIMEOUT, help="seconds to wait for the lab (default 30)")
    up.set_defaults(run=run_up)

    serve = commands.add_parser("serve", help="run the lab in the foreground")
    _add_serve_arguments(serve)
    serve.add_argument("--quiet", action="store_true", help="do not log each request")
    serve.set_defaults(run=run_serve)

    down = commands.add_parser("down", help="stop the lab running in DIR")
    down.add_argument("--dir", required=True, help="state directory of the lab")
    down.add_argument("--timeout", type=float, default=DEFAULT_STOP_TIMEOUT, help="seconds to wait for a graceful stop (default 10)")
    down.set_defaults(run=run_down)

    client_cert = commands.add_parser("client-cert", help="issue a client certificate of the lab CA for a UPN")
    client_cert.add_argument("--dir", required=True, help="state directory of the lab (its CA signs the certificate)")
    client_cert.add_argument("--upn", required=True, help="user principal name the certificate carries, e.g. ops@hvlab.test")
    client_cert.add_argument("--cert", required=True, help="PEM file to write the certificate to")
    client_cert.add_argument("--key", required=True, help="PEM file to write the private key to (mode 0600)")
    client_cert.set_defaults(run=run_client_cert)
    return parser


def run_client_cert(arguments):
    """Certificate authentication: what an administrator's PKI would issue, signed by the lab CA."""
    state_dir = StateDir(arguments.dir)
    authority = CertificateAuthority.load_or_create(state_dir.ca_file, state_dir.ca_key_file)
    authority.write_client_certificate(arguments.upn, arguments.cert, arguments.key)
    print("hvlab: client certificate for %s in %s (key %s)" % (arguments.upn, arguments.cert, arguments.key))


def _add_serve_arguments(parser):
    parser.add_argument("fleet", help="fleet file describing the machines")
    parser.add_argument("--dir", required=True, help="state directory (state, CA, inventory, pid, admin.json, lab.log)")
    parser.add_argument("--http-port", type=_port, default=5985, help="HTTP port of every machine (default 5985, 0 = any)")
    parser.add_argument("--https-port", type=_port, default=5986, help="HTTPS port of every machine (default 5986, 0 = any)")
    parser.add_argument("--admin-port", type=_port, default=0, help="port of the admin endpoint on 127.0.0.1 (default: any)")


def _port(text):
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("%s is not a TCP port" % text)
    return value


def main(argv=None):
    arguments = build_parser().parse_args(argv)
    try:
        arguments.run(arguments)
    except LabError as error:
        sys.stderr.write("hvlab: error: %s\n" % error)
        return 1
    return 0


def open_lab(fleet_path, directory, http_port=5985, https_port=5986, log_requests=True):
    """Load the fleet file and build a (not yet started) ``Lab`` over it; LabError when the file is bad."""
    try:
        fleet = Fleet.load(fleet_path)
        digest = fleet_digest(fleet_path)
    except OSError as error:
        raise LabError("cannot read fleet file %s: %s" % (fleet_path, error)) from error
    except ValueError as error:
        # The fleet loader's messages already name the file, the machine and the field.
        raise LabError(str(error)) from error
    return Lab(fleet, WsmanService(fleet), StateDir(directory), digest,
               http_port=http_port, https_port=https_port, log_requests=log_requests)


def run_serve(arguments):
    state_dir = StateDir(arguments.dir)
    _refuse_if_running(state_dir)
    state_dir.ensure()
    lab = open_lab(arguments.fleet, state_dir.path, arguments.http_port, arguments.https_port, not arguments.quiet)
    try:
        lab.start()
    except (OSError, ValueError) as error:
        raise LabError(str(error)) from error
    try:
        admin = AdminServer(lab, arguments.admin_port)
    except OSError as error:
        lab.stop()
        raise LabError("cannot open the admin endpoint: %s" % error) from error

    def request_shutdown(_signal_number, _frame):
        admin.shutdown_requested.set()

    signal.signal(signal.SIGTERM, request_shutdown)
    signal.signal(signal.SIGINT, request_shutdown)
    pid = os.getpid()
    try:
        admin.start()
        state_dir.write_inventory(build_inventory(lab.fleet.machines.values(), lab.ports(), state_dir.ca_file))
        state_dir.write_pid(pid)
        # admin.json comes last: its presence with our pid tells ``up`` that everything is listening.
        state_dir.write_admin(admin.url, pid)
        print("hvlab: serving %d machines (%s); admin %s; inventory %s"
              % (len(lab.fleet.machines), "state restored" if lab.restored else "fresh state", admin.url,
                 state_dir.inventory_file), flush=True)
        while not admin.shutdown_requested.wait(0.5):
            pass
    finally:
        admin.stop()
        lab.stop()
        state_dir.remove_runtime_files(pid)
        print("hvlab: stopped", flush=True)


def run_up(arguments):
    state_dir = StateDir(arguments.dir)
    _refuse_if_running(state_dir)
    if not os.path.isfile(arguments.fleet):
        raise LabError("fleet file %s does not exist" % arguments.fleet)
    state_dir.ensure()
    command = [
        sys.executable, "-m", "hvlab", "serve", os.path.abspath(arguments.fleet), "--dir", state_dir.path,
        "--http-port", str(arguments.http_port), "--https-port", str(arguments.https_port),
        "--admin-port", str(arguments.admin_port),
    ]
    environment = dict(os.environ, PYTHONUNBUFFERED="1")
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))
    with open(state_dir.log_file, "wb") as log:
        child = subprocess.Popen(  # pylint: disable=consider-using-with
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=environment, cwd=state_dir.path,
        )
    try:
        admin = _wait_until_ready(child, state_dir, time.monotonic() + arguments.timeout, arguments.timeout)
    except BaseException:
        _stop_child(child)
        raise
    state_dir.write_pid(child.pid)
    print("hvlab: lab up (pid %d); admin %s; inventory %s; CA %s"
          % (child.pid, admin["url"], state_dir.inventory_file, state_dir.ca_file))


def run_down(arguments):
    state_dir = StateDir(arguments.dir)
    pid = running_pid(state_dir)
    if pid is None:
        _remove_stale_runtime_files(state_dir)
        print("hvlab: no lab running in %s" % state_dir.path)
        return
    admin = state_dir.read_admin()
    if admin is not None and admin.get("pid") == pid:
        try:
            admin_request(admin["url"], "POST", "/shutdown", timeout=PROBE_TIMEOUT)
        except (OSError, ValueError, http.client.HTTPException):
            pass
    stopped = _wait_for_exit(pid, arguments.timeout)
    for signal_number in (signal.SIGTERM, signal.SIGKILL):
        if stopped:
            break
        try:
            os.kill(pid, signal_number)
        except ProcessLookupError:
            break
        stopped = _wait_for_exit(pid, 5.0)
    if not stopped:
        raise LabError("lab process %d did not stop" % pid)
    state_dir.remove_runtime_files(pid)
    print("hvlab: stopped the lab (pid %d)" % pid)


def running_pid(state_dir):
    """The pid of the lab running in ``state_dir``, or None when none runs there."""
    pid = state_dir.read_pid()
    if pid is None:
        admin = state_dir.read_admin()
        pid = admin.get("pid") if admin else None
    if isinstance(pid, int) and pid > 0 and _process_alive(pid) and _is_lab_process(pid):
        return pid
    return None


def _refuse_if_running(state_dir):
    pid = running_pid(state_dir)
    if pid is not None and pid != os.getpid():
        raise LabError("a lab is already running in %s (pid %d); stop it first with: python -m hvlab down --dir %s"
                       % (state_dir.path, pid, state_dir.path))
    _remove_stale_runtime_files(state_dir)


def _remove_stale_runtime_files(state_dir):
    for path in (state_dir.pid_file, state_dir.admin_file):
        if os.path.exists(path):
            os.remove(path)


def _wait_until_ready(child, state_dir, deadline, timeout):
    while True:
        exit_code = child.poll()
        if exit_code is not None:
            raise LabError("the lab exited with code %d before it was ready: %s (see %s)"
                           % (exit_code, _last_log_line(state_dir.log_file), state_dir.log_file))
        admin = state_dir.read_admin()
        if admin is not None and admin.get("pid") == child.pid and _lab_answers(admin["url"], state_dir):
            return admin
        if time.monotonic() > deadline:
            raise LabError("the lab did not answer within %gs; last line of its log: %s (see %s)"
                           % (timeout, _last_log_line(state_dir.log_file), state_dir.log_file))
        time.sleep(POLL_INTERVAL)


def _lab_answers(admin_url, state_dir):
    """True when the admin endpoint is healthy and every listener of every machine answers HTTP (HTTPS with a
    certificate the lab CA validates)."""
    try:
        status, _health = admin_request(admin_url, "GET", "/health", timeout=PROBE_TIMEOUT)
        if status != 200:
            return False
        status, listing = admin_request(admin_url, "GET", "/machines", timeout=PROBE_TIMEOUT)
        if status != 200:
            return False
        tls_context = ssl.create_default_context(cafile=state_dir.ca_file)
        for machine in listing["machines"]:
            for scheme, port in machine["ports"].items():
                if _probe_listener(machine["address"], port, tls_context if scheme == "https" else None) != 405:
                    return False
    except (OSError, ValueError, KeyError, http.client.HTTPException):
        return False
    return True


def _probe_listener(address, port, tls_context):
    """Status of a GET on the listener's path: a healthy listener answers 405 (a GET counts in no statistic)."""
    if tls_context is None:
        connection = http.client.HTTPConnection(address, port, timeout=PROBE_TIMEOUT)
    else:
        connection = http.client.HTTPSConnection(address, port, timeout=PROBE_TIMEOUT, context=tls_context)
    try:
        connection.request("GET", WSMAN_PATH)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _last_log_line(log_file):
    try:
        with open(log_file, "rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 8192))
            lines = [line.strip() for line in log.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return "(no log)"
    return lines[-1] if lines else "(empty log)"


def _stop_child(child):
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(DEFAULT_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _wait_for_exit(pid, timeout):
    deadline = time.monotonic() + timeout
    while _process_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_INTERVAL)
    return True


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) counts as stopped.
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_lab_process(pid):
    """Whether ``pid`` runs hvlab (so a recycled pid of another program is never signalled)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as cmdline:
            return b"hvlab" in cmdline.read()
    except FileNotFoundError:
        return not os.path.isdir("/proc/self")
    except OSError:
        return True
