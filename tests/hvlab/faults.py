# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every WS-Management fault the lab sends, as data: one factory per Windows fault.

Codes are the ERROR_WSMAN_* values of the Windows SDK (winerror.h); texts are Windows' own where a real capture shows
them (shared/reference/wire/fault_*) and written in Windows' style otherwise. Which faults and texts are confirmed
is noted per factory. ``faultxml.render_fault`` turns a ``WsmanFault`` into the envelope; nothing else does.
"""

from dataclasses import dataclass

from .namespaces import FAULT_DETAIL_PREFIX, WMI_URI_PREFIX

# WMI HRESULTs (wbemcli.h) the lab reports, with the WMI message text, the CIM status code and the PowerShell error
# category Windows puts in MSFT_WmiError (CIMStatusCode, error_Category).
WBEM_E_FAILED = 0x80041001
WBEM_E_NOT_FOUND = 0x80041002
WBEM_E_ACCESS_DENIED = 0x80041003
WBEM_E_INVALID_NAMESPACE = 0x8004100E
WBEM_E_INVALID_CLASS = 0x80041010
WBEM_E_INVALID_QUERY = 0x80041017
WBEM_E_INVALID_METHOD = 0x8004102E
WBEM_E_INVALID_METHOD_PARAMETERS = 0x8004102F

WMI_ERROR_TEXTS = {
    WBEM_E_FAILED: ("Generic failure ", 1, 0),
    WBEM_E_NOT_FOUND: ("Not found ", 6, 13),
    WBEM_E_ACCESS_DENIED: ("Access denied ", 2, 18),
    WBEM_E_INVALID_NAMESPACE: ("Invalid namespace ", 3, 10),
    WBEM_E_INVALID_CLASS: ("Invalid class ", 5, 10),
    WBEM_E_INVALID_QUERY: ("Invalid query ", 15, 5),
    WBEM_E_INVALID_METHOD: ("Invalid method ", 17, 10),
    WBEM_E_INVALID_METHOD_PARAMETERS: ("Invalid method Parameter(s) ", 4, 5),
}

ERROR_ACCESS_DENIED = 5  # Win32

# ERROR_WSMAN_* codes.
RESOURCE_NOT_FOUND = 2150858752
INVALID_ACTIONURI = 2150858753
INTERNAL_ERROR_WMI = 2147749889  # the WMI HRESULT itself, as Windows reports an unknown provider failure
INVALID_MESSAGE_INFORMATION_HEADER = 2150858767
MESSAGE_INFORMATION_HEADER_REQUIRED = 2150858769
DESTINATION_UNREACHABLE = 2150858770
FILTER_DIALECT_REQUESTED_UNAVAILABLE = 2150858777
CANNOT_PROCESS_FILTER = 2150858778
INVALID_ENUMERATION_CONTEXT = 2150858779
OPERATION_TIMEDOUT = 2150858793
INVALID_PARAMETER = 2150858810
INVALID_RESOURCE_URI = 2150858811
SCHEMA_VALIDATION_ERROR = 2150858817
INVALID_XML = 2150858819
MAX_ENVELOPE_SIZE_EXCEEDED = 2150858824
FILTERING_REQUIRED = 2150858831
INSUFFICIENT_SELECTORS = 2150858842
UNEXPECTED_SELECTORS = 2150858843
DUPLICATE_SELECTORS = 2150858847
MIN_ENVELOPE_SIZE = 2150858878
ENUMERATION_MODE_UNSUPPORTED = 2150858886
INVALID_URI_WMI_SINGLETON = 2150859002
INVALID_URI_WMI_ENUM_WQL = 2150859003

INVALID_SELECTORS_REASON = ("The WS-Management service cannot process the request because the request contained invalid "
                            "selectors for the resource. ")
CANNOT_PROCESS_FILTER_REASON = ("The data source could not process the filter. The filter might be missing or it might be "
                                "invalid. Change the filter and try the request again.  ")


@dataclass(frozen=True)
class WmiError:
    """The WMI error under a WS-Man fault (MSFT_WmiError, or ProviderFault in the older layout)."""

    hresult: int
    operation: str = ""        # __ExtendedStatus.Operation, e.g. ExecQuery
    parameter_info: str = ""   # __ExtendedStatus.ParameterInfo, e.g. the query

    @property
    def message(self):
        return WMI_ERROR_TEXTS.get(self.hresult, ("Generic failure ", 1, 0))[0]

    @property
    def cim_status(self):
        return WMI_ERROR_TEXTS.get(self.hresult, ("", 1, 0))[1]

    @property
    def category(self):
        return WMI_ERROR_TEXTS.get(self.hresult, ("", 1, 0))[2]


class WsmanFault(Exception):
    """A SOAP fault as Windows sends it.

    ``code`` is the WSManFault Code, ``subcode`` the qualified s:Subcode value (``w:InvalidSelectors``), ``reason``
    the s:Reason text, ``message`` the f:Message text, ``detail`` the w:FaultDetail URI suffix or None, ``wmi`` the
    nested ``WmiError`` or None, ``receiver`` selects s:Receiver over s:Sender, ``http_status`` the HTTP status,
    ``wrote`` whether the failing operation changed state all the same (a failed activation writes its events).
    """

    def __init__(self, *, code, subcode, reason, message=None, detail=None, wmi=None, receiver=False, http_status=500, wrote=False):
        super().__init__("%s (%s): %s" % (subcode, code, reason.strip()))
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.message = message if message is not None else reason
        self.detail = FAULT_DETAIL_PREFIX + detail if detail else None
        self.wmi = wmi
        self.receiver = receiver
        self.http_status = http_status
        self.wrote = wrote


def invalid_timeout_header(value):
    """Confirmed by a real capture: an unparsable or negative wsman:OperationTimeout (PT-1S)."""
    return WsmanFault(
        code=INVALID_MESSAGE_INFORMATION_HEADER, subcode="a:InvalidMessageInformationHeader",
        reason="The WS-Management service cannot process the request. The request contains one or more invalid SOAP headers. ",
        message="The WS-Management service cannot process the request. The XML contains an invalid timeout field in the "
                "SOAP header: %s. " % value)


def invalid_header(name, value):
    """Another header Windows cannot read (MaxEnvelopeSize that is not a number, ...)."""
    return WsmanFault(
        code=INVALID_MESSAGE_INFORMATION_HEADER, subcode="a:InvalidMessageInformationHeader",
        reason="The WS-Management service cannot process the request. The request contains one or more invalid SOAP headers. ",
        message="The WS-Management service cannot process the request. The %s header contains an invalid value: %s. "
                % (name, value))


def header_required(name):
    """A required WS-Addressing header (MessageID, Action, ResourceURI) is missing."""
    return WsmanFault(
        code=MESSAGE_INFORMATION_HEADER_REQUIRED, subcode="a:MessageInformationHeaderRequired",
        reason="A required header representing a Message Addressing Property is not present ",
        message="The WS-Management service cannot process the request because the %s header is missing. " % name)


def action_not_supported(action):
    """The Action URI names no operation the resource supports."""
    return WsmanFault(
        code=INVALID_ACTIONURI, subcode="a:ActionNotSupported",
        reason="The action is not supported by the service. ",
        message="The WS-Management service cannot process the request because the WS-Addressing Action URI (%s) in the "
                "request is not compatible with the resource. " % action)


def method_not_found(class_name, method):
    """Invoke of a method the class does not have (WMI: invalid method)."""
    return WsmanFault(
        code=INVALID_ACTIONURI, subcode="a:ActionNotSupported",
        reason="The action is not supported by the service. ",
        message="The WS-Management service cannot process the request. The method %s does not exist on the %s class. "
                % (method, class_name),
        wmi=WmiError(WBEM_E_INVALID_METHOD, "ExecMethod", "%s.%s" % (class_name, method)))


def invalid_method_parameters(class_name, method, detail_text):
    """Invoke with parameters the method does not take or values of the wrong type."""
    return WsmanFault(
        code=INVALID_PARAMETER, subcode="w:InvalidParameter", detail="InvalidName",
        reason="The WS-Management service cannot process the request because a parameter in the request is not valid. ",
        message="The WS-Management service cannot process the request. %s " % detail_text,
        wmi=WmiError(WBEM_E_INVALID_METHOD_PARAMETERS, "ExecMethod", "%s.%s" % (class_name, method)))


def unknown_resource_uri(resource_uri):
    """Confirmed text (pypsrp issue 192): a resource URI outside the WMI plugin's catalog."""
    return WsmanFault(
        code=INVALID_RESOURCE_URI, subcode="a:DestinationUnreachable", detail="InvalidResourceURI",
        reason="The WS-Management service cannot process the request. The resource URI (%s) was not found in the "
               "WS-Management catalog. The catalog contains the metadata that describes resources, or logical "
               "endpoints. " % resource_uri)


def invalid_class(namespace, class_name):
    """A resource URI naming a class the namespace does not have (unconfirmed: code and subcode)."""
    return WsmanFault(
        code=RESOURCE_NOT_FOUND, subcode="a:DestinationUnreachable", detail="InvalidResourceURI",
        reason="The WS-Management service cannot process the request. The class %s does not exist in the %s "
               "namespace. " % (class_name, namespace),
        wmi=WmiError(WBEM_E_INVALID_CLASS, "GetObject", class_name))


def invalid_namespace(namespace):
    """A resource URI naming a WMI namespace the machine does not have (unconfirmed: code and subcode)."""
    return WsmanFault(
        code=RESOURCE_NOT_FOUND, subcode="a:DestinationUnreachable", detail="InvalidResourceURI",
        reason="The WS-Management service cannot process the request. The WMI namespace %s does not exist. " % namespace,
        wmi=WmiError(WBEM_E_INVALID_NAMESPACE, "ConnectServer", namespace))


def access_denied():
    """ERROR_ACCESS_DENIED as WinRM itself words it (r4sd/go-wsman's fixture fault_access_denied.xml): s:Sender,
    w:AccessDenied, WSManFault Code 5, "Access is denied."."""
    return WsmanFault(code=ERROR_ACCESS_DENIED, subcode="w:AccessDenied", reason="Access is denied. ")


def wmi_access_denied(namespace, class_name):
    """WBEM_E_ACCESS_DENIED from a WMI provider (root/MSCluster needs read access to the cluster) as WinRM passes
    provider errors on: w:AccessDenied with the HRESULT as WSManFault Code and in MSFT_WmiError (unconfirmed)."""
    return WsmanFault(
        code=WBEM_E_ACCESS_DENIED, subcode="w:AccessDenied",
        reason="The WS-Management service cannot process the request. The WMI service or the WMI provider returned an "
               "access denied error. ",
        wmi=WmiError(WBEM_E_ACCESS_DENIED, "ExecQuery", "%s:%s" % (namespace, class_name)))


def instance_not_found():
    """Subcode and reason confirmed (a real Get of a missing Win32_Process): no instance has these keys."""
    return WsmanFault(
        code=RESOURCE_NOT_FOUND, subcode="a:DestinationUnreachable",
        reason="The WS-Management service cannot process the request. The service cannot find the resource identified "
               "by the resource URI and selectors. ",
        wmi=WmiError(WBEM_E_NOT_FOUND, "GetObject"))


def wql_invalid_class(query):
    """Confirmed by a real capture: a WQL query naming a class that does not exist."""
    return WsmanFault(
        code=CANNOT_PROCESS_FILTER, subcode="n:CannotProcessFilter", reason=CANNOT_PROCESS_FILTER_REASON,
        message="The specified class does not exist in the given namespace. ",
        wmi=WmiError(WBEM_E_INVALID_CLASS, "ExecQuery", query))


def wql_invalid_query(query, problem):
    """A WQL query WMI cannot parse or evaluate (unconfirmed: the f:Message text)."""
    return WsmanFault(
        code=CANNOT_PROCESS_FILTER, subcode="n:CannotProcessFilter", reason=CANNOT_PROCESS_FILTER_REASON,
        message="The WQL query is not valid: %s. " % problem,
        wmi=WmiError(WBEM_E_INVALID_QUERY, "ExecQuery", query))


def filter_dialect_unavailable(dialect):
    """An Enumerate filter in a dialect other than WQL."""
    return WsmanFault(
        code=FILTER_DIALECT_REQUESTED_UNAVAILABLE, subcode="n:FilterDialectRequestedUnavailable",
        reason="The requested filtering dialect is not supported. ",
        message="The WS-Management service cannot process the request. The filter dialect %s is not supported. "
                % dialect)


def filtering_required(resource_uri):
    """Enumerate of the all-classes URI (``.../*``) without a WQL filter."""
    return WsmanFault(
        code=FILTERING_REQUIRED, subcode="w:FilteringRequired",
        reason="The WS-Management service cannot process the request. A filter is required for this resource. ",
        message="The WS-Management service cannot process the request. Enumerating %s requires a WQL filter. "
                % resource_uri)


def wql_needs_all_classes_uri(resource_uri):
    """A WQL filter on a class URI: Windows only takes WQL on the all-classes URI ``.../<namespace>/*``."""
    return WsmanFault(
        code=INVALID_URI_WMI_ENUM_WQL, subcode="w:InvalidParameter",
        reason="The WS-Management service cannot process the request because a parameter in the request is not valid. ",
        message="The WS-Management service cannot process the request. The resource URI %s is not valid for a WQL "
                "enumeration: use the all-classes URI %s<namespace>/*. " % (resource_uri, WMI_URI_PREFIX))


def unsupported_enumeration_mode(mode):
    """A w:EnumerationMode other than EnumerateEPR / EnumerateObjectAndEPR."""
    return WsmanFault(
        code=ENUMERATION_MODE_UNSUPPORTED, subcode="w:UnsupportedFeature", detail="EnumerationMode",
        reason="The WS-Management service does not support the enumeration mode %s. " % mode)


def invalid_enumeration_context():
    """The EnumerationContext of a Pull or Release is unknown, finished, released or expired."""
    return WsmanFault(
        code=INVALID_ENUMERATION_CONTEXT, subcode="n:InvalidEnumerationContext", receiver=True,
        reason="The enumeration context supplied in the message is not valid. ",
        message="The WS-Management service cannot process the request because the enumeration context is not valid. "
                "The context may have expired, been released, or have completed. ")


def singleton_needs_selectors():
    """Confirmed message (MS docs, Session.Error): a Get/Invoke without keys on a class that is not a singleton."""
    return WsmanFault(
        code=INVALID_URI_WMI_SINGLETON, subcode="w:InvalidSelectors", detail="InsufficientSelectors",
        reason=INVALID_SELECTORS_REASON,
        message="The WinRM client cannot process the request. The resource URI is not valid: it does not contain keys, "
                "but the class selected is not a singleton. To access an instance which is not a singleton, keys must "
                "be provided. Use the following command to get more information in how to construct a resource URI: "
                "\"winrm help uris\". ")


def unexpected_selectors(names):
    """Shape confirmed by a real capture (w:InvalidSelectors, UnexpectedSelectors): selectors that are not keys."""
    return WsmanFault(
        code=UNEXPECTED_SELECTORS, subcode="w:InvalidSelectors", detail="UnexpectedSelectors",
        reason=INVALID_SELECTORS_REASON,
        message="The WS-Management service cannot process the request. The selectors %s are not keys of the resource. "
                % ", ".join(names))


def insufficient_selectors(names):
    """Some key selectors are missing."""
    return WsmanFault(
        code=INSUFFICIENT_SELECTORS, subcode="w:InvalidSelectors", detail="InsufficientSelectors",
        reason=INVALID_SELECTORS_REASON,
        message="The WS-Management service cannot process the request. The key selectors %s are missing. "
                % ", ".join(names))


def duplicate_selectors(name):
    """The same selector twice."""
    return WsmanFault(
        code=DUPLICATE_SELECTORS, subcode="w:InvalidSelectors", detail="DuplicateSelectors",
        reason=INVALID_SELECTORS_REASON,
        message="The WS-Management service cannot process the request. The selector %s appears more than once. " % name)


def operation_timed_out():
    """Confirmed by a real capture: the operation did not finish within OperationTimeout."""
    text = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
    return WsmanFault(code=OPERATION_TIMEDOUT, subcode="w:TimedOut", receiver=True, reason=text)


def response_too_large(size, limit):
    """Windows' text for a response larger than the client's MaxEnvelopeSize (code inferred from the SDK name)."""
    return WsmanFault(
        code=MAX_ENVELOPE_SIZE_EXCEEDED, subcode="w:EncodingLimit", detail="MaxEnvelopeSizeExceeded", receiver=True,
        reason="The WS-Management service cannot process the request. The computed response packet size (%d) exceeds "
               "the maximum envelope size that is allowed (%d). " % (size, limit))


def envelope_limit_too_small(limit, minimum):
    """A MaxEnvelopeSize below the minimum every WS-Management service may insist on (DSP0226 6.2)."""
    return WsmanFault(
        code=MIN_ENVELOPE_SIZE, subcode="w:EncodingLimit", detail="MinimumEnvelopeLimit",
        reason="The WS-Management service cannot process the request because the MaxEnvelopeSize (%d) is smaller "
               "than the minimum of %d bytes. " % (limit, minimum))


def invalid_xml(reason):
    """The request body is not an XML document the service reads (malformed, or it carries a DTD)."""
    return WsmanFault(
        code=INVALID_XML, subcode="w:SchemaValidationError", http_status=400,
        reason="The WS-Management service cannot process the request because the XML is invalid. ",
        message="The WS-Management service cannot process the request because the XML is invalid: %s. " % reason)


def schema_violation(problem):
    """Well-formed XML that is not a WS-Management request (no SOAP 1.2 envelope, body shape wrong, ...)."""
    return WsmanFault(
        code=SCHEMA_VALIDATION_ERROR, subcode="w:SchemaValidationError",
        reason="The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and "
               "retry. ",
        message="The WS-Management service cannot process the request: %s. " % problem)


def internal_error():
    """A generic provider failure, as Windows reports an unknown WMI error (used for injected HTTP 500 faults)."""
    return WsmanFault(
        code=INTERNAL_ERROR_WMI, subcode="w:InternalError", receiver=True,
        reason="The WS-Management service cannot process the request. The WMI service or the WMI provider returned an "
               "unknown error: HRESULT 0x80041001 ",
        wmi=WmiError(WBEM_E_FAILED))


# (subcode, receiver) of the codes an injected wsman_fault may name; any other code is a w:InternalError.
KNOWN_SUBCODES = {
    RESOURCE_NOT_FOUND: ("a:DestinationUnreachable", False),
    INVALID_ACTIONURI: ("a:ActionNotSupported", False),
    INVALID_MESSAGE_INFORMATION_HEADER: ("a:InvalidMessageInformationHeader", False),
    DESTINATION_UNREACHABLE: ("a:DestinationUnreachable", False),
    CANNOT_PROCESS_FILTER: ("n:CannotProcessFilter", False),
    INVALID_ENUMERATION_CONTEXT: ("n:InvalidEnumerationContext", True),
    OPERATION_TIMEDOUT: ("w:TimedOut", True),
    UNEXPECTED_SELECTORS: ("w:InvalidSelectors", False),
    INVALID_URI_WMI_SINGLETON: ("w:InvalidSelectors", False),
    SCHEMA_VALIDATION_ERROR: ("w:SchemaValidationError", False),
}


def generic(code, wmi_code=None):
    """A fault with any WSManFault code (and optional WMI HRESULT), for injected ``wsman_fault`` rules."""
    subcode, receiver = KNOWN_SUBCODES.get(code, ("w:InternalError", True))
    return WsmanFault(
        code=code, subcode=subcode, receiver=receiver,
        reason="The WS-Management service cannot process the request. Error 0x%08X. " % code,
        wmi=WmiError(wmi_code) if wmi_code is not None else None)
