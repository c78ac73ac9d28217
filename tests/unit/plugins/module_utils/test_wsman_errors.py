# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""WsmanClient failures: every fault sample, pywinrm/requests exception translation, the retry policy, and messages."""

from __future__ import annotations

import http.client
import socket
import ssl

import pytest
import requests
import urllib3
from winrm.exceptions import (
    BasicAuthDisabledError,
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)

from ansible_collections.hyperv.avma.plugins.module_utils import _wsman
from ansible_collections.hyperv.avma.plugins.module_utils._errors import (
    AvmaError,
    WinrmAuthenticationError,
    WinrmOperationTimeoutError,
    WinrmTransportError,
    WsmanFaultError,
    WsmanProtocolError,
)
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WinrmSettings, WsmanClient
from ansible_collections.hyperv.avma.tests.unit.plugins.module_utils.conftest import FakeTransport

OS_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_OperatingSystem"
CIMV2_WILDCARD = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*"
DISK_URI = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/win32_diskdrive"
SLS_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/SoftwareLicensingService"
MACHINE = "g2022dc (127.0.10.11:5985)"
# The fault Windows answers a Pull with once the enumeration context expired (MS-WSMV 0x8033801B).
INVALID_CONTEXT_FAULT = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Header><a:RelatesTo>x</a:RelatesTo></s:Header><s:Body><s:Fault>'
    '<s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>n:InvalidEnumerationContext</s:Value></s:Subcode></s:Code>'
    '<s:Reason><s:Text xml:lang="en-US">The enumeration context supplied in the message is not valid.</s:Text></s:Reason>'
    '<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858779" Machine="g2022dc">'
    '<f:Message>The enumeration context is not valid.</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>')
GET_OS = "Get Win32_OperatingSystem"


def http_error(status: int, body: bytes | str = b""):
    """What pywinrm's Transport raises for an HTTP status other than 200 and 401."""
    return WinRMTransportError("http", status, body.decode() if isinstance(body, bytes) else body)


def connection_error(inner: BaseException) -> requests.exceptions.ConnectionError:
    """requests' wrapping of a urllib3 failure, as HTTPAdapter.send builds it."""
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/wsman", inner))


def refused() -> requests.exceptions.ConnectionError:
    cause = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    cause.__cause__ = ConnectionRefusedError(111, "Connection refused")
    return connection_error(cause)


def reset() -> requests.exceptions.ConnectionError:
    return requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError(
        "Connection aborted.", http.client.RemoteDisconnected("Remote end closed connection without response")))


def invoke(client):
    from ansible_collections.hyperv.avma.plugins.module_utils._cim import build_method_input  # pylint: disable=import-outside-toplevel
    return client.invoke(SLS_URI, "RefreshLicenseStatus", build_method_input(SLS_URI, "RefreshLicenseStatus", {}))


# -- faults -----------------------------------------------------------------------------------------------------------

FAULTS = [
    # sample, error type, code, wmi_code, subcode, reason fragment
    ("fault_internalerror_msft_wmierror_0x803381A6_pywinrm_test.xml", WsmanFaultError, None, 2150859174, "w:InternalError", "Reason text."),
    ("fault_invalid_header_PT-1S_2150858767_response_pypsrp_real.xml", WsmanFaultError, 2150858767, None,
     "a:InvalidMessageInformationHeader", "invalid timeout field in the SOAP header: PT-1S."),
    ("fault_omi_rubywinrm.xml", WsmanFaultError, None, None, "wsman:InternalError", "get-instance: instance name parameter is missing"),
    ("fault_operation_timeout_2150858793_pywinrm_test.xml", WinrmOperationTimeoutError, 2150858793, None, "w:TimedOut",
     "cannot complete the operation within the time specified in OperationTimeout."),
    ("fault_quota_msft_wmierror_2150859173_rubywinrm.xml", WsmanFaultError, None, 2150859173, "w:QuotaLimit",
     "maximum number of concurrent shells for this user has been exceeded"),
    ("fault_schema_validation_2150858817_pywinrm_test.xml", WsmanFaultError, 2150858817, None, "w:SchemaValidationError", "Detail message."),
    ("fault_unexpected_selectors_2150858843_response_pypsrp_real.xml", WsmanFaultError, 2150858843, None, "w:InvalidSelectors",
     "operation on a command identifier that does not exist"),
    ("fault_wql_invalid_class_2150858778_win2008r2_rubywinrm.xml", WsmanFaultError, 2150858778, None, "n:CannotProcessFilter",
     "The specified class does not exist in the given namespace."),
    ("fault_wql_invalid_class_2150858778_wsman_v1_rubywinrm.xml", WsmanFaultError, 2150858778, None, "n:CannotProcessFilter",
     "The specified class does not exist in the given namespace."),
    ("fault_provider_wmi_invalid_class_synthetic.xml", WsmanFaultError, 2150858778, 0x80041010, "n:CannotProcessFilter",
     'Invalid class "Msvm_Nope"'),
]


@pytest.mark.parametrize("sample, error_type, code, wmi_code, subcode, reason", FAULTS)
def test_fault_samples_become_typed_errors(make_client, wire, sample, error_type, code, wmi_code, subcode, reason):
    client, _transport = make_client(http_error(500, wire(sample)), retries=0)
    with pytest.raises(error_type) as caught:
        client.get(OS_URI, {"Name": "x"})
    error = caught.value
    assert error.code == code
    assert error.reason.endswith(reason) or reason in error.reason
    if error_type is WsmanFaultError:
        assert (error.wmi_code, error.fault_subcode, error.http_status) == (wmi_code, subcode, 500)
    assert isinstance(error.__cause__, WinRMTransportError)
    text = str(error)
    assert text.startswith(f"{MACHINE}: {GET_OS}: ") and "\n" not in text


def test_fault_in_an_http_200_body_is_still_a_fault(make_client, wire):
    client, _transport = make_client(wire("fault_unexpected_selectors_2150858843_response_pypsrp_real.xml"))
    with pytest.raises(WsmanFaultError) as caught:
        client.get(OS_URI, {"Name": "x"})
    assert caught.value.code == 2150858843 and caught.value.http_status is None


def test_fault_message_reads_well(make_client, wire):
    client, _transport = make_client(http_error(500, wire("fault_provider_wmi_invalid_class_synthetic.xml")))
    with pytest.raises(WsmanFaultError) as caught:
        client.enumerate(CIMV2_WILDCARD, wql="SELECT Name FROM Msvm_Nope")
    assert str(caught.value) == (f'{MACHINE}: Enumerate Msvm_Nope: WS-Man fault 2150858778 (n:CannotProcessFilter, WMI error 0x80041010): '
                                 'Invalid class "Msvm_Nope"')


def test_fault_for_another_request_is_a_protocol_error(make_client, wire):
    client, _transport = make_client(http_error(500, wire("fault_unexpected_selectors_2150858843_response_pypsrp_real.xml")),
                                     echo_relates_to=False)
    with pytest.raises(WsmanProtocolError, match="does not match the MessageID sent"):
        client.get(OS_URI, {"Name": "x"})


def test_operation_timeout_fault_is_retried_then_reported(make_client, wire, sleeps):
    timeout = http_error(500, wire("fault_operation_timeout_2150858793_pywinrm_test.xml"))
    client, transport = make_client(timeout, timeout, wire("enumerate_win32_operatingsystem_response_synthetic.xml"))
    assert len(client.enumerate(CIMV2_WILDCARD, wql="SELECT * FROM Win32_OperatingSystem")) == 1
    assert len(transport.requests) == 3 and sleeps == [1.0, 2.0]


# -- HTTP errors that are not faults ------------------------------------------------------------------------------------

def test_http_error_without_fault_body(make_client):
    client, transport = make_client(http_error(404, b"<html><h1>Not Found</h1></html>"))
    with pytest.raises(WinrmTransportError) as caught:
        client.get(OS_URI, {"Name": "x"})
    assert (caught.value.kind, caught.value.http_status) == ("http", 404)
    assert str(caught.value) == f"{MACHINE}: {GET_OS}: HTTP 404 from http://127.0.10.11:5985/wsman"
    assert len(transport.requests) == 1  # not transient


def test_http_503_is_retried_with_backoff_then_reported(make_client, sleeps):
    client, transport = make_client(*[http_error(503)] * 4)
    with pytest.raises(WinrmTransportError) as caught:
        client.get(OS_URI, {"Name": "x"})
    assert caught.value.http_status == 503
    assert len(transport.requests) == 4 and client.request_count == 4
    assert sleeps == [1.0, 2.0, 4.0]


def test_each_retry_says_why_and_when_before_it_waits(make_client, sleeps):
    client, _transport = make_client(*[http_error(503)] * 3, retries=2)
    shown = []
    client.progress = shown.append
    with pytest.raises(WinrmTransportError):
        client.get(OS_URI, {"Name": "x"})
    assert shown == [f"{GET_OS}: HTTP 503 from http://127.0.10.11:5985/wsman; trying again in 1 s (attempt 2 of 3)",
                     f"{GET_OS}: HTTP 503 from http://127.0.10.11:5985/wsman; trying again in 2 s (attempt 3 of 3)"]


def test_backoff_is_capped(make_client, sleeps):
    client, _transport = make_client(*[http_error(503)] * 8, retries=7, retry_backoff_sec=5.0)
    with pytest.raises(WinrmTransportError):
        client.get(OS_URI, {"Name": "x"})
    assert sleeps == [5.0, 10.0, 20.0, 30.0, 30.0, 30.0, 30.0]


def test_no_retries_when_disabled(make_client, sleeps):
    client, transport = make_client(http_error(503), retries=0)
    with pytest.raises(WinrmTransportError):
        client.get(OS_URI, {"Name": "x"})
    assert len(transport.requests) == 1 and not sleeps


# -- pywinrm and requests exceptions -----------------------------------------------------------------------------------

def test_rejected_credentials(make_client, sleeps):
    client, transport = make_client(InvalidCredentialsError("the specified credentials were rejected by the server"))
    with pytest.raises(WinrmAuthenticationError) as caught:
        client.enumerate(CIMV2_WILDCARD, wql="SELECT * FROM SoftwareLicensingProduct")
    assert str(caught.value) == (f"{MACHINE}: Enumerate SoftwareLicensingProduct: "
                                 "authentication failed for user 'Administrator' (HTTP 401)")
    assert isinstance(caught.value.__cause__, InvalidCredentialsError)
    assert len(transport.requests) == 1 and not sleeps  # never retried


def test_other_authentication_errors(make_client):
    client, _transport = make_client(BasicAuthDisabledError("basic disabled"))
    with pytest.raises(WinrmAuthenticationError):
        client.get(OS_URI, {"Name": "x"})


def test_pywinrm_operation_timeout_does_not_subclass_winrm_error_but_is_translated(make_client, sleeps):
    assert not issubclass(WinRMOperationTimeoutError, WinRMError)
    client, transport = make_client(*[WinRMOperationTimeoutError()] * 4)
    with pytest.raises(WinrmOperationTimeoutError) as caught:
        client.get(OS_URI, {"Name": "x"})
    assert caught.value.code == 2150858793 and "OperationTimeout PT20S" in str(caught.value)
    assert len(transport.requests) == 4


def test_pywinrm_fault_error_from_a_protocol_transport_is_parsed(make_client, wire):
    body = wire("fault_unexpected_selectors_2150858843_response_pypsrp_real.xml").decode()

    def protocol_fault(request):
        return WSManFaultError(500, "Bad HTTP response", body.replace("uuid:1E4F574C-3C19-46E9-A544-B71D78C95E7B", request.message_id),
                               "reason", "s:Sender", "w:InvalidSelectors", 2150858843, None)
    client, _transport = make_client(protocol_fault)
    with pytest.raises(WsmanFaultError) as caught:
        client.get(OS_URI, {"Name": "x"})
    assert caught.value.code == 2150858843 and "command identifier that does not exist" in caught.value.reason


def test_pywinrm_fault_error_without_parseable_body_uses_its_fields(make_client):
    client, _transport = make_client(WSManFaultError(500, "m", "", "Access is denied.", "s:Sender", "w:AccessDenied", 5, 2147942405))
    with pytest.raises(WsmanFaultError) as caught:
        client.get(OS_URI, {"Name": "x"})
    assert (caught.value.code, caught.value.wmi_code, caught.value.fault_subcode) == (5, 2147942405, "w:AccessDenied")
    assert "WMI error 0x80070005" in str(caught.value)


def test_generic_pywinrm_error_is_a_setup_transport_error(make_client):
    client, _transport = make_client(WinRMError("requested auth method is kerberos, but pykerberos is not installed"))
    with pytest.raises(WinrmTransportError) as caught:
        client.get(OS_URI, {"Name": "x"})
    assert caught.value.kind == "setup" and "pykerberos is not installed" in str(caught.value)


@pytest.mark.parametrize("exception, error_type, kind, attempts", [
    (refused(), WinrmTransportError, "refused", 4),
    (reset(), WinrmTransportError, "reset", 4),
    (requests.exceptions.ConnectTimeout("connect timed out"), WinrmTransportError, "connect_timeout", 4),
    (requests.exceptions.ReadTimeout("read timed out"), WinrmOperationTimeoutError, None, 4),
    (requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, "/wsman", urllib3.exceptions.SSLError(
        ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate")))),
     WinrmTransportError, "tls", 1),
    (connection_error(urllib3.exceptions.NameResolutionError("nohost", None, socket.gaierror(-2, "Name or service not known"))),
     WinrmTransportError, "unreachable", 1),
    (requests.exceptions.TooManyRedirects("too many redirects"), WinrmTransportError, "unreachable", 1),
])
def test_requests_exceptions_and_their_retry_policy_on_get(make_client, sleeps, exception, error_type, kind, attempts):
    client, transport = make_client(*[exception] * attempts)
    with pytest.raises(error_type) as caught:
        client.get(OS_URI, {"Name": "x"})
    assert getattr(caught.value, "kind", None) == kind
    assert caught.value.__cause__ is exception
    assert len(transport.requests) == attempts and len(sleeps) == attempts - 1
    assert str(caught.value).startswith(f"{MACHINE}: {GET_OS}: ") and "\n" not in str(caught.value)


def test_tls_failure_message_names_the_certificate_problem(make_client):
    error = requests.exceptions.SSLError(urllib3.exceptions.MaxRetryError(None, "/wsman", urllib3.exceptions.SSLError(
        ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"))))
    client, _transport = make_client(error)
    with pytest.raises(WinrmTransportError, match="TLS/certificate failure with http://127.0.10.11:5985/wsman: .*self-signed certificate"):
        client.get(OS_URI, {"Name": "x"})


def test_transient_failure_then_success(make_client, wire, sleeps):
    client, transport = make_client(refused(), http_error(503), wire("get_msvm_concretejob_completed_synthetic.xml"))
    client.get(OS_URI, {"Name": "x"})
    assert len(transport.requests) == 3 and sleeps == [1.0, 2.0]


@pytest.mark.parametrize("exception, retried", [
    (refused(), True),
    (requests.exceptions.ConnectTimeout("connect timed out"), True),
    (http_error(503), True),
    (reset(), False),
    (requests.exceptions.ReadTimeout("t"), False),
    (requests.exceptions.ChunkedEncodingError(urllib3.exceptions.ProtocolError(
        "Connection broken", http.client.IncompleteRead(b"<s:Env", 200))), False),
    (WinRMOperationTimeoutError(), False),
])
def test_write_is_repeated_only_when_it_certainly_was_not_carried_out(make_client, wire, sleeps, exception, retried):
    answer = wire("invoke_installproductkey_ok_synthetic.xml").replace(b"InstallProductKey", b"RefreshLicenseStatus")
    client, transport = make_client(exception, answer)
    if retried:
        invoke(client)
        assert len(transport.requests) == 2 and sleeps == [1.0]
    else:
        with pytest.raises(AvmaError):
            invoke(client)
        assert len(transport.requests) == 1 and not sleeps


def test_read_only_methods_are_one_table_of_class_and_method():
    assert {"StdRegProv.EnumKey", "StdRegProv.EnumValues", "StdRegProv.GetStringValue", "StdRegProv.GetDWORDValue",
            "StdRegProv.CheckAccess"} <= _wsman.READ_ONLY_METHODS
    assert not {"StdRegProv.SetStringValue", "StdRegProv.DeleteValue"} & _wsman.READ_ONLY_METHODS


@pytest.mark.parametrize("exception", [reset(), requests.exceptions.ReadTimeout("t")])
def test_read_only_method_is_retried_after_a_lost_answer(make_client, sleeps, exception):
    from ansible_collections.hyperv.avma.plugins.module_utils._cim import build_method_input  # pylint: disable=import-outside-toplevel
    registry_uri = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/default/StdRegProv"
    answer = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">'
              b'<s:Header><a:RelatesTo>x</a:RelatesTo></s:Header><s:Body><p:EnumKey_OUTPUT xmlns:p="' + registry_uri.encode()
              + b'"><p:ReturnValue>0</p:ReturnValue></p:EnumKey_OUTPUT></s:Body></s:Envelope>')
    client, transport = make_client(exception, answer)
    client.invoke(registry_uri, "EnumKey", build_method_input(registry_uri, "EnumKey", {"hDefKey": 2147483650, "sSubKeyName": "SOFTWARE"}))
    assert len(transport.requests) == 2 and sleeps == [1.0]


@pytest.mark.parametrize("exception, outcome", [
    (refused(), "retried"),
    (http_error(503), "retried"),
    (WinRMOperationTimeoutError(), "retried"),
    (reset(), "restarted"),
    (requests.exceptions.ReadTimeout("t"), "restarted"),
    ("invalid_context", "restarted"),
])
def test_pull_is_repeated_or_the_enumeration_restarted(make_client, wire, sleeps, exception, outcome):
    if exception == "invalid_context":
        exception = http_error(500, INVALID_CONTEXT_FAULT)
    first = wire("wmi_enumerate_EPR_win32_diskdrive_response_real.xml")
    last = wire("wmi_pull_response_EndOfSequence_real.xml")
    answers = [first, exception, last] if outcome == "retried" else [first, exception, first, last]
    client, transport = make_client(*answers)
    items = client.enumerate(DISK_URI)
    assert len(items) == 4, "the items of the interrupted pass are not counted twice"
    actions = [request.action.rsplit("/", 1)[-1] for request in transport.requests]
    assert actions == (["Enumerate", "Pull", "Pull"] if outcome == "retried" else ["Enumerate", "Pull", "Enumerate", "Pull"])
    assert client.restarted_enumerations == (1 if outcome == "restarted" else 0)


def test_enumeration_restarts_are_bounded(make_client, wire):
    first = wire("wmi_enumerate_EPR_win32_diskdrive_response_real.xml")
    client, transport = make_client(first, reset(), first, reset(), retries=1)
    with pytest.raises(WinrmTransportError) as caught:
        client.enumerate(DISK_URI)
    assert caught.value.kind == "reset" and len(transport.requests) == 4


def test_retries_stop_at_the_time_bound(make_client, sleeps):
    now = [0.0]

    def clock():
        return now[0]

    def slow_refusal(_request):
        now[0] += 25.0
        return refused()

    client, transport = make_client(*[slow_refusal] * 5, retries=4, retry_max_sec=60.0)
    client.clock = clock
    with pytest.raises(WinrmTransportError):
        client.get(OS_URI, {"Name": "x"})
    # Attempts fail at 25, 50 and 75 s: no retry starts once 60 s have passed.
    assert len(transport.requests) == 3 and sleeps == [1.0, 2.0]


class BuiltTransports(list):
    """A stand-in for winrm.transport.Transport: each one built answers from its own script."""

    def __init__(self, *scripts):
        super().__init__()
        self.scripts = list(scripts)

    def __call__(self, **_kwargs):
        transport = FakeTransport(*self.scripts.pop(0))
        self.append(transport)
        return transport


@pytest.mark.parametrize("failure", [reset(), refused(), requests.exceptions.ReadTimeout("t")])
def test_connection_failure_builds_a_new_authenticated_transport(monkeypatch, settings, wire, sleeps, failure):
    ok = wire("get_msvm_concretejob_completed_synthetic.xml")
    built = BuiltTransports([ok, failure], [ok])
    monkeypatch.setattr(_wsman, "Transport", built)
    client = WsmanClient(settings, sleep=sleeps)
    client.get(OS_URI, {"Name": "x"})
    client.get(OS_URI, {"Name": "x"})
    assert len(built) == 2 and built[0].closed and not built[1].closed
    assert [len(transport.requests) for transport in built] == [2, 1]


def test_http_503_keeps_the_session(monkeypatch, settings, wire, sleeps):
    ok = wire("get_msvm_concretejob_completed_synthetic.xml")
    built = BuiltTransports([http_error(503), ok])
    monkeypatch.setattr(_wsman, "Transport", built)
    WsmanClient(settings, sleep=sleeps).get(OS_URI, {"Name": "x"})
    assert len(built) == 1


@pytest.mark.parametrize("refusal", [InvalidCredentialsError("rejected"), http_error(400)])
def test_refusal_on_an_answered_session_authenticates_again(monkeypatch, settings, wire, sleeps, refusal):
    ok = wire("get_msvm_concretejob_completed_synthetic.xml")
    built = BuiltTransports([ok, refusal], [ok])
    monkeypatch.setattr(_wsman, "Transport", built)
    client = WsmanClient(settings, sleep=sleeps)
    client.get(OS_URI, {"Name": "x"})
    client.get(OS_URI, {"Name": "x"})
    assert len(built) == 2 and built[0].closed


def test_credentials_refused_on_a_new_session_are_not_retried(monkeypatch, settings, sleeps):
    built = BuiltTransports([InvalidCredentialsError("rejected")])
    monkeypatch.setattr(_wsman, "Transport", built)
    with pytest.raises(WinrmAuthenticationError):
        WsmanClient(settings, sleep=sleeps).get(OS_URI, {"Name": "x"})
    assert len(built) == 1 and not sleeps


@pytest.mark.parametrize("exception", [
    requests.exceptions.ChunkedEncodingError(urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead(200 bytes read, 800 more expected)",
                                                                              http.client.IncompleteRead(b"x" * 200, 800))),
    http.client.IncompleteRead(b"x" * 200, 800),
    urllib3.exceptions.ProtocolError("Connection broken", ConnectionResetError(104, "reset")),
])
def test_cut_off_answer_is_a_reset_and_reads_are_retried(make_client, wire, sleeps, exception):
    client, transport = make_client(exception, wire("get_msvm_concretejob_completed_synthetic.xml"))
    client.get(OS_URI, {"Name": "x"})
    assert len(transport.requests) == 2
    client, _transport = make_client(exception, retries=0)
    with pytest.raises(WinrmTransportError) as caught:
        client.get(OS_URI, {"Name": "x"})
    assert caught.value.kind == "reset"


def test_transport_construction_errors_are_translated(monkeypatch, settings):
    def rejecting(**_kwargs):
        raise InvalidCredentialsError("auth method ntlm requires a password")

    monkeypatch.setattr(_wsman, "Transport", rejecting)
    client = WsmanClient(settings)
    with pytest.raises(WinrmAuthenticationError, match="authentication failed for user 'Administrator' .auth method ntlm requires a password.") as caught:
        client.get(OS_URI, {"Name": "x"})
    assert client.request_count == 0 and isinstance(caught.value.__cause__, InvalidCredentialsError)

    def unusable(**_kwargs):
        raise WinRMError("invalid message_encryption arg")

    monkeypatch.setattr(_wsman, "Transport", unusable)
    with pytest.raises(WinrmTransportError, match="invalid message_encryption arg") as caught:
        WsmanClient(settings).get(OS_URI, {"Name": "x"})
    assert caught.value.kind == "setup"


def test_unexpected_exception_types_are_not_swallowed(make_client):
    client, _transport = make_client(KeyError("bug"))
    with pytest.raises(KeyError):
        client.get(OS_URI, {"Name": "x"})


# -- no password in any message ----------------------------------------------------------------------------------------

def test_password_and_proxy_credentials_are_scrubbed(make_client, password):
    client, _transport = make_client(
        WinRMError(f"kerberos said: bad password {password}"),
        requests.exceptions.ProxyError(f"Cannot connect to proxy http://bob:{password}@proxy:3128"),
        http_error(500, f"""<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault>
            <s:Reason><s:Text>echo {password}</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"""),
        retries=0, proxy=f"http://bob:{password}@proxy:3128")
    messages = []
    for _attempt in range(3):
        with pytest.raises(AvmaError) as caught:
            client.get(OS_URI, {"Name": "x"})
        messages.append(str(caught.value))
    assert all(password not in message and "\n" not in message for message in messages), messages
    assert "********" in messages[0] and "//***@proxy" in messages[1] and "echo ********" in messages[2]


def test_no_password_in_any_error_of_the_samples(make_client, wire, password):
    answers = [http_error(500, wire(sample)) for sample, *_rest in FAULTS]
    answers += [InvalidCredentialsError("x"), refused(), reset(), requests.exceptions.ReadTimeout("t")]
    client, _transport = make_client(*answers, retries=0)
    for _answer in answers:
        with pytest.raises(AvmaError) as caught:
            client.get(OS_URI, {"Name": "x"})
        assert password not in str(caught.value) and password not in repr(caught.value.__dict__)


def test_settings_errors_name_the_machine():
    with pytest.raises(AvmaError) as caught:
        WinrmSettings(host="127.0.10.11", user="u", password="secret-value", label="g2022dc", read_timeout_sec=5)
    assert str(caught.value).startswith("g2022dc (127.0.10.11:5985): invalid WinRM settings: ")
    assert "secret-value" not in str(caught.value)


def test_kerberos_exchange_error_is_an_authentication_failure_that_says_what_to_do(make_client):
    from winrm.vendor.requests_kerberos.exceptions import KerberosExchangeError  # pylint: disable=import-outside-toplevel

    raw = ("authGSSClientStep() failed: (('Unspecified GSS failure.  Minor code may provide more information', 851968), "
           "('Server HTTP/g2022dc.corp.test@CORP.TEST not found in Kerberos database', -1765328377))")
    client, _transport = make_client(KerberosExchangeError(raw), transport="kerberos", user="ops@CORP.TEST", password=None,
                                     kerberos_hostname_override="g2022dc.corp.test")
    with pytest.raises(WinrmAuthenticationError) as caught:
        client.enumerate(CIMV2_WILDCARD, wql="SELECT * FROM SoftwareLicensingProduct")
    assert str(caught.value).startswith(f"{MACHINE}: Enumerate SoftwareLicensingProduct: authentication failed for user "
                                        "'ops@CORP.TEST' (the KDC has no service principal HTTP/g2022dc.corp.test: ")


def test_refused_client_certificate_is_an_authentication_failure(make_client):
    error = requests.exceptions.SSLError("[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca (_ssl.c:2580)")
    client, _transport = make_client(error, transport="certificate", scheme="https", port=5986, user=None, password=None,
                                     cert_pem="/c.pem", cert_key_pem="/k.pem")
    with pytest.raises(WinrmAuthenticationError, match="the server does not trust the client certificate"):
        client.enumerate(CIMV2_WILDCARD, wql="SELECT * FROM SoftwareLicensingProduct")


@pytest.mark.needs_modules("requests_credssp")
def test_credssp_exchange_failure_is_an_authentication_failure_without_the_password(make_client):
    from requests_credssp.exceptions import AuthenticationException  # pylint: disable=import-outside-toplevel

    client, _transport = make_client(AuthenticationException("Server did not respond with a CredSSP token (Pa55-w0rd!secret)"),
                                     transport="credssp", scheme="https", port=5986)
    with pytest.raises(WinrmAuthenticationError) as caught:
        client.enumerate(CIMV2_WILDCARD, wql="SELECT * FROM SoftwareLicensingProduct")
    assert "CredSSP exchange failed: Server did not respond with a CredSSP token (********)" in str(caught.value)
    assert "Enable-WSManCredSSP -Role Server" in str(caught.value)
