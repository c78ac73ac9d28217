# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Injected faults: rules that make a machine slow, drop connections or answer with a fault.

A rule is a dict ``{"machine": name | "*", "operation": Operation | "*", "kind": ..., "count": n | None}`` plus
``seconds`` (latency; optional delay before an operation_timeout fault) or ``code`` / ``wmi_code`` (wsman_fault).
Kinds: ``latency`` (answer normally, ``seconds`` later), ``drop`` (close the connection without answering),
``http500`` (a Windows-shaped internal-error fault), ``operation_timeout`` (the 2150858793 fault), ``badxml`` (HTTP
200 with a truncated envelope), ``wsman_fault`` (a fault with the given WSManFault code and optional WMI HRESULT).
Rules are tried in the order they were added. Every matching latency rule adds its delay; the first matching rule
of another kind decides the answer. Each firing uses one of ``count`` (None: until cleared).
"""

from dataclasses import dataclass

from .handlers import OPERATIONS

KINDS = ("latency", "drop", "http500", "operation_timeout", "badxml", "wsman_fault")
RULE_FIELDS = {"machine", "operation", "kind", "seconds", "code", "wmi_code", "count"}


@dataclass
class FaultRule:
    machine: str
    operation: str
    kind: str
    seconds: float = 0.0
    code: int = None
    wmi_code: int = None
    count: int = None

    def applies(self, machine, operation):
        return self.machine in ("*", machine) and self.operation in ("*", operation)

    def as_dict(self):
        return {"machine": self.machine, "operation": self.operation, "kind": self.kind, "seconds": self.seconds,
                "code": self.code, "wmi_code": self.wmi_code, "count": self.count}


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
    parsed = FaultRule(machine, operation, kind)
    if kind == "latency" or (kind == "operation_timeout" and "seconds" in rule):
        parsed.seconds = float(_number(rule, "seconds", False, 0, 3600))
    elif "seconds" in rule:
        raise ValueError("fault rule: seconds applies to latency and operation_timeout only")
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

    def fire(self, machine, operation):
        """(total latency in seconds, the rule that decides the answer or None) for one request; uses up counts."""
        latency = 0.0
        decisive = None
        for rule in self._rules:
            if not rule.applies(machine, operation):
                continue
            if rule.kind == "latency":
                latency += rule.seconds
            elif decisive is None:
                decisive = rule
            else:
                continue
            if rule.count is not None:
                rule.count -= 1
        self._rules = [rule for rule in self._rules if rule.count is None or rule.count > 0]
        return latency, decisive
