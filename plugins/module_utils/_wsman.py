# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# FOR INTERNAL COLLECTION USE ONLY: the contents of this file may change in any release.
#
# The WS-Management client: Identify, Enumerate/Pull/Release (WQL), Get and Invoke over pywinrm's HTTP transport
# (auth, message encryption, TLS). This is the only file that imports winrm. Every verb goes through
# WsmanClient._request(), which builds the header, sends, checks RelatesTo, turns faults and pywinrm/requests
# exceptions into the typed errors of _errors.py, and retries transient failures of idempotent verbs.

import http.client
import re
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from ansible_collections.hyperv.avma.plugins.module_utils._capture import CaptureSession
from ansible_collections.hyperv.avma.plugins.module_utils._errors import (
    AvmaError,
    AvmaValueError,
    WinrmAuthenticationError,
    WinrmOperationTimeoutError,
    WinrmTransportError,
    WsmanFaultError,
    WsmanProtocolError,
)
from ansible_collections.hyperv.avma.plugins.module_utils._kerberos import (
    KINIT_MODES,
    KinitError,
    certificate_not_trusted,
    kerberos_failure,
    kinit,
    refused_401,
    uses_kinit,
)
from ansible_collections.hyperv.avma.plugins.module_utils._xml import (
    XML_NAMESPACE,
    Element,
    child,
    children,
    local_name,
    parse_xml,
    qname,
    serialize,
)

try:
    import requests
    from urllib3.exceptions import ProtocolError as urllib3_ProtocolError
    from winrm.exceptions import (
        AuthenticationError,
        WinRMError,
        WinRMOperationTimeoutError,
        WinRMTransportError,
        WSManFaultError,
    )
    from winrm.transport import Transport
except ImportError:
    HAS_WINRM = False
    WINRM_IMPORT_ERROR: str | None = traceback.format_exc()  # for the edges: fail_json(exception=WINRM_IMPORT_ERROR)
else:
    HAS_WINRM = True
    WINRM_IMPORT_ERROR = None

# requests-credssp raises exceptions of its own (not requests' or pywinrm's) when the CredSSP exchange fails.
_CREDSSP_ERRORS: tuple[type[BaseException], ...] = ()
try:
    from requests_credssp.exceptions import AuthenticationException as _CredSSPAuthenticationError
    from requests_credssp.exceptions import NTStatusException as _CredSSPStatusError
except ImportError:
    pass
else:
    _CREDSSP_ERRORS = (_CredSSPAuthenticationError, _CredSSPStatusError)

# Namespaces, under the prefixes Windows itself uses on the wire; the URIs are those DSP0226 (WS-Management) and
# MS-WSMV (Microsoft's extensions) define.
NAMESPACES = {
    "s": "http://www.w3.org/2003/05/soap-envelope",                        # SOAP 1.2 envelope and faults
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",               # WS-Addressing: To, Action, MessageID, RelatesTo, EPRs
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",              # WS-Enumeration: Enumerate, Pull, Release
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",                 # WS-Transfer: Get
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",                 # DSP0226 WS-Management headers and extensions
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",            # MS-WSMV extensions (DataLocale)
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",           # MS-WSMV WSManFault detail
    "wsmid": "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd",  # DSP0226 Identify
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",                    # xsi:nil
    "cim": "http://schemas.dmtf.org/wbem/wscim/1/common",                  # DSP0230 WS-CIM: cim:Datetime, cim:Interval
}

# WS-Addressing anonymous role: "reply on this HTTP connection".
ANONYMOUS_ADDRESS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
# MS-WSMV filter dialect for WMI Query Language.
WQL_DIALECT = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
# The MS-WSMV WSManFault code of ERROR_WSMAN_OPERATION_TIMEDOUT (0x80338029).
FAULT_CODE_OPERATION_TIMEOUT = 2150858793

DEFAULT_MAX_ELEMENTS = 32000


class Action:
    """wsa:Action URIs (WS-Transfer, WS-Enumeration; an Invoke's action is the resource URI plus "/<Method>",
    MS-WSMV 4.1.4)."""

    GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
    ENUMERATE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
    PULL = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
    RELEASE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"

    @staticmethod
    def invoke(resource_uri: str, method: str) -> str:
        return f"{resource_uri}/{method}"


TRANSPORTS = ("ntlm", "kerberos", "credssp", "basic", "certificate")
_PASSWORD_TRANSPORTS = ("ntlm", "credssp", "basic")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_WQL_FROM = re.compile(r"\bFROM\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(//)[^/@\s]+@")
_MAX_RETRY_BACKOFF_SEC = 30.0
# A server that keeps answering Pull with neither items nor EndOfSequence would loop forever.
_MAX_EMPTY_PULLS = 10

# What a failed attempt tells about whether the request reached the server (for the retry policy below).
_UNSENT = "unsent"                    # connection refused / connect timeout: the request never left
_NO_RESPONSE = "no_response"          # reset or read timeout: the server may have acted on the request
_BUSY = "busy"                        # HTTP 503: the server refused to process it
_OPERATION_TIMEOUT = "operation_timeout"  # w:TimedOut fault: the server says it finished nothing in time
# HTTP 400/401 on a session that was authenticated: its connection was replaced (idle keep-alive closed) and the
# server refused the request unprocessed.
_STALE_SESSION = "stale_session"

# Reads (Identify, Get, Enumerate, Release and read-only methods) change nothing: repeat them whatever happened.
_READ_RETRY = frozenset({_UNSENT, _NO_RESPONSE, _BUSY, _OPERATION_TIMEOUT, _STALE_SESSION})
# A Pull whose answer was lost may have moved the enumeration on: it is not repeated, the enumeration is restarted
# from the start instead (see enumerate). A TimedOut fault keeps the context valid (DSP0226 Pull): that one is repeated.
_PULL_RETRY = frozenset({_UNSENT, _BUSY, _OPERATION_TIMEOUT, _STALE_SESSION})
# A write is repeated only when it certainly was not carried out: never sent, or refused with 503. After a reset or a
# read timeout it may have been applied; the caller must read the state again (see _errors.answer_lost).
_WRITE_RETRY = frozenset({_UNSENT, _BUSY, _STALE_SESSION})

# The methods the collection invokes that change nothing, as "<Class>.<Method>": retried like reads. Every other
# method is a write.
READ_ONLY_METHODS = frozenset({
    "StdRegProv.CheckAccess",
    "StdRegProv.EnumKey",
    "StdRegProv.EnumValues",
    "StdRegProv.GetBinaryValue",
    "StdRegProv.GetDWORDValue",
    "StdRegProv.GetExpandedStringValue",
    "StdRegProv.GetMultiStringValue",
    "StdRegProv.GetQWORDValue",
    "StdRegProv.GetStringValue",
})

# MS-WSMV ERROR_WSMAN_INVALID_ENUMERATION_CONTEXT (0x8033801B): the context expired, was released or is unknown.
FAULT_CODE_INVALID_ENUMERATION_CONTEXT = 2150858779
# Failures after which a connection cannot be trusted to carry the next request: the transport (HTTP session and
# its NTLM/Kerberos/CredSSP security context) is rebuilt before the retry.
_CONNECTION_KINDS = frozenset({"refused", "connect_timeout", "reset", "unreachable", "tls"})


@dataclass(frozen=True)
class WinrmSettings:
    """Where and how to reach one WinRM endpoint. Validated on creation (AvmaValueError)."""

    host: str
    port: int = 5985
    scheme: str = "http"
    path: str = "/wsman"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    transport: str = "ntlm"
    server_cert_validation: str = "validate"
    ca_trust_path: str | None = None
    message_encryption: str = "auto"
    operation_timeout_sec: int = 20
    read_timeout_sec: int = 30
    cert_pem: str | None = None
    cert_key_pem: str | None = None
    kerberos_delegation: bool = False
    kerberos_hostname_override: str | None = None
    kinit_mode: str | None = None
    kinit_cmd: str = "kinit"
    kinit_args: str | None = None
    kinit_env_vars: tuple[str, ...] = ()
    credssp_disable_tlsv1_2: bool = False
    proxy: str | None = field(default=None, repr=False)
    locale: str = "en-US"
    retries: int = 3
    retry_backoff_sec: float = 1.0
    retry_max_sec: float = 120.0
    max_envelope_size: int = 512000
    label: str | None = None
    capture_dir: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if not self.host or any(char in self.host for char in "/?#@ "):
            problems.append(f"host must be a host name or address, got {self.host!r}")
        if not 0 < self.port < 65536:
            problems.append(f"port must be 1-65535, got {self.port}")
        if self.scheme not in ("http", "https"):
            problems.append(f"scheme must be http or https, got {self.scheme!r}")
        if not self.path.startswith("/"):
            problems.append(f"path must start with '/', got {self.path!r}")
        if self.transport not in TRANSPORTS:
            problems.append(f"transport must be one of {', '.join(TRANSPORTS)}, got {self.transport!r}")
        if self.server_cert_validation not in ("validate", "ignore"):
            problems.append(f"server_cert_validation must be validate or ignore, got {self.server_cert_validation!r}")
        if self.message_encryption not in ("auto", "always", "never"):
            problems.append(f"message_encryption must be auto, always or never, got {self.message_encryption!r}")
        if self.message_encryption == "always" and self.transport in ("basic", "certificate"):
            problems.append(f"message_encryption=always needs ntlm, kerberos or credssp, not {self.transport}")
        if self.operation_timeout_sec < 1:
            problems.append(f"operation_timeout_sec must be at least 1, got {self.operation_timeout_sec}")
        if self.read_timeout_sec <= self.operation_timeout_sec:
            problems.append(f"read_timeout_sec ({self.read_timeout_sec}) must be greater than operation_timeout_sec "
                            f"({self.operation_timeout_sec}) so that the server can answer with a timeout fault first")
        if self.retries < 0 or self.retry_backoff_sec < 0 or self.retry_max_sec < 0:
            problems.append("retries, retry_backoff_sec and retry_max_sec must not be negative")
        if self.max_envelope_size < 8192:
            problems.append(f"max_envelope_size must be at least 8192, got {self.max_envelope_size}")
        if not self.locale:
            problems.append("locale must not be empty")
        if self.transport in _PASSWORD_TRANSPORTS and (not self.user or self.password is None):
            problems.append(f"transport {self.transport} needs user and password")
        if self.kinit_mode is not None and self.kinit_mode not in KINIT_MODES:
            problems.append(f"kinit_mode must be managed or manual, got {self.kinit_mode!r}")
        if self.transport == "kerberos" and self.kinit_mode == "managed" and not (self.user and self.password):
            problems.append("kinit_mode managed needs the user (user@REALM) and password to run kinit with")
        if self.transport == "certificate":
            if not (self.cert_pem and self.cert_key_pem):
                problems.append("transport certificate needs cert_pem and cert_key_pem")
            if self.scheme != "https":
                problems.append("transport certificate needs scheme https")
        if problems:
            raise AvmaValueError("invalid WinRM settings: " + "; ".join(problems), machine=self.display_name)

    @property
    def _url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://{self._url_host}:{self.port}{self.path}"

    @property
    def display_name(self) -> str:
        """``label (host:port)``; just ``host:port`` when there is no label distinct from the host."""
        address = f"{self._url_host}:{self.port}"
        return f"{self.label} ({address})" if self.label and self.label != self.host else address


def _target_name(resource_uri: str, wql: str | None = None) -> str:
    """The class an operation is about, for messages: from the WQL FROM clause, else the resource URI's last segment."""
    match = _WQL_FROM.search(wql) if wql else None
    return match.group(1) if match else resource_uri.rstrip("/").rsplit("/", 1)[-1]


def _element(namespace_prefix: str, local: str, text: str | None = None, attrib: dict[str, str] | None = None) -> Element:
    element = Element(qname(NAMESPACES[namespace_prefix], local), attrib or {})
    element.text = text
    return element


def _sub(parent: Element, namespace_prefix: str, local: str, text: str | None = None, attrib: dict[str, str] | None = None) -> Element:
    element = _element(namespace_prefix, local, text, attrib)
    parent.append(element)
    return element


def _scalar_text(value: Any, what: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    raise AvmaValueError(f"{what} must be a string, integer or boolean, got {type(value).__name__}")


def _retry_class(error: AvmaError) -> str | None:
    if isinstance(error, WinrmOperationTimeoutError):
        return _OPERATION_TIMEOUT if error.code is not None else _NO_RESPONSE
    if isinstance(error, WinrmTransportError):
        if error.http_status == 503:
            return _BUSY
        return {"refused": _UNSENT, "connect_timeout": _UNSENT, "reset": _NO_RESPONSE}.get(error.kind)
    return None


def _connection_failed(error: AvmaError) -> bool:
    """True when the connection the request used is gone or unusable: refused, reset, unreachable, TLS failure, or no
    HTTP answer within the read timeout."""
    if isinstance(error, WinrmOperationTimeoutError):
        return error.code is None
    return isinstance(error, WinrmTransportError) and error.kind in _CONNECTION_KINDS


def _context_invalid(error: AvmaError) -> bool:
    """The server no longer knows the enumeration context (expired while the client was busy, or lost)."""
    return isinstance(error, WsmanFaultError) and (
        error.code == FAULT_CODE_INVALID_ENUMERATION_CONTEXT or (error.fault_subcode or "").rpartition(":")[2] == "InvalidEnumerationContext")


class _RestartEnumeration(Exception):
    """Internal: a Pull failed in a way that only a new enumeration can recover from."""

    def __init__(self, cause: AvmaError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """The exceptions requests/urllib3 wrap inside each other (args, reason, cause, context), outermost first."""
    seen: list[BaseException] = []
    pending: list[Any] = [exc]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or any(current is known for known in seen):
            continue
        seen.append(current)
        pending.extend(current.args)
        pending.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
    return seen


def _flat_text(element: Element | None) -> str:
    """An element's own text on one line ("" for a missing element)."""
    return " ".join((element.text or "").split()) if element is not None else ""


def _no_progress(_message: str) -> None:
    """Where nobody shows progress (a module running on its host cannot talk before it returns)."""


class WsmanClient:
    """A WS-Management client for one endpoint.

    ``transport`` is anything with ``send_message(bytes) -> bytes`` (pywinrm's ``winrm.transport.Transport`` duck
    type); by default one is built from ``settings`` on the first request, and built again after a connection-level
    failure. ``sleep`` and ``clock`` pace the retries; ``progress`` is told, in one line, what each wait is for (the
    action plugins show it at -v). ``request_count`` counts WS-Man requests handed to the
    transport (retries included, auth legs not); ``retried_requests`` and ``restarted_enumerations`` count retries;
    ``answered`` says whether the machine answered anything at all (see _errors.connection_failure).
    """

    def __init__(self, settings: WinrmSettings, *, transport: Any = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, progress: Callable[[str], None] | None = None) -> None:
        if not HAS_WINRM:
            cause = (WINRM_IMPORT_ERROR or "").strip().splitlines()[-1:]
            raise AvmaError(f"pywinrm is required on the controller (pip install pywinrm): {''.join(cause)}",
                            machine=settings.display_name)
        self.settings = settings
        self.sleep = sleep
        self.clock = clock
        self.progress = progress or _no_progress
        self.request_count = 0
        self.retried_requests = 0
        self.restarted_enumerations = 0
        self.answered = False            # whether the machine gave any WS-Man or HTTP answer (401 aside)
        self._transport = transport
        self._owns_transport = transport is None
        self._session_answered = False   # whether the current transport's session got an answer from the server
        self.capture = CaptureSession(settings.capture_dir, settings) if settings.capture_dir else None

    @property
    def display_name(self) -> str:
        return self.settings.display_name

    def __enter__(self) -> WsmanClient:
        return self

    def __exit__(self, *_exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session of a transport this client built (a transport passed in belongs to the caller)."""
        if self._owns_transport and self._transport is not None:
            self._transport.close_session()
            self._transport = None
        if self.capture is not None:
            self.capture.close()

    # ----------------------------------------------------------------------------------------------------------
    # Verbs

    def identify(self) -> dict[str, Any]:
        """WS-Man Identify. Returns ``protocol_version``, ``product_vendor``, ``product_version`` and
        ``security_profiles`` (list of URIs)."""
        body = self._request("Identify", None, None, body=_element("wsmid", "Identify"), retry_on=_READ_RETRY)
        response = self._required_child(body, "IdentifyResponse", "wsmid", "Identify")
        profiles = child(response, "SecurityProfiles", [NAMESPACES["wsmid"]])
        return {
            "protocol_version": _flat_text(child(response, "ProtocolVersion", [NAMESPACES["wsmid"]])),
            "product_vendor": _flat_text(child(response, "ProductVendor", [NAMESPACES["wsmid"]])),
            "product_version": _flat_text(child(response, "ProductVersion", [NAMESPACES["wsmid"]])),
            "security_profiles": [_flat_text(item) for item in children(profiles, "SecurityProfileName")] if profiles is not None else [],
        }

    def enumerate(self, resource_uri: str, *, wql: str | None = None, max_elements: int = DEFAULT_MAX_ELEMENTS,
                  enumeration_mode: str | None = None, limit: int | None = None,
                  options: dict[str, Any] | None = None, transform: Callable[[Element], Any] | None = None) -> list[Any]:
        """Enumerate (with OptimizeEnumeration and MaxElements) then Pull until EndOfSequence.

        Returns the item elements (the children of ``w:Items``/``n:Items``; ``w:Item`` wrappers in
        ``EnumerateObjectAndEPR`` mode), or what ``transform`` makes of each: it is applied to a page's items as the
        page arrives, so that the element trees of a long enumeration are not all held at once. An answer that fits
        in one envelope costs one request. With ``limit``, stops once that many items arrived and Releases the
        enumeration if the server still holds it.

        When a Pull's answer is lost (reset, read timeout) or the server no longer knows the context (expired,
        2150858779), the enumeration starts again from the beginning, at most ``settings.retries`` times and within
        ``settings.retry_max_sec``. The items of the interrupted pass are dropped, not merged: the new pass returns
        every item once, so none is counted twice, and an instance deleted in between does not come back.
        """
        target = _target_name(resource_uri, wql)
        label = f"Enumerate {target}"
        if max_elements < 1 or (limit is not None and limit < 1):
            raise AvmaValueError(f"max_elements ({max_elements}) and limit ({limit}) must be at least 1",
                                 machine=self.display_name, operation=label)
        restarts = 0
        started = self.clock()
        while True:
            try:
                items = self._enumerate_once(resource_uri, target, wql, max_elements, enumeration_mode, limit, options, transform)
                return items if limit is None else items[:limit]
            except _RestartEnumeration as restart:
                if restarts >= self.settings.retries or self.clock() - started > self.settings.retry_max_sec:
                    raise restart.cause from restart.cause.__cause__
                restarts += 1
                self.restarted_enumerations += 1

    def _enumerate_once(self, resource_uri: str, target: str, wql: str | None, max_elements: int, enumeration_mode: str | None,
                        limit: int | None, options: dict[str, Any] | None, transform: Callable[[Element], Any] | None) -> list[Any]:
        """One Enumerate and its Pulls; raises _RestartEnumeration when only a new enumeration can go on."""
        label = f"Enumerate {target}"
        batch_size = min(max_elements, limit) if limit is not None else max_elements
        request = _element("n", "Enumerate")
        _sub(request, "w", "OptimizeEnumeration")
        _sub(request, "w", "MaxElements", str(batch_size))
        if enumeration_mode:
            _sub(request, "w", "EnumerationMode", enumeration_mode)
        if wql is not None:
            _sub(request, "w", "Filter", wql, {"Dialect": WQL_DIALECT})
        body = self._request(label, Action.ENUMERATE, resource_uri, body=request, options=options, retry_on=_READ_RETRY)
        items, context, finished = self._read_batch(self._required_child(body, "EnumerateResponse", "n", label), label)
        if transform is not None:
            items = [transform(item) for item in items]

        empty_pulls = 0
        while not finished and (limit is None or len(items) < limit):
            label = f"Pull {target}"
            request = _element("n", "Pull")
            _sub(request, "n", "EnumerationContext", context)
            _sub(request, "n", "MaxElements", str(batch_size if limit is None else min(batch_size, limit - len(items))))
            try:
                body = self._request(label, Action.PULL, resource_uri, body=request, options=options, retry_on=_PULL_RETRY)
            except (WinrmTransportError, WinrmOperationTimeoutError, WsmanFaultError) as error:
                if _retry_class(error) == _NO_RESPONSE or _context_invalid(error):
                    raise _RestartEnumeration(error) from error
                raise
            batch, context, finished = self._read_batch(self._required_child(body, "PullResponse", "n", label), label)
            empty_pulls = 0 if batch else empty_pulls + 1
            if empty_pulls >= _MAX_EMPTY_PULLS:
                raise WsmanProtocolError(f"{empty_pulls} Pull responses in a row carried no items and no EndOfSequence",
                                         machine=self.display_name, operation=label)
            items.extend(batch if transform is None else (transform(item) for item in batch))

        if not finished:
            request = _element("n", "Release")
            _sub(request, "n", "EnumerationContext", context)
            self._request(f"Release {target}", Action.RELEASE, resource_uri, body=request, retry_on=_READ_RETRY)
        return items

    def get(self, resource_uri: str, selectors: dict[str, Any], *, options: dict[str, Any] | None = None) -> Element:
        """WS-Transfer Get of one instance by its key selectors; returns the instance element."""
        label = f"Get {_target_name(resource_uri)}"
        body = self._request(label, Action.GET, resource_uri, selectors=selectors, options=options, retry_on=_READ_RETRY)
        instance = next(iter(body), None)
        if instance is None:
            raise WsmanProtocolError("GetResponse body is empty", machine=self.display_name, operation=label)
        return instance

    def invoke(self, resource_uri: str, method: str, input_element: Element, selectors: dict[str, Any] | None = None, *,
               options: dict[str, Any] | None = None) -> Element:
        """Invoke ``method`` (a custom action) with the ``<Method>_INPUT`` element; returns the ``<Method>_OUTPUT``
        element. A method of READ_ONLY_METHODS is retried like a read; any other is a write, repeated only when it
        certainly was not carried out (never sent, HTTP 503): a write may have acted even when its answer was lost."""
        target = _target_name(resource_uri)
        label = f"Invoke {target}.{method}"
        if not _IDENTIFIER.match(method):
            raise AvmaValueError(f"invalid method name {method!r}", machine=self.display_name, operation=label)
        body = self._request(label, Action.invoke(resource_uri, method), resource_uri, body=input_element, selectors=selectors,
                             options=options, retry_on=_READ_RETRY if f"{target}.{method}" in READ_ONLY_METHODS else _WRITE_RETRY)
        output = next(iter(body), None)
        if output is None or local_name(output.tag) != f"{method}_OUTPUT":
            found = local_name(output.tag) if output is not None else "an empty body"
            raise WsmanProtocolError(f"expected {method}_OUTPUT, got {found}", machine=self.display_name, operation=label)
        return output

    # ----------------------------------------------------------------------------------------------------------
    # The one request path

    def _request(self, label: str, action: str | None, resource_uri: str | None, *, body: Element | None = None,
                 selectors: dict[str, Any] | None = None, options: dict[str, Any] | None = None,
                 retry_on: frozenset[str]) -> Element:
        """Send one WS-Man request (``action`` None = Identify, which carries no addressing headers) and return the
        checked ``s:Body``. Failures in ``retry_on`` are retried, with exponential backoff, at most
        ``settings.retries`` times and while ``settings.retry_max_sec`` have not passed since the first attempt."""
        attempt = 0
        started = self.clock()
        while True:
            message_id = f"uuid:{str(uuid.uuid4()).upper()}"
            try:
                payload = serialize(self._envelope(action, resource_uri, message_id, body, selectors, options), NAMESPACES)
            except AvmaValueError as error:
                error.add_context(machine=self.display_name, operation=label)
                raise
            try:
                return self._attempt(label, payload, message_id, check_relates_to=action is not None)
            except (WinrmTransportError, WinrmOperationTimeoutError, WinrmAuthenticationError) as error:
                retry_class = self._stale_session_class(error) or _retry_class(error)
                if _connection_failed(error) or retry_class == _STALE_SESSION:
                    self._drop_transport()
                backoff = min(self.settings.retry_backoff_sec * 2 ** attempt, _MAX_RETRY_BACKOFF_SEC)
                if (attempt >= self.settings.retries or retry_class not in retry_on
                        or self.clock() - started + backoff > self.settings.retry_max_sec):
                    raise
                self.progress(f"{label}: {error.message}; trying again in {backoff:g} s "
                              f"(attempt {attempt + 2} of {self.settings.retries + 1})")
            self.sleep(backoff)
            attempt += 1
            self.retried_requests += 1

    def _stale_session_class(self, error: AvmaError) -> str | None:
        """_STALE_SESSION for an HTTP 400 or 401 on a session the server had already answered: the connection that
        carried the security context was replaced under it, and the server refused the request without processing
        it. A fresh transport authenticates again; credentials that are really wrong fail on that attempt, as the
        new session has not been answered yet."""
        if not (self._owns_transport and self._session_answered):
            return None
        if isinstance(error, WinrmAuthenticationError) or (isinstance(error, WinrmTransportError) and error.http_status == 400):
            return _STALE_SESSION
        return None

    def _drop_transport(self) -> None:
        """Forget a transport this client built, so the next request opens a new connection and authenticates it
        afresh: an NTLM, Kerberos or CredSSP security context belongs to the connection that set it up, and a message
        sealed with it is refused on any other (HTTP 400). A transport passed in belongs to the caller and stays."""
        self._session_answered = False
        if self._owns_transport and self._transport is not None:
            transport, self._transport = self._transport, None
            try:
                transport.close_session()
            except Exception:  # pylint: disable=broad-exception-caught
                pass  # the connection is already broken; closing it is only tidying up

    def _envelope(self, action: str | None, resource_uri: str | None, message_id: str, body: Element | None,
                  selectors: dict[str, Any] | None, options: dict[str, Any] | None) -> Element:
        envelope = _element("s", "Envelope")
        header = _sub(envelope, "s", "Header")
        must_understand = {qname(NAMESPACES["s"], "mustUnderstand"): "true"}
        may_ignore = {qname(NAMESPACES["s"], "mustUnderstand"): "false"}
        if action is not None:
            _sub(header, "a", "To", self.settings.endpoint)
            _sub(header, "w", "ResourceURI", resource_uri, must_understand)
            reply_to = _sub(header, "a", "ReplyTo")
            _sub(reply_to, "a", "Address", ANONYMOUS_ADDRESS, must_understand)
            _sub(header, "a", "Action", action, must_understand)
            _sub(header, "w", "MaxEnvelopeSize", str(self.settings.max_envelope_size), must_understand)
            _sub(header, "a", "MessageID", message_id)
            locale = {qname(XML_NAMESPACE, "lang"): self.settings.locale}
            _sub(header, "w", "Locale", None, {**locale, **may_ignore})
            _sub(header, "p", "DataLocale", None, {**locale, **may_ignore})
            _sub(header, "w", "OperationTimeout", f"PT{self.settings.operation_timeout_sec}S")
            if selectors:
                selector_set = _sub(header, "w", "SelectorSet")
                for name, value in selectors.items():
                    _sub(selector_set, "w", "Selector", _scalar_text(value, f"selector {name}"), {"Name": name})
            if options:
                option_set = _sub(header, "w", "OptionSet")
                for name, value in options.items():
                    _sub(option_set, "w", "Option", _scalar_text(value, f"option {name}"), {"Name": name})
        request_body = _sub(envelope, "s", "Body")
        if body is not None:
            request_body.append(body)
        return envelope

    def _get_transport(self, label: str) -> Any:
        if self._transport is None:
            settings = self.settings
            self._kinit_if_managed(label)
            optional = {key: value for key, value in (("ca_trust_path", settings.ca_trust_path), ("proxy", settings.proxy)) if value}
            try:
                self._transport = Transport(
                    endpoint=settings.endpoint, username=settings.user, password=settings.password, service="HTTP",
                    cert_pem=settings.cert_pem, cert_key_pem=settings.cert_key_pem, read_timeout_sec=settings.read_timeout_sec,
                    server_cert_validation=settings.server_cert_validation, kerberos_delegation=settings.kerberos_delegation,
                    kerberos_hostname_override=settings.kerberos_hostname_override, auth_method=settings.transport,
                    message_encryption=settings.message_encryption, credssp_disable_tlsv1_2=settings.credssp_disable_tlsv1_2,
                    **optional)
            except AuthenticationError as exc:
                raise WinrmAuthenticationError(self._scrub(str(exc)), user=settings.user, machine=self.display_name, operation=label) from exc
            except WinRMError as exc:
                raise WinrmTransportError(self._scrub(str(exc)), kind="setup", machine=self.display_name, operation=label) from exc
            if self.capture is not None:
                self._transport = self.capture.wrap(self._transport)
        return self._transport

    def _attempt(self, label: str, payload: bytes, message_id: str, *, check_relates_to: bool) -> Element:
        """One exchange: send, translate every failure into a typed error, check the answer at one gate."""
        transport = self._get_transport(label)
        machine = self.display_name
        self.request_count += 1
        try:
            raw = transport.send_message(payload)
        except WinRMTransportError as exc:
            # pywinrm raises this for any HTTP status but 200/401; the body may still be a SOAP fault (HTTP 500).
            self._session_answered = self._session_answered or exc.code not in (400, 401)
            self.answered = self.answered or exc.code != 401
            envelope = self._parse_if_envelope(exc.response_text)
            fault = self._fault_of(envelope)
            if fault is None:
                raise WinrmTransportError(f"HTTP {exc.code} from {self.settings.endpoint}", kind="http", http_status=exc.code,
                                          machine=machine, operation=label) from exc
            self._check_relates_to(envelope, message_id, label, required=False)
            raise self._fault_error(fault, label, http_status=exc.code) from exc
        except WSManFaultError as exc:
            # Raised when the transport given is a pywinrm Protocol, which parses faults itself.
            self.answered = True
            envelope = self._parse_if_envelope(exc.response)
            fault = self._fault_of(envelope)
            if fault is not None:
                self._check_relates_to(envelope, message_id, label, required=False)
                raise self._fault_error(fault, label, http_status=exc.code) from exc
            raise WsmanFaultError(code=exc.wsman_fault_code, wmi_code=exc.wmierror_code, reason=self._scrub(exc.reason),
                                  fault_subcode=exc.fault_subcode, http_status=exc.code, machine=machine, operation=label) from exc
        except WinRMOperationTimeoutError as exc:
            raise WinrmOperationTimeoutError(
                f"the server did not complete the operation within OperationTimeout PT{self.settings.operation_timeout_sec}S",
                code=FAULT_CODE_OPERATION_TIMEOUT, machine=machine, operation=label) from exc
        except AuthenticationError as exc:
            # Once the transport exists, pywinrm raises InvalidCredentialsError only for HTTP 401.
            raise WinrmAuthenticationError(self._refused_reason(), user=self.settings.user, machine=machine, operation=label) from exc
        except _CREDSSP_ERRORS as exc:
            raise WinrmAuthenticationError(f"CredSSP exchange failed: {self._scrub(' '.join(str(exc).split()))}; "
                                           f"{self._refused_reason()}", user=self.settings.user, machine=machine,
                                           operation=label) from exc
        except WinRMError as exc:
            raise WinrmTransportError(self._scrub(str(exc)), kind="setup", machine=machine, operation=label) from exc
        except requests.exceptions.RequestException as exc:
            raise self._requests_error(exc, label) from exc
        except (http.client.HTTPException, urllib3_ProtocolError, ConnectionError) as exc:
            # Raised outside requests' wrapping while the body is read (decrypting a cut-off encrypted answer).
            raise WinrmTransportError(f"connection to {self.settings.endpoint} was reset before a complete answer", kind="reset",
                                      machine=machine, operation=label) from exc

        self._session_answered = self.answered = True
        envelope = self._parse(raw, label)
        self._check_relates_to(envelope, message_id, label, required=check_relates_to)
        fault = self._fault_of(envelope)
        if fault is not None:
            raise self._fault_error(fault, label)
        return child(envelope, "Body", [NAMESPACES["s"]])

    def _requests_error(self, exc: Exception, label: str) -> AvmaError:
        machine = self.display_name
        endpoint = self.settings.endpoint
        auth_failure = self._authentication_failure(exc)
        if auth_failure is not None:
            return WinrmAuthenticationError(auth_failure, user=self.settings.user, machine=machine, operation=label)
        if isinstance(exc, requests.exceptions.SSLError):
            return WinrmTransportError(f"TLS/certificate failure with {endpoint}: {self._innermost_reason(exc)}", kind="tls",
                                       machine=machine, operation=label)
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return WinrmTransportError(f"connection to {endpoint} timed out", kind="connect_timeout", machine=machine, operation=label)
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return WinrmOperationTimeoutError(f"no HTTP answer within read_timeout_sec={self.settings.read_timeout_sec}",
                                              machine=machine, operation=label)
        chain = _exception_chain(exc)
        if isinstance(exc, requests.exceptions.ChunkedEncodingError) or any(
                isinstance(item, (http.client.IncompleteRead, urllib3_ProtocolError)) for item in chain if item is not exc):
            if not any(isinstance(item, ConnectionRefusedError) for item in chain):
                return WinrmTransportError(f"connection to {endpoint} was reset before a complete answer", kind="reset",
                                           machine=machine, operation=label)
        if isinstance(exc, requests.exceptions.ConnectionError):
            if any(isinstance(item, ConnectionRefusedError) for item in chain):
                return WinrmTransportError(f"connection to {endpoint} refused", kind="refused", machine=machine, operation=label)
            # http.client.RemoteDisconnected (a keep-alive connection the server closed) is a ConnectionResetError.
            if any(isinstance(item, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)) for item in chain):
                return WinrmTransportError(f"connection to {endpoint} was reset before a complete answer", kind="reset",
                                           machine=machine, operation=label)
            return WinrmTransportError(f"cannot reach {endpoint}: {self._innermost_reason(exc)}", kind="unreachable",
                                       machine=machine, operation=label)
        return WinrmTransportError(f"HTTP request to {endpoint} failed: {self._innermost_reason(exc)}", kind="unreachable",
                                   machine=machine, operation=label)

    def _kinit_if_managed(self, label: str) -> None:
        """kinit mode managed (the default for Kerberos with a password): get a ticket as the winrm connection would."""
        settings = self.settings
        if not uses_kinit(settings.transport, settings.kinit_mode, settings.password):
            return
        try:
            kinit(settings.user or "", settings.password or "", kinit_cmd=settings.kinit_cmd, kinit_args=settings.kinit_args,
                  delegation=settings.kerberos_delegation, env_vars=settings.kinit_env_vars)
        except KinitError as exc:
            raise WinrmAuthenticationError(self._scrub(str(exc)), user=settings.user, machine=self.display_name,
                                           operation=label) from exc

    def _refused_reason(self) -> str:
        settings = self.settings
        return refused_401(settings.transport, host=settings.host, hostname_override=settings.kerberos_hostname_override)

    def _authentication_failure(self, exc: Exception) -> str | None:
        """A failure of the transport's authentication that requests reports as a request error, as one line saying
        what to do: Kerberos (GSSAPI) errors, and a client certificate the server's TLS refused. None otherwise."""
        settings = self.settings
        text = self._scrub(" ".join(str(item) for item in _exception_chain(exc)))
        if settings.transport == "kerberos":
            return kerberos_failure(text, host=settings.host, hostname_override=settings.kerberos_hostname_override)
        if settings.transport == "certificate" and isinstance(exc, requests.exceptions.SSLError):
            return certificate_not_trusted(text)
        return None

    def _innermost_reason(self, exc: Exception) -> str:
        """The most specific message in a requests/urllib3 exception chain (an OSError's text when there is one)."""
        chain = _exception_chain(exc)
        os_errors = [item for item in chain if isinstance(item, OSError) and not isinstance(item, requests.exceptions.RequestException)]
        return self._scrub(str(os_errors[-1] if os_errors else chain[-1]))

    def _scrub(self, text: str) -> str:
        """Remove the password and URL credentials from text that came from a library or the network."""
        if self.settings.password:
            text = text.replace(self.settings.password, "********")
        return _URL_USERINFO.sub(r"\1***@", text)

    # ----------------------------------------------------------------------------------------------------------
    # Response checks

    def _parse(self, raw: bytes | str, label: str) -> Element:
        try:
            envelope = parse_xml(raw, max_size=4 * self.settings.max_envelope_size)
        except WsmanProtocolError as error:
            error.add_context(machine=self.display_name, operation=label)
            raise
        if envelope.tag != qname(NAMESPACES["s"], "Envelope") or child(envelope, "Body", [NAMESPACES["s"]]) is None:
            raise WsmanProtocolError(f"answer is not a SOAP 1.2 envelope with a body (root {local_name(envelope.tag)})",
                                     machine=self.display_name, operation=label)
        return envelope

    def _parse_if_envelope(self, raw: bytes | str | None) -> Element | None:
        """The envelope in an HTTP error body, or None when the body is empty or not one (an HTML error page)."""
        if not raw:
            return None
        try:
            envelope = parse_xml(raw, max_size=4 * self.settings.max_envelope_size)
        except WsmanProtocolError:
            return None
        is_envelope = envelope.tag == qname(NAMESPACES["s"], "Envelope") and child(envelope, "Body", [NAMESPACES["s"]]) is not None
        return envelope if is_envelope else None

    @staticmethod
    def _fault_of(envelope: Element | None) -> Element | None:
        if envelope is None:
            return None
        return child(child(envelope, "Body", [NAMESPACES["s"]]), "Fault", [NAMESPACES["s"]])

    def _check_relates_to(self, envelope: Element, message_id: str, label: str, *, required: bool) -> None:
        header = child(envelope, "Header", [NAMESPACES["s"]])
        relates_to = child(header, "RelatesTo", [NAMESPACES["a"]]) if header is not None else None
        if relates_to is None:
            if required:
                raise WsmanProtocolError("answer has no RelatesTo header", machine=self.display_name, operation=label)
            return
        answered = (relates_to.text or "").strip()
        if answered.lower() != message_id.lower():
            raise WsmanProtocolError(f"answer RelatesTo {answered} does not match the MessageID sent ({message_id})",
                                     machine=self.display_name, operation=label)

    def _fault_error(self, fault: Element, label: str, *, http_status: int | None = None) -> AvmaError:
        """Build the typed error for a ``s:Fault`` (returned, so the caller raises it with the right cause)."""
        subcode = _flat_text(fault.find("s:Code/s:Subcode/s:Value", NAMESPACES)) or _flat_text(fault.find("s:Code/s:Value", NAMESPACES)) or None
        detail = child(fault, "Detail", [NAMESPACES["s"]])
        wsman_faults = list(detail.iter(qname(NAMESPACES["f"], "WSManFault"))) if detail is not None else []
        code = self._int_or_none(wsman_faults[0].get("Code")) if wsman_faults else None
        reason = self._fault_reason(fault, detail)
        if code == FAULT_CODE_OPERATION_TIMEOUT or (subcode or "").rpartition(":")[2] == "TimedOut":
            code = FAULT_CODE_OPERATION_TIMEOUT if code is None else code
            return WinrmOperationTimeoutError(f"WS-Man fault {code} ({subcode}): {reason}", code=code,
                                              machine=self.display_name, operation=label)
        return WsmanFaultError(code=code, wmi_code=self._wmi_code(detail, code), reason=reason, fault_subcode=subcode,
                               http_status=http_status, machine=self.display_name, operation=label)

    def _fault_reason(self, fault: Element, detail: Element | None) -> str:
        # The innermost f:Message with text of its own is the most specific (a ProviderFault nests one inside another).
        messages = [_flat_text(item) for item in detail.iter(qname(NAMESPACES["f"], "Message"))] if detail is not None else []
        messages = [text for text in messages if text]
        if messages:
            return self._scrub(messages[-1])
        reason = _flat_text(fault.find("s:Reason/s:Text", NAMESPACES))
        if reason:
            return self._scrub(reason)
        wmi_message = [_flat_text(item) for item in detail.iter() if local_name(item.tag) == "Message"] if detail is not None else []
        return self._scrub(next((text for text in wmi_message if text), "no reason given in the fault"))

    def _wmi_code(self, detail: Element | None, code: int | None) -> int | None:
        """The WMI HRESULT: MSFT_WmiError/error_Code, else a ProviderFault's own WSManFault code when it differs from
        the outer one, else a non-nil __ExtendedStatus/StatusCode."""
        if detail is None:
            return None
        for element in detail.iter():
            if local_name(element.tag) == "MSFT_WmiError":
                value = self._int_or_none(_flat_text(child(element, "error_Code")))
                if value is not None:
                    return value
        for provider_fault in detail.iter(qname(NAMESPACES["f"], "ProviderFault")):
            for inner in provider_fault.iter(qname(NAMESPACES["f"], "WSManFault")):
                value = self._int_or_none(inner.get("Code"))
                if value is not None and value != code:
                    return value
            for element in provider_fault.iter():
                if local_name(element.tag) == "StatusCode":
                    value = self._int_or_none(_flat_text(element))
                    if value is not None:
                        return value
        return None

    @staticmethod
    def _int_or_none(text: str | None) -> int | None:
        """Decimal or 0x-hex integer text; None for missing or malformed (fault details are best effort)."""
        text = (text or "").strip()
        try:
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            return None

    def _required_child(self, body: Element, local: str, prefix: str, label: str) -> Element:
        found = child(body, local, [NAMESPACES[prefix]])
        if found is None:
            got = ", ".join(local_name(item.tag) for item in body) or "an empty body"
            raise WsmanProtocolError(f"expected {prefix}:{local}, got {got}", machine=self.display_name, operation=label)
        return found

    def _read_batch(self, response: Element, label: str) -> tuple[list[Element], str | None, bool]:
        """Items, the enumeration context to continue with, and whether EndOfSequence was given. Windows uses
        w:Items/w:EndOfSequence in EnumerateResponse and n:Items/n:EndOfSequence in PullResponse: accept both."""
        both = [NAMESPACES["w"], NAMESPACES["n"]]
        container = child(response, "Items", both)
        items = list(container) if container is not None else []
        context = _flat_text(child(response, "EnumerationContext", [NAMESPACES["n"]])) or None
        finished = child(response, "EndOfSequence", both) is not None
        if not finished and context is None:
            raise WsmanProtocolError(f"{local_name(response.tag)} has neither EndOfSequence nor an EnumerationContext",
                                     machine=self.display_name, operation=label)
        return items, context, finished
