# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Injected faults: rules that make a machine slow, drop connections or answer with a fault.

A rule is a dict ``{"machine": name | "*", "operation": Operation | "*", "method": "Class.Method" | "*", "kind": ...,
"count": n | None, "rate": 0..1, "seed": n}`` plus ``seconds`` (latency, stall; optional delay before an
operation_timeout fault) or ``code`` / ``wmi_code`` (wsman_fault). ``method`` narrows a rule to the Invokes of one
WMI method (it implies operation Invoke).

Kinds that answer instead of the operation, which therefore does not run:

- ``latency``: answer normally, ``seconds`` later;
- ``drop``: close the connection without answering (the request was not processed);
- ``http500``: a Windows-shaped internal-error fault; ``http503``: HTTP 503 with an empty body, as HTTP.sys answers
  when its queue is full (never encrypted);
- ``operation_timeout``: the 2150858793 fault; ``badxml``: HTTP 200 with a truncated envelope;
- ``wsman_fault``: a fault with the given WSManFault code and optional WMI HRESULT;
- ``expired_context``: the InvalidEnumerationContext fault (2150858779), as a Pull gets once its context expired
  (the context is forgotten too).

Kinds where the operation runs (a write is applied and saved) but its answer never arrives whole:

- ``reset_mid_body``: the headers and the first half of the body are sent, then the connection is closed;
- ``lost_answer``: the connection is closed before any byte of the answer;
- ``stall``: the answer is held for ``seconds`` (past the client's read timeout), then sent to whoever still listens.

Rules are tried in the order they were added. Every matching latency rule adds its delay; the first matching rule
of another kind decides the answer. Each firing uses one of ``count`` (None: until cleared). With ``rate`` a matching
rule fires only for that fraction of requests, drawn from its own generator seeded with ``seed`` (default 0), so a
load run is repeatable.
"""

import random
from dataclasses import dataclass, field

from .handlers import OPERATIONS

KINDS = ("latency", "drop", "http500", "http503", "operation_timeout", "badxml", "wsman_fault", "expired_context",
         "reset_mid_body", "lost_answer", "stall")
# The kinds after which the operation has run: its effect stays even though the client never sees the answer.
APPLIED_KINDS = ("reset_mid_body", "lost_answer", "stall")
RULE_FIELDS = {"machine", "operation", "method", "kind", "seconds", "code", "wmi_code", "count", "rate", "seed"}


@dataclass
class FaultRule:
    machine: str
    operation: str
    kind: str
    seconds: float = 0.0
    code: int = None
    wmi_code: int = None
    count: int = None
    method: str = "*"
    rate: float = None
    seed: int = 0
    fired: int = 0
    _random: random.Random = field(default=None, repr=False)

    def applies(self, machine, operation, method=None):
        if not (self.machine in ("*", machine) and self.operation in ("*", operation)):
            return False
        if self.method != "*" and (operation != "Invoke" or (method or "").lower() != self.method.lower()):
            return False
        if self.rate is not None:
            if self._random is None:
                self._random = random.Random(self.seed)
            return self._random.random() < self.rate
        return True

    def as_dict(self):
        return {"machine": self.machine, "operation": self.operation, "method": self.method, "kind": self.kind,
                "seconds": self.seconds, "code": self.code, "wmi_code": self.wmi_code, "count": self.count,
                "rate": self.rate, "seed": self.seed, "fired": self.fired}


def _number(rule, name, integer, low, high):
    value = rule.get(name)
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise ValueError("fault rule: %s must be %s from %s to %s, got %r"
                         % (name, "an integer" if integer else "a number", low, high, value))
    return value


def parse_rule(rule, machine_names):
    """A validated ``FaultRule`` from a rule dict; ``ValueError`` says what is wrong."""
    if not isinstance(rule, dict):
        raise ValueError("fault rule: must be a mapping")
    unknown = set(rule) - RULE_FIELDS
    if unknown:
        raise ValueError("fault rule: unknown fields %s (allowed: %s)" % (sorted(map(str, unknown)), ", ".join(sorted(RULE_FIELDS))))
    machine = rule.get("machine", "*")
    if machine != "*" and machine not in machine_names:
        raise ValueError("fault rule: machine %r is not in the fleet (use a machine name or *)" % (machine,))
    operation = rule.get("operation", "*")
    if operation != "*" and operation not in OPERATIONS:
        raise ValueError("fault rule: operation must be * or one of %s, got %r" % (", ".join(OPERATIONS), operation))
    kind = rule.get("kind")
    if kind not in KINDS:
        raise ValueError("fault rule: kind must be one of %s, got %r" % (", ".join(KINDS), kind))
    method = rule.get("method", "*")
    if not isinstance(method, str) or (method != "*" and (method.count(".") != 1 or not all(method.split(".")))):
        raise ValueError("fault rule: method must be * or Class.Method, got %r" % (method,))
    if method != "*":
        if operation not in ("*", "Invoke"):
            raise ValueError("fault rule: method applies to operation Invoke only")
        operation = "Invoke"
    parsed = FaultRule(machine, operation, kind, method=method)
    if kind in ("latency", "stall") or (kind == "operation_timeout" and "seconds" in rule):
        parsed.seconds = float(_number(rule, "seconds", False, 0, 3600))
    elif "seconds" in rule:
        raise ValueError("fault rule: seconds applies to latency, stall and operation_timeout only")
    if rule.get("rate") is not None:
        parsed.rate = float(_number(rule, "rate", False, 0, 1))
        if rule.get("seed") is not None:
            parsed.seed = _number(rule, "seed", True, 0, 2 ** 63 - 1)
    elif rule.get("seed") is not None:
        raise ValueError("fault rule: seed applies with rate only")
    if kind == "wsman_fault":
        parsed.code = _number(rule, "code", True, 1, 2 ** 32 - 1)
        if rule.get("wmi_code") is not None:
            parsed.wmi_code = _number(rule, "wmi_code", True, 1, 2 ** 32 - 1)
    elif rule.get("code") is not None or rule.get("wmi_code") is not None:
        raise ValueError("fault rule: code and wmi_code apply to wsman_fault only")
    if rule.get("count") is not None:
        parsed.count = _number(rule, "count", True, 1, 2 ** 31 - 1)
    return parsed


class FaultInjector:
    """The active rules of a lab."""

    def __init__(self, machine_names):
        self._machine_names = set(machine_names)
        self._rules = []

    def add(self, rule):
        parsed = parse_rule(rule, self._machine_names)
        self._rules.append(parsed)
        return parsed

    def clear(self):
        self._rules = []

    def rules(self):
        return [rule.as_dict() for rule in self._rules]

    def fire(self, machine, operation, method=None):
        """(total latency in seconds, the rule that decides the answer or None) for one request (``method`` is the
        ``Class.Method`` of an Invoke); uses up counts."""
        latency = 0.0
        decisive = None
        for rule in self._rules:
            if (rule.kind != "latency" and decisive is not None) or not rule.applies(machine, operation, method):
                continue
            if rule.kind == "latency":
                latency += rule.seconds
            else:
                decisive = rule
            rule.fired += 1
            if rule.count is not None:
                rule.count -= 1
        self._rules = [rule for rule in self._rules if rule.count is None or rule.count > 0]
        return latency, decisive
