# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._errors import (
    AvmaError,
    AvmaValueError,
    CimJobFailedError,
    CimJobTimeoutError,
    CimMethodError,
    WinrmAuthenticationError,
    WinrmOperationTimeoutError,
    WinrmTransportError,
    WsmanFaultError,
    WsmanProtocolError,
    answer_lost,
    connection_failure,
    failure_fields,
    lost_answer_failure,
    one_line,
)

MACHINE = "g2022dc (127.0.10.11:5985)"


def test_authentication_error_reads_as_documented():
    error = WinrmAuthenticationError("HTTP 401", user="Administrator", machine=MACHINE, operation="Enumerate SoftwareLicensingProduct")
    assert str(error) == ("g2022dc (127.0.10.11:5985): Enumerate SoftwareLicensingProduct: "
                          "authentication failed for user 'Administrator' (HTTP 401)")
    assert error.user == "Administrator" and error.reason == "HTTP 401"


@pytest.mark.parametrize("error, expected", [
    (AvmaValueError("bad input", machine=MACHINE, operation="Get X"), "bad input"),
    (WinrmTransportError("connection refused", kind="refused", machine=MACHINE, operation="Get X"), "connection refused"),
    (WinrmOperationTimeoutError("no answer", code=2150858793, machine=MACHINE, operation="Get X"), "no answer"),
    (WsmanFaultError(code=2150858778, wmi_code=2147749904, reason="Invalid class", fault_subcode="n:CannotProcessFilter",
                     machine=MACHINE, operation="Get X"),
     "WS-Man fault 2150858778 (n:CannotProcessFilter, WMI error 0x80041010): Invalid class"),
    (WsmanFaultError(code=None, wmi_code=None, reason="get-instance failed", machine=MACHINE, operation="Get X"),
     "WS-Man fault: get-instance failed"),
    (WsmanProtocolError("RelatesTo mismatch", machine=MACHINE, operation="Get X"), "RelatesTo mismatch"),
    (CimMethodError(method="Msvm_VirtualSystemManagementService.RemoveKvpItems", return_value=32775,
                    meaning="invalid state for this operation", machine=MACHINE, operation="Get X"),
     "Msvm_VirtualSystemManagementService.RemoveKvpItems returned 32775 (invalid state for this operation)"),
    (CimJobFailedError(job_id="J1", job_state=10, error_code=32768, error_description="it broke", machine=MACHINE, operation="Get X"),
     "job J1 ended in state 10 (exception); error 32768: it broke"),
    (CimJobFailedError(job_id="J1", job_state=8, error_code=None, error_description=None, machine=MACHINE, operation="Get X"),
     "job J1 ended in state 8 (terminated); no error code"),
    (CimJobTimeoutError(job_id="J1", last_state=4, timeout_sec=2.5, machine=MACHINE, operation="Get X"),
     "job J1 did not finish within 2.5s; last state 4 (running)"),
])
def test_every_error_names_machine_and_operation_on_one_line(error, expected):
    assert str(error) == f"{MACHINE}: Get X: {expected}"
    assert isinstance(error, AvmaError)
    assert "\n" not in str(error)


def test_message_is_flattened_and_bounded():
    error = WsmanFaultError(code=1, wmi_code=None, reason="line one\n   line two\r\n" + "x" * 5000, machine=MACHINE, operation="Op")
    text = str(error)
    assert "line one line two" in text
    assert "\n" not in text and "\r" not in text
    assert len(error.message) <= 1000 and error.message.endswith("...")
    assert one_line("a\tb\n\nc") == "a b c"


def test_add_context_fills_only_what_is_missing():
    inner = WsmanProtocolError("malformed XML")
    assert str(inner) == "malformed XML"
    inner.add_context(machine=MACHINE, operation="Get Msvm_ConcreteJob")
    inner.add_context(machine="other", operation="other")
    assert str(inner) == f"{MACHINE}: Get Msvm_ConcreteJob: malformed XML"


def test_value_error_is_also_a_builtin_value_error():
    assert issubclass(AvmaValueError, ValueError)


@pytest.mark.parametrize("error_type, positional", [(WsmanFaultError, (2150858778, None, "reason")), (CimMethodError, ("m", 1, "x"))])
def test_fields_are_keyword_only(error_type, positional):
    with pytest.raises(TypeError):
        error_type(*positional)


def test_errors_chain_with_raise_from():
    with pytest.raises(WinrmTransportError) as caught:
        try:
            raise ConnectionRefusedError(111, "refused")
        except ConnectionRefusedError as exc:
            raise WinrmTransportError("connection refused", kind="refused") from exc
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


@pytest.mark.parametrize("error, lost", [
    (WinrmTransportError("reset", kind="reset"), True),
    (WinrmOperationTimeoutError("no HTTP answer within read_timeout_sec=30"), True),
    (WinrmOperationTimeoutError("w:TimedOut", code=2150858793), False),
    (WinrmTransportError("connection refused", kind="refused"), False),
    (WinrmTransportError("HTTP 503", kind="http", http_status=503), False),
    (WsmanFaultError(code=None, wmi_code=None, reason="refused"), False),
])
def test_only_a_sent_request_without_an_answer_counts_as_a_lost_answer(error, lost):
    assert answer_lost(error) is lost


@pytest.mark.parametrize("error, no_answer", [
    (WinrmTransportError("connection refused", kind="refused"), True),
    (WinrmTransportError("timed out", kind="connect_timeout"), True),
    (WinrmTransportError("no route", kind="unreachable"), True),
    (WinrmTransportError("certificate verify failed", kind="tls"), True),
    (WinrmTransportError("reset", kind="reset"), True),
    (WinrmAuthenticationError("HTTP 401", user="Administrator"), True),
    (WinrmOperationTimeoutError("no HTTP answer within read_timeout_sec=30"), True),
    (WinrmOperationTimeoutError("w:TimedOut", code=2150858793), False),
    (WinrmTransportError("HTTP 503", kind="http", http_status=503), False),
    (WinrmTransportError("pykerberos missing", kind="setup"), False),
    (WsmanFaultError(code=5, wmi_code=None, reason="Access is denied."), False),
    (CimMethodError(method="X.Y", return_value=32775, meaning="invalid state"), False),
])
def test_connection_failures_are_those_without_any_answer(error, no_answer):
    assert connection_failure(error) is no_answer


def test_a_failure_says_answer_lost_only_for_a_write_the_state_does_not_show():
    lost = WinrmTransportError("connection reset", kind="reset", machine="g1", operation="Invoke SoftwareLicensingService.InstallProductKey")
    unseen = lost_answer_failure("InstallProductKey of the key ...", lost, "check with hyperv.avma.activation_facts")
    assert failure_fields(unseen) == dict(failed=True, msg=str(unseen), answer_lost=True)
    assert str(unseen).startswith("g1: Invoke SoftwareLicensingService.InstallProductKey: InstallProductKey of the key ...: the answer was lost")
    assert "may have been applied all the same: check with hyperv.avma.activation_facts" in str(unseen)
    assert failure_fields(lost) == dict(failed=True, msg=str(lost))
