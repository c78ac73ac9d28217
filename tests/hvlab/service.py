# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WS-Management service of the lab: decrypted SOAP envelope in, ``Reply`` out.

The HTTP server (``server.py``) authenticates, decrypts and calls ``WsmanService.handle``; everything about
WS-Management happens here and below: parsing (``envelope``), the operations (``handlers``), faults (``faults`` and
``faultxml``), injected faults (``faultinjection``) and counters (``stats``). One lock serialises requests, so the
fleet state, the enumeration contexts and the counters are consistent; the server sleeps for ``Reply.delay``
outside of it.
"""

import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import faults
from .envelope import parse_request, read_addressing
from .enumeration import DEFAULT_ENUMERATION_TIMEOUT, EnumerationContexts
from .faultinjection import APPLIED_KINDS, FaultInjector
from .faults import WsmanFault
from .faultxml import render_fault
from .handlers import HANDLERS, Exchange, classify
from .method_table import default_method_table
from .namespaces import NS, qname
from .responsexml import new_message_id
from .stats import Stats

# What an injected "badxml" fault sends: a response envelope cut off in the middle of its header.
TRUNCATED_ENVELOPE = ('<s:Envelope xml:lang="en-US" xmlns:s="%s" xmlns:a="%s"><s:Header><a:Action>%s'
                      % (NS["s"], NS["a"], "http://schemas.xmlsoap.org/ws/2004/09/enumer")).encode("utf-8")


@dataclass
class Reply:
    """What the server sends: ``status`` and ``body``, after ``delay`` seconds; ``drop`` closes the connection
    without an answer (``status`` 0); ``cut`` sends the headers and half the body, then closes; ``plain`` sends the
    body unencrypted even on an encrypted connection (HTTP.sys' own answers); ``wrote`` asks the server to persist
    the machines the request changed (before anything is sent, so a lost answer never loses the write)."""

    status: int
    body: bytes
    delay: float = 0.0
    drop: bool = False
    cut: bool = False
    plain: bool = False
    wrote: bool = False


class WsmanService:
    """Serves every machine of ``fleet``. ``clock`` and ``enumeration_timeout`` govern context expiry; ``methods``
    replaces the table of WMI methods (default: all the lab implements)."""

    def __init__(self, fleet, *, clock=time.monotonic, enumeration_timeout=DEFAULT_ENUMERATION_TIMEOUT, methods=None):
        self.fleet = fleet
        self.methods = methods if methods is not None else default_method_table()
        self._lock = threading.Lock()
        self._contexts = EnumerationContexts(clock, enumeration_timeout)
        self._stats = Stats(fleet.machines)
        self._faults = FaultInjector(fleet.machines)

    def handle(self, machine_name, body, *, user):
        """Answer one request to ``machine_name`` from ``user``; ``KeyError`` if the fleet has no such machine."""
        machine = self.fleet.machines[machine_name]
        with self._lock:
            return self._handle(machine, body, user)

    def stats(self):
        """``{"machines": {name: {"requests": {op: n}, "writes": {op: n}, "total_requests": n, "total_writes": n}},
        "total_requests": n, "total_writes": n}``; see ``stats`` for the keys."""
        with self._lock:
            return self._stats.snapshot()

    def reset_stats(self):
        with self._lock:
            self._stats.reset()

    def inject_fault(self, rule):
        """Add a fault rule (see ``faultinjection``); ``ValueError`` for an invalid rule."""
        with self._lock:
            self._faults.add(rule)

    def fault_rules(self):
        """The active rules, with their remaining counts."""
        with self._lock:
            return self._faults.rules()

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def apply(self, change):
        """Run ``change(fleet)`` between requests (an admin action such as a migration) and return its result."""
        with self._lock:
            return change(self.fleet)

    def reset(self):
        """The fleet file's state, zero counters, no injected faults, no open enumerations."""
        with self._lock:
            self.fleet.reset()
            self._stats.reset()
            self._faults.clear()
            self._contexts.clear()

    def _handle(self, machine, body, user):
        request = None
        try:
            request = parse_request(body)
            operation = classify(request)
        except WsmanFault as fault:
            operation = "Other"
            early_fault = fault
        else:
            early_fault = None
        latency, rule = self._faults.fire(machine.name, operation, _invoked_method(request) if operation == "Invoke" else None)
        if rule is not None and rule.kind in APPLIED_KINDS:
            reply, detail = self._dispatch(operation, machine, request, user)
            self._stats.count(machine.name, operation, detail, reply.wrote)
            self._stats.count_fault(machine.name, rule.kind)
            self._spoil(reply, rule)
        elif rule is not None:
            self._stats.count(machine.name, operation)
            self._stats.count_fault(machine.name, rule.kind)
            reply = self._injected(rule, machine, request, body)
        elif early_fault is not None:
            self._stats.count(machine.name, operation)
            reply = self._fault_reply(early_fault, machine, request, body)
        else:
            reply, detail = self._dispatch(operation, machine, request, user)
            self._stats.count(machine.name, operation, detail, reply.wrote)
        reply.delay += latency
        return reply

    def _dispatch(self, operation, machine, request, user):
        """Run the operation: ``(Reply, "Invoke:<Class>.<Method>" or None)``; a ``WsmanFault`` becomes a fault reply."""
        exchange = Exchange(request, machine, user, machine.registry, self.methods, self._contexts, self.fleet)
        try:
            if operation != "Identify":
                if not request.message_id:
                    raise faults.header_required("MessageID")
                if operation == "Other":
                    raise faults.header_required("Action") if not request.action else faults.action_not_supported(request.action)
            outcome = HANDLERS[operation](exchange)
        except WsmanFault as fault:
            reply = self._fault_reply(fault, machine, request, None)
            reply.wrote = fault.wrote
            return reply, None
        body = outcome.envelope.encode("utf-8")
        if operation != "Identify" and len(body) > request.max_envelope_size:
            # The operation ran (a method may have changed state); only its answer does not fit.
            reply = self._fault_reply(faults.response_too_large(len(body), request.max_envelope_size), machine, request, None)
            reply.wrote = outcome.wrote
            return reply, outcome.detail
        return Reply(200, body, wrote=outcome.wrote), outcome.detail

    def _fault_reply(self, fault, machine, request, body):
        relates_to, to = (request.message_id, request.to) if request is not None else read_addressing(body)
        envelope = render_fault(fault, relates_to=relates_to, message_id=new_message_id(),
                                machine=_machine_label(machine, to), style=machine.fault_style)
        return Reply(fault.http_status, envelope)

    @staticmethod
    def _spoil(reply, rule):
        """Make the answer of an operation that ran get lost on the way, as ``rule`` says."""
        if rule.kind == "lost_answer":
            reply.drop = True
        elif rule.kind == "reset_mid_body":
            reply.cut = True
        else:
            reply.delay += rule.seconds

    def _injected(self, rule, machine, request, body):
        if rule.kind == "drop":
            return Reply(0, b"", drop=True)
        if rule.kind == "http503":
            return Reply(503, b"", plain=True)
        if rule.kind == "expired_context":
            if request is not None and request.body is not None:
                self._contexts.forget(machine.name, request.body.findtext(qname("n", "EnumerationContext")))
            return self._fault_reply(faults.invalid_enumeration_context(), machine, request, body)
        if rule.kind == "badxml":
            return Reply(200, TRUNCATED_ENVELOPE)
        if rule.kind == "operation_timeout":
            reply = self._fault_reply(faults.operation_timed_out(), machine, request, body)
            reply.delay = rule.seconds
            return reply
        if rule.kind == "http500":
            return self._fault_reply(faults.internal_error(), machine, request, body)
        return self._fault_reply(faults.generic(rule.code, rule.wmi_code), machine, request, body)


def _invoked_method(request):
    """``Class.Method`` of an Invoke: its action is the class resource URI, "/", the method name."""
    if request is None or not request.action or not request.resource_uri:
        return None
    class_name = request.resource_uri.rstrip("/").rsplit("/", 1)[-1]
    return "%s.%s" % (class_name, request.action.rsplit("/", 1)[-1])


def _machine_label(machine, to):
    """What Windows puts in WSManFault@Machine: the host name the client addressed (wsa:To), else the address."""
    host = urlsplit(to).hostname if to else None
    return host or machine.address
