# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a ``WsmanFault`` as the SOAP envelope Windows sends: the only place that writes fault XML.

Layout (shared/reference/wire/fault_*): ``s:Fault`` with ``s:Code/s:Value`` + ``s:Subcode/s:Value``, ``s:Reason/s:Text``
and ``s:Detail``. What the detail holds for a WMI error varies between Windows releases and is not settled by the
public captures, so each machine picks one of ``FAULT_STYLES`` and clients can be proven against all of them:

- ``combined``: ``f:WSManFault`` (Code, Machine, f:Message) followed by ``p:MSFT_WmiError`` carrying the WMI HRESULT;
- ``wmi_error``: only ``p:MSFT_WmiError`` for WMI errors (the pywinrm test sample), only ``f:WSManFault`` otherwise;
- ``provider_fault``: ``f:WSManFault`` whose ``f:Message`` nests ``f:ProviderFault`` with an inner ``f:WSManFault``
  and ``f:ExtendedError/__ExtendedStatus`` (the Windows Server 2008 R2 capture).
"""

from .namespaces import ANONYMOUS, DMTF_URI_PREFIX, FAULT_ACTION_BY_SUBCODE_PREFIX, NS, WMI_URI_PREFIX
from .xmltext import element, escape_attribute, escape_text, xmlns

FAULT_STYLES = ("combined", "wmi_error", "provider_fault")
WMI_PROVIDER_PATH = "%systemroot%\\system32\\WsmWmiPl.dll"
WMI_PROVIDER_NAME = "WMI Provider"


def render_fault(fault, *, relates_to, message_id, machine, style="combined"):
    """Return the fault envelope as UTF-8 bytes.

    ``relates_to`` is the request's MessageID (None when it could not be read), ``message_id`` the response's own,
    ``machine`` the WSManFault Machine attribute, ``style`` one of ``FAULT_STYLES``.
    """
    if style not in FAULT_STYLES:
        raise ValueError("unknown fault style %r" % style)
    action = FAULT_ACTION_BY_SUBCODE_PREFIX.get(fault.subcode.split(":")[0], FAULT_ACTION_BY_SUBCODE_PREFIX["w"])
    header = (
        element("a:Action", action)
        + element("a:MessageID", message_id)
        + element("a:To", ANONYMOUS)
        + (element("a:RelatesTo", relates_to) if relates_to else "")
    )
    body = (
        "<s:Fault><s:Code>"
        + element("s:Value", "s:Receiver" if fault.receiver else "s:Sender")
        + "<s:Subcode>" + element("s:Value", fault.subcode) + "</s:Subcode></s:Code>"
        + '<s:Reason><s:Text xml:lang="en-US">' + escape_text(fault.reason) + "</s:Text></s:Reason>"
        + "<s:Detail>" + _detail(fault, machine, style) + "</s:Detail></s:Fault>"
    )
    envelope = '<s:Envelope xml:lang="en-US" %s><s:Header>%s</s:Header><s:Body>%s</s:Body></s:Envelope>' % (
        xmlns("s", "a", "x", "e", "n", "w", "p"), header, body)
    return envelope.encode("utf-8")


def _detail(fault, machine, style):
    parts = [element("w:FaultDetail", fault.detail)] if fault.detail else []
    if fault.wmi is None:
        parts.append(_wsman_fault(fault.code, machine, escape_text(fault.message)))
    elif style == "combined":
        parts.append(_wsman_fault(fault.code, machine, escape_text(fault.message)))
        parts.append(_msft_wmi_error(fault.wmi))
    elif style == "wmi_error":
        parts.append(_msft_wmi_error(fault.wmi))
    else:
        parts.append(_wsman_fault(fault.code, machine, _provider_fault(fault, machine)))
    return "".join(parts)


def _wsman_fault(code, machine, message_xml):
    return '<f:WSManFault xmlns:f="%s" Code="%d" Machine="%s"><f:Message>%s</f:Message></f:WSManFault>' % (
        NS["f"], code, escape_attribute(machine), message_xml)


def _provider_fault(fault, machine):
    inner = _wsman_fault(fault.code, machine, escape_text(fault.message))
    extended = ""
    if fault.wmi.operation:
        extended = "<f:ExtendedError>%s</f:ExtendedError>" % _extended_status(fault.wmi)
    return '<f:ProviderFault path="%s" provider="%s">%s%s</f:ProviderFault>' % (
        escape_attribute(WMI_PROVIDER_PATH), WMI_PROVIDER_NAME, inner, extended)


def _extended_status(wmi):
    return (
        '<p:__ExtendedStatus xmlns:cim="%s" xmlns:p="%sroot/cimv2/__ExtendedStatus" xmlns:xsi="%s" '
        'xsi:type="p:__ExtendedStatus_Type">' % (NS["cim"], WMI_URI_PREFIX, NS["xsi"])
        + '<p:Description xsi:nil="true"/>'
        + element("p:Operation", wmi.operation)
        + (element("p:ParameterInfo", wmi.parameter_info) if wmi.parameter_info else '<p:ParameterInfo xsi:nil="true"/>')
        + element("p:ProviderName", "WinMgmt")
        + '<p:StatusCode xsi:nil="true"/>'
        + "</p:__ExtendedStatus>"
    )


def _typed(name, cim_type, value):
    if value is None:
        return '<p:%s xsi:type="cim:%s" xsi:nil="true"/>' % (name, cim_type)
    return '<p:%s xsi:type="cim:%s">%s</p:%s>' % (name, cim_type, escape_text(value), name)


def _msft_wmi_error(wmi):
    fields = (
        ("CIMStatusCode", "cimUnsignedInt", wmi.cim_status),
        ("CIMStatusCodeDescription", "cimString", None),
        ("ErrorSource", "cimString", None),
        ("ErrorSourceFormat", "cimUnsignedShort", 0),
        ("ErrorType", "cimUnsignedShort", 0),
        ("Message", "cimString", wmi.message),
        ("MessageID", "cimString", "HRESULT 0x%08x" % wmi.hresult),
        ("OtherErrorSourceFormat", "cimString", None),
        ("OtherErrorType", "cimString", None),
        ("OwningEntity", "cimString", None),
        ("PerceivedSeverity", "cimUnsignedShort", 0),
        ("ProbableCause", "cimUnsignedShort", 0),
        ("ProbableCauseDescription", "cimString", None),
        ("error_Category", "cimUnsignedInt", wmi.category),
        ("error_Code", "cimUnsignedInt", wmi.hresult),
        ("error_Type", "cimString", "HRESULT"),
        ("error_WindowsErrorMessage", "cimString", wmi.message),
    )
    return (
        '<p:MSFT_WmiError b:IsCIM_Error="true" xmlns:xsi="%s" xmlns:b="%s" xmlns:p="%sMSFT_WmiError" xmlns:cim="%s" '
        'xsi:type="p:MSFT_WmiError_Type">' % (NS["xsi"], NS["b"], DMTF_URI_PREFIX, NS["cim"])
        + "".join(_typed(name, cim_type, value) for name, cim_type, value in fields)
        + "</p:MSFT_WmiError>"
    )
