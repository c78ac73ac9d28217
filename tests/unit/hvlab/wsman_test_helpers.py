# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the lab's protocol tests: fixtures, request builders, and XML shape comparison.

The namespace table is written here again on purpose: the tests check the lab's wire output against their own
idea of the URIs (and against the real captures in fixtures/), not against the lab's constants.
"""

import os
import re
import uuid
import xml.etree.ElementTree as ET

from hvlab.fleet import Fleet
from hvlab.service import WsmanService

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
FOUNDATION = os.path.join(HERE, "..", "..", "hvlab", "fleets", "foundation.yml")

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "cim": "http://schemas.dmtf.org/wbem/wscim/1/common",
    "wsmid": "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd",
    "wmie": "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError",
}
WMI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/"
ALL_CLASSES = WMI + "*"
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
ENUMERATE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
PULL = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
RELEASE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
UUID_RE = re.compile(r"^uuid:[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as stream:
        return stream.read()


def make_service(path=FOUNDATION, **kwargs):
    """A fresh foundation fleet and its service (with a fake clock unless one is given)."""
    kwargs.setdefault("clock", FakeClock())
    return WsmanService(Fleet.load(path), **kwargs)


def parse(body):
    return ET.fromstring(body)


def find(root, path):
    """``root.find`` with the test's namespace prefixes."""
    return root.find(path, NS)


def findall(root, path):
    return root.findall(path, NS)


def text(root, path):
    found = find(root, path)
    assert found is not None, "missing %s" % path
    return found.text


def local(tag):
    return tag.rpartition("}")[2]


def message_id():
    return "uuid:" + str(uuid.uuid4()).upper()


def request(action, resource_uri, body="", *, selectors=None, options=None, max_envelope=153600, timeout="PT20S",
            to="http://127.0.10.11:5985/wsman", msg_id=None, extra_headers=""):
    """A request envelope with pywinrm's prefixes (env/a/w/n/p), so the lab must read by namespace."""
    headers = [
        '<a:To>%s</a:To>' % to,
        '<a:ReplyTo><a:Address mustUnderstand="true">%s</a:Address></a:ReplyTo>' % ANONYMOUS,
        '<w:MaxEnvelopeSize mustUnderstand="true">%s</w:MaxEnvelopeSize>' % max_envelope,
        '<a:MessageID>%s</a:MessageID>' % (msg_id or message_id()),
        '<w:Locale mustUnderstand="false" xml:lang="en-US"/>',
        '<p:DataLocale mustUnderstand="false" xml:lang="en-US"/>',
        '<w:OperationTimeout>%s</w:OperationTimeout>' % timeout,
        '<w:ResourceURI mustUnderstand="true">%s</w:ResourceURI>' % resource_uri,
        '<a:Action mustUnderstand="true">%s</a:Action>' % action,
    ]
    if selectors:
        headers.append("<w:SelectorSet>%s</w:SelectorSet>" % "".join(
            '<w:Selector Name="%s">%s</w:Selector>' % (name, value) for name, value in selectors.items()))
    if options:
        headers.append("<w:OptionSet>%s</w:OptionSet>" % "".join(
            '<w:Option Name="%s">%s</w:Option>' % (name, value) for name, value in options.items()))
    return (
        '<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="%s" xmlns:env="%s" xmlns:a="%s" '
        'xmlns:b="http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd" xmlns:n="%s" '
        'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="%s" xmlns:p="%s" '
        'xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" '
        'xmlns:cfg="http://schemas.microsoft.com/wbem/wsman/1/config">'
        % (NS["xsi"], NS["s"], NS["a"], NS["n"], NS["w"], NS["p"])
        + "<env:Header>%s%s</env:Header><env:Body>%s</env:Body></env:Envelope>" % ("".join(headers), extra_headers, body)
    ).encode("utf-8")


def wql_enumerate(query, *, optimize=True, max_elements=None, mode=None, **kwargs):
    parts = []
    if optimize:
        parts.append("<w:OptimizeEnumeration/>")
    if max_elements is not None:
        parts.append("<w:MaxElements>%d</w:MaxElements>" % max_elements)
    if mode:
        parts.append("<w:EnumerationMode>%s</w:EnumerationMode>" % mode)
    parts.append('<w:Filter Dialect="%s">%s</w:Filter>' % (WQL, query.replace("&", "&amp;").replace("<", "&lt;")))
    return request(ENUMERATE, kwargs.pop("resource_uri", ALL_CLASSES), "<n:Enumerate>%s</n:Enumerate>" % "".join(parts),
                   **kwargs)


def class_enumerate(class_name, *, optimize=True, max_elements=None, mode=None, **kwargs):
    parts = []
    if optimize:
        parts.append("<w:OptimizeEnumeration/>")
    if max_elements is not None:
        parts.append("<w:MaxElements>%d</w:MaxElements>" % max_elements)
    if mode:
        parts.append("<w:EnumerationMode>%s</w:EnumerationMode>" % mode)
    return request(ENUMERATE, WMI + class_name, "<n:Enumerate>%s</n:Enumerate>" % "".join(parts), **kwargs)


def pull_request(context, max_elements=None, **kwargs):
    limit = "<n:MaxElements>%d</n:MaxElements>" % max_elements if max_elements is not None else ""
    body = "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>%s</n:Pull>" % (context, limit)
    return request(PULL, kwargs.pop("resource_uri", ALL_CLASSES), body, **kwargs)


def release_request(context, **kwargs):
    body = "<n:Release><n:EnumerationContext>%s</n:EnumerationContext></n:Release>" % context
    return request(RELEASE, kwargs.pop("resource_uri", ALL_CLASSES), body, **kwargs)


def get_request(class_name, selectors=None, **kwargs):
    return request(GET, WMI + class_name, "", selectors=selectors, **kwargs)


def invoke_request(class_name, method, params="", selectors=None, **kwargs):
    uri = WMI + class_name
    body = '<p:%s_INPUT xmlns:p="%s">%s</p:%s_INPUT>' % (method, uri, params, method)
    return request(uri + "/" + method, uri, body, selectors=selectors, **kwargs)


def call(service, machine, body, user="Administrator"):
    """(reply, parsed envelope) of one request."""
    reply = service.handle(machine, body, user=user)
    return reply, parse(reply.body)


def structure(element, skip_below=()):
    """The set of ``{ns}local`` tag paths under ``element``; the contents of tags whose local name is in
    ``skip_below`` (CIM instances, whose properties differ by class) are not descended into."""
    paths = set()

    def walk(node, prefix):
        path = prefix + "/" + node.tag
        paths.add(path)
        if local(node.tag) in skip_below:
            return
        for child in node:
            walk(child, path)

    walk(element, "")
    return paths


def fault_summary(root):
    """(code value, subcode value, WSManFault codes found anywhere, MSFT_WmiError error_Code or None)."""
    codes = [int(node.get("Code")) for node in root.iter("{%s}WSManFault" % NS["f"])]
    wmi = find(root, "s:Body/s:Fault/s:Detail/wmie:MSFT_WmiError/wmie:error_Code")
    return (text(root, "s:Body/s:Fault/s:Code/s:Value"), text(root, "s:Body/s:Fault/s:Code/s:Subcode/s:Value"),
            codes, int(wmi.text) if wmi is not None else None)
