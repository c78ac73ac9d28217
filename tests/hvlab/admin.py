# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's admin endpoint: JSON over HTTP on 127.0.0.1, for tests and users to observe and steer the lab.

Routes live in ``ROUTES``, a table of ``(method, path) -> handler``; a handler takes the ``AdminServer`` and the
decoded JSON body (None when empty) and returns ``(status, document)``, optionally followed by callables to run
once the answer is sent. Register more with ``@route(...)``.
"""

import http.client
import json
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import jobs
from .migration import MigrationError, migrate
from .server import check_loopback, send_response, set_no_delay

ADMIN_ADDRESS = "127.0.0.1"
MAX_ADMIN_BODY_BYTES = 1024 * 1024
POLL_INTERVAL = 0.2

ROUTES = {}


def route(method, path):
    """Register the decorated function as the handler of ``method path``."""
    def register(handler):
        ROUTES[(method, path)] = handler
        return handler
    return register


@route("GET", "/health")
def _health(admin, _payload):
    lab = admin.lab
    return 200, {"status": "ok", "machines": len(lab.fleet.machines), "restored": lab.restored}


@route("GET", "/stats")
def _stats(admin, _payload):
    return 200, admin.lab.stats()


@route("POST", "/stats/reset")
def _reset_stats(admin, _payload):
    admin.lab.reset_stats()
    return 200, {"status": "ok"}


@route("POST", "/reset")
def _reset(admin, _payload):
    admin.lab.reset()
    return 200, {"status": "ok"}


@route("POST", "/faults")
def _inject_fault(admin, payload):
    if not isinstance(payload, dict):
        return 400, {"error": "a fault rule is a JSON object"}
    try:
        admin.lab.service.inject_fault(payload)
    except ValueError as error:
        return 400, {"error": str(error)}
    return 200, {"status": "ok"}


@route("GET", "/faults")
def _fault_rules(admin, _payload):
    return 200, {"rules": admin.lab.service.fault_rules()}


@route("DELETE", "/faults")
def _clear_faults(admin, _payload):
    admin.lab.service.clear_faults()
    return 200, {"status": "ok"}


@route("POST", "/migrate")
def _migrate(admin, payload):
    try:
        moved = admin.lab.service.apply(lambda fleet: migrate(fleet, payload))
    except MigrationError as error:
        return 400, {"error": str(error)}
    admin.lab.persist()
    return 200, moved


def _job_failure_host(fleet, payload):
    name = payload.get("machine") if isinstance(payload, dict) else None
    host = fleet.machines.get(name) if isinstance(name, str) else None
    if host is None or host.kind != "host":
        raise ValueError("machine must name a host of the fleet, got %r" % (name,))
    return host


@route("POST", "/jobs/failures")
def _add_job_failure(admin, payload):
    try:
        rule = admin.lab.service.apply(lambda fleet: jobs.add_failure_rule(_job_failure_host(fleet, payload), payload))
    except ValueError as error:
        return 400, {"error": str(error)}
    admin.lab.persist()
    return 200, rule


def _clear_all_job_failures(fleet):
    for machine in fleet.machines.values():
        jobs.clear_failure_rules(machine)


@route("DELETE", "/jobs/failures")
def _clear_job_failures(admin, _payload):
    admin.lab.service.apply(_clear_all_job_failures)
    admin.lab.persist()
    return 200, {"status": "ok"}


@route("GET", "/machines")
def _machines(admin, _payload):
    return 200, {"machines": admin.lab.machine_summaries()}


@route("POST", "/shutdown")
def _shutdown(admin, _payload):
    # Signal the serving process only once the answer is out, so the caller always gets it.
    return 200, {"status": "stopping"}, admin.shutdown_requested.set


class AdminRequestHandler(BaseHTTPRequestHandler):
    """Dispatches admin requests through ``ROUTES``."""

    protocol_version = "HTTP/1.1"
    timeout = 60

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.admin.lab.log_requests:
            sys.stderr.write("%s admin %s\n" % (self.log_date_time_string(), format % args))

    def do_GET(self):  # pylint: disable=invalid-name
        self._dispatch("GET")

    def do_POST(self):  # pylint: disable=invalid-name
        self._dispatch("POST")

    def do_DELETE(self):  # pylint: disable=invalid-name
        self._dispatch("DELETE")

    def _dispatch(self, method):
        status, document, *after_reply = self._route(method)
        body = (json.dumps(document, sort_keys=True) + "\n").encode()
        send_response(self, status, [("Content-Type", "application/json")], body)
        for action in after_reply:
            action()

    def _route(self, method):
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_ADMIN_BODY_BYTES:
            self.close_connection = True
            return 400, {"error": "bad Content-Length"}
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        handler = ROUTES.get((method, path))
        if handler is None:
            if any(known_path == path for _known_method, known_path in ROUTES):
                return 405, {"error": "%s is not allowed on %s" % (method, path)}
            return 404, {"error": "no route %s %s" % (method, path)}
        try:
            payload = json.loads(raw) if raw.strip() else None
        except ValueError as error:
            return 400, {"error": "the body is not JSON: %s" % error}
        return handler(self.server.admin, payload)


class _AdminHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, server_address, admin):
        self.admin = admin
        super().__init__(server_address, AdminRequestHandler)

    def server_bind(self):
        # Skip HTTPServer's getfqdn(): no DNS query for a loopback address.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        set_no_delay(request)
        super().finish_request(request, client_address)


class AdminServer:
    """The admin endpoint of one ``Lab``; ``shutdown_requested`` is set by ``POST /shutdown``."""

    def __init__(self, lab, port=0):
        self.lab = lab
        self.shutdown_requested = threading.Event()
        self.server = _AdminHTTPServer((ADMIN_ADDRESS, port), self)
        self.port = self.server.server_address[1]
        self._thread = None

    @property
    def url(self):
        return "http://%s:%d" % (ADMIN_ADDRESS, self.port)

    def start(self):
        self._thread = threading.Thread(target=self.server.serve_forever, args=(POLL_INTERVAL,), name="hvlab admin", daemon=True)
        self._thread.start()

    def stop(self):
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None
        self.server.server_close()


def admin_request(url, method, path, payload=None, timeout=10.0):
    """Call the admin endpoint at ``url`` (``http://127.0.0.1:PORT``); return ``(status, decoded JSON)``.

    Uses http.client directly, so no proxy from the environment ever sees the request.
    """
    host_port = url.split("://", 1)[-1].rstrip("/")
    host, _separator, port = host_port.partition(":")
    check_loopback(host)
    connection = http.client.HTTPConnection(host, int(port or 80), timeout=timeout)
    try:
        body = None if payload is None else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    return response.status, (json.loads(raw) if raw.strip() else None)
