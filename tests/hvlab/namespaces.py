# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WS-Management vocabulary of the lab: XML namespaces, action URIs and resource URI prefixes.

Prefixes are the ones Windows writes on the wire (see shared/reference/wire/): ``s`` SOAP 1.2, ``a`` WS-Addressing
2004/08, ``n`` WS-Enumeration, ``x`` WS-Transfer, ``w`` DMTF WS-Management, ``p`` Microsoft's WS-Management
extensions (MS-WSMV), ``f`` the WSManFault detail. No other module writes a namespace URI by hand.
"""

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "e": "http://schemas.xmlsoap.org/ws/2004/08/eventing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "b": "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "cim": "http://schemas.dmtf.org/wbem/wscim/1/common",
    "wsmid": "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd",
    "xml": "http://www.w3.org/XML/1998/namespace",
}

ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

WMI_URI_PREFIX = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
DMTF_URI_PREFIX = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
WQL_DIALECT = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
CIM_NAMESPACE_SELECTOR = "__cimnamespace"
DEFAULT_CIM_NAMESPACE = "root/cimv2"

FAULT_DETAIL_PREFIX = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"


def qname(prefix, local):
    """ElementTree's ``{uri}local`` name of ``prefix:local``."""
    return "{%s}%s" % (NS[prefix], local)


class Action:
    """Action URIs of the operations the lab serves and of the faults it sends."""

    ENUMERATE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
    ENUMERATE_RESPONSE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse"
    PULL = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
    PULL_RESPONSE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse"
    RELEASE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"
    RELEASE_RESPONSE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse"
    GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
    GET_RESPONSE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"

    # The fault action follows the namespace of the fault subcode, as in the wire samples.
    FAULT_ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
    FAULT_ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"
    FAULT_WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"


FAULT_ACTION_BY_SUBCODE_PREFIX = {
    "a": Action.FAULT_ADDRESSING,
    "n": Action.FAULT_ENUMERATION,
    "w": Action.FAULT_WSMAN,
}
