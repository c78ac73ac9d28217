# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Success envelopes in Windows' layout (shared/reference/wire/): compact XML, ``xml:lang`` on the envelope, headers
in the order Action, MessageID, To, [OperationID, SequenceId], RelatesTo."""

import uuid

from .namespaces import ANONYMOUS, NS
from .xmltext import element, xmlns

# Namespace declarations Windows puts on the envelope, per kind of response.
ENUMERATION_PREFIXES = ("s", "a", "n", "w", "p")
TRANSFER_PREFIXES = ("s", "a", "x", "w", "p")


def new_message_id():
    """A fresh ``uuid:`` MessageID in Windows' upper-case form."""
    return "uuid:" + str(uuid.uuid4()).upper()


def render_response(action, body_xml, *, relates_to, message_id, operation_id=None, prefixes=TRANSFER_PREFIXES):
    """The response envelope around ``body_xml`` (already XML) as a str."""
    header = element("a:Action", action) + element("a:MessageID", message_id) + element("a:To", ANONYMOUS)
    if operation_id:
        header += element("p:OperationID", operation_id, {"s:mustUnderstand": "false"}) + element("p:SequenceId", "1")
    if relates_to:
        header += element("a:RelatesTo", relates_to)
    return '<s:Envelope xml:lang="en-US" %s><s:Header>%s</s:Header><s:Body>%s</s:Body></s:Envelope>' % (
        xmlns(*prefixes), header, body_xml)


def render_identify_response(product_version):
    """IdentifyResponse as Windows Server 2016 sends it (wsman_identify_response_win2016_real.xml)."""
    profiles = "".join(
        element("wsmid:SecurityProfileName", "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/" + profile)
        for profile in ("http/basic", "https/basic", "http/spnego-kerberos", "https/spnego-kerberos"))
    body = (
        '<wsmid:IdentifyResponse xmlns:wsmid="%s">' % NS["wsmid"]
        + element("wsmid:ProtocolVersion", NS["w"])
        + element("wsmid:ProductVendor", "Microsoft Corporation")
        + element("wsmid:ProductVersion", product_version)
        + "<wsmid:SecurityProfiles>" + profiles + "</wsmid:SecurityProfiles>"
        + "</wsmid:IdentifyResponse>"
    )
    return '<s:Envelope xml:lang="en-US" %s><s:Header></s:Header><s:Body>%s</s:Body></s:Envelope>' % (xmlns("s"), body)
