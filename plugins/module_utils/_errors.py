# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# FOR INTERNAL COLLECTION USE ONLY: the contents of this file may change in any release.
#
# The exception tree. Every error carries keyword fields and renders as ONE line that names the machine and the
# operation: "<machine>: <operation>: <what happened>". Messages are built from fields the code chose, never from
# credentials; text that comes from the network is collapsed onto one line and bounded.

# CIM_ConcreteJob.JobState values (DMTF CIM schema; Msvm_ConcreteJob inherits them), and Hyper-V's own 32768
# (Microsoft's Hyper-V sample utilities; the Hyper-V PowerShell module's TaskStatus treats it as success).
JOB_STATE_NAMES = {
    2: "new",
    3: "starting",
    4: "running",
    5: "suspended",
    6: "shutting down",
    7: "completed",
    8: "terminated",
    9: "killed",
    10: "exception",
    11: "service",
    12: "query pending",
    32768: "completed with warnings",
}

_MAX_MESSAGE_CHARS = 1000


def one_line(text: str) -> str:
    """Collapse all whitespace runs (newlines included) to single spaces and bound the length."""
    flat = " ".join(str(text).split())
    if len(flat) > _MAX_MESSAGE_CHARS:
        return flat[:_MAX_MESSAGE_CHARS - 3] + "..."
    return flat


def job_state_text(state: int | None) -> str:
    """``10 (exception)``; an unknown or missing state is shown as it is."""
    name = JOB_STATE_NAMES.get(state) if state is not None else None
    return f"{state} ({name})" if name else str(state)


class AvmaError(Exception):
    """Base of every error the collection raises on purpose."""

    def __init__(self, message: str, *, machine: str | None = None, operation: str | None = None) -> None:
        self.message = one_line(message)
        self.machine = machine
        self.operation = operation
        super().__init__(self.message)

    def add_context(self, *, machine: str | None, operation: str | None) -> None:
        """Fill in the machine and operation where the raiser could not know them (inner helpers)."""
        if self.machine is None:
            self.machine = machine
        if self.operation is None:
            self.operation = operation

    def __str__(self) -> str:
        return ": ".join(part for part in (self.machine, self.operation, self.message) if part)


class AvmaValueError(AvmaError, ValueError):
    """Bad input, detected before any request is sent."""


class WinrmAuthenticationError(AvmaError):
    """The server refused the credentials, or the credentials are unusable for the chosen transport."""

    def __init__(self, reason: str, *, user: str | None = None, machine: str | None = None, operation: str | None = None) -> None:
        self.user = user
        self.reason = reason
        who = f" for user '{user}'" if user else ""
        super().__init__(f"authentication failed{who} ({reason})", machine=machine, operation=operation)


class WinrmTransportError(AvmaError):
    """The request did not get a WS-Management answer: unreachable, refused, reset, TLS failure, or an HTTP
    error whose body is not a SOAP fault.

    ``kind`` says which: ``refused``, ``connect_timeout``, ``reset``, ``unreachable``, ``tls``, ``http``,
    ``setup`` (the client could not be set up: missing auth library, impossible option combination).
    """

    def __init__(self, reason: str, *, kind: str, http_status: int | None = None, machine: str | None = None,
                 operation: str | None = None) -> None:
        self.reason = reason
        self.kind = kind
        self.http_status = http_status
        super().__init__(reason, machine=machine, operation=operation)


class WinrmOperationTimeoutError(AvmaError):
    """The operation did not complete in time: a WS-Man ``w:TimedOut`` fault (``code`` set) or no HTTP answer
    within the read timeout (``code`` None)."""

    def __init__(self, reason: str, *, code: int | None = None, machine: str | None = None, operation: str | None = None) -> None:
        self.reason = reason
        self.code = code
        super().__init__(reason, machine=machine, operation=operation)


class WsmanFaultError(AvmaError):
    """A SOAP fault: ``code`` from ``f:WSManFault/@Code``, ``wmi_code`` the WMI/HRESULT error carried by a nested
    ``MSFT_WmiError`` or ``ProviderFault``, ``fault_subcode`` the SOAP subcode (``w:InvalidSelectors``)."""

    def __init__(self, *, code: int | None, wmi_code: int | None, reason: str, fault_subcode: str | None = None,
                 http_status: int | None = None, machine: str | None = None, operation: str | None = None) -> None:
        self.code = code
        self.wmi_code = wmi_code
        self.reason = reason
        self.fault_subcode = fault_subcode
        self.http_status = http_status
        details = [part for part in (
            fault_subcode,
            f"WMI error 0x{wmi_code:08X}" if wmi_code is not None else None,
        ) if part]
        head = "WS-Man fault" + (f" {code}" if code is not None else "") + (f" ({', '.join(details)})" if details else "")
        super().__init__(f"{head}: {reason}", machine=machine, operation=operation)


class WsmanProtocolError(AvmaError):
    """The answer is not what WS-Management promises: bad or unsafe XML, RelatesTo mismatch, unexpected shape."""


class CimMethodError(AvmaError):
    """A WMI method answered with a ReturnValue that is neither success nor "job started"."""

    def __init__(self, *, method: str, return_value: int, meaning: str, machine: str | None = None, operation: str | None = None) -> None:
        self.method = method
        self.return_value = return_value
        self.meaning = meaning
        super().__init__(f"{method} returned {return_value} ({meaning})", machine=machine, operation=operation)


class CimJobFailedError(AvmaError):
    """A WMI job ended in a failed terminal state (terminated, killed, exception)."""

    def __init__(self, *, job_id: str, job_state: int, error_code: int | None, error_description: str | None,
                 machine: str | None = None, operation: str | None = None) -> None:
        self.job_id = job_id
        self.job_state = job_state
        self.error_code = error_code
        self.error_description = error_description
        detail = f"error {error_code}" if error_code is not None else "no error code"
        if error_description:
            detail += f": {error_description}"
        super().__init__(f"job {job_id} ended in state {job_state_text(job_state)}; {detail}", machine=machine, operation=operation)


class CimJobTimeoutError(AvmaError):
    """A WMI job did not reach a terminal state before the deadline. The job itself may still be running."""

    def __init__(self, *, job_id: str, last_state: int | None, timeout_sec: float | None = None, machine: str | None = None,
                 operation: str | None = None) -> None:
        self.job_id = job_id
        self.last_state = last_state
        self.timeout_sec = timeout_sec
        within = f" within {timeout_sec:g}s" if timeout_sec is not None else ""
        super().__init__(f"job {job_id} did not finish{within}; last state {job_state_text(last_state)}", machine=machine, operation=operation)


def answer_lost(error: BaseException) -> bool:
    """True when a request may have reached the machine and been carried out, but its answer never arrived: the
    connection was reset after the request was sent, or no HTTP answer came within the read timeout. A write that
    fails this way must be checked by reading the state again, never repeated blindly nor reported as unchanged."""
    if isinstance(error, WinrmOperationTimeoutError):
        return error.code is None
    return isinstance(error, WinrmTransportError) and error.kind == "reset"


class LostAnswerError(AvmaError):
    """A write whose answer never arrived, and reading the state again did not show it done: it may still be applied
    (a host finishes its job whatever happened to the connection)."""


def lost_answer_warning(what: str, error: AvmaError) -> str:
    """The warning of a write whose answer was lost and that the state read again shows done."""
    return (f"{what}: the answer was lost ({error.message}); the state was read again and shows the change made, "
            "so it is reported as changed")


def lost_answer_failure(what: str, error: AvmaError, check: str, *, reread_error: AvmaError | None = None) -> LostAnswerError:
    """The failure for a write whose answer was lost and that the state read again does not show done: it says the
    write may have been applied and how to check (``check``)."""
    seen = (f"reading the state again failed too ({reread_error.message})" if reread_error is not None
            else "the state read again does not show the change")
    return LostAnswerError(f"{what}: the answer was lost ({error.message}) and {seen}; the write may have been applied "
                           f"all the same: {check}, or run the task again (it reads the state before it changes anything)",
                           machine=error.machine, operation=error.operation)


def failure_fields(error: AvmaError) -> dict[str, object]:
    """What a task's result says when ``error`` ended it: ``failed`` and ``msg``, and ``answer_lost: true`` when it was
    a write whose answer was lost and that the state read again does not show done (LostAnswerError): running the task
    again is safe, as it reads the state before it changes anything, which is what the roles do once."""
    fields: dict[str, object] = dict(failed=True, msg=str(error))
    if isinstance(error, LostAnswerError):
        fields["answer_lost"] = True
    return fields


# WinrmTransportError kinds that mean no HTTP answer came at all.
_NO_ANSWER_KINDS = ("refused", "connect_timeout", "unreachable", "tls", "reset")


def connection_failure(error: BaseException) -> bool:
    """True for a failure at the connection level: refused, connect timeout, unreachable, TLS or authentication
    handshake failure, reset, or no HTTP answer within the read timeout. When the machine has answered nothing else
    in the task, such a host is UNREACHABLE for Ansible; anything the machine answered is a task failure."""
    if isinstance(error, WinrmAuthenticationError):
        return True
    if isinstance(error, WinrmOperationTimeoutError):
        return error.code is None
    return isinstance(error, WinrmTransportError) and error.kind in _NO_ANSWER_KINDS
