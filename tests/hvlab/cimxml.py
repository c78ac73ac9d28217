# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIM instances on the wire, as the WMI plugin writes them.

- a whole instance (``SELECT *``, class enumeration, Get): ``<p:Class xmlns:xsi xmlns:p="<class resource URI>"
  xmlns:cim xsi:type="p:Class_Type">`` with one ``p:Prop`` element per property, in the class's order;
- selected properties (``SELECT a, b``): ``<w:XmlFragment>`` with unprefixed elements (txwinrm capture);
- nulls ``xsi:nil="true"`` (null arrays add ``m:IsNullArray="true"``), arrays as repeated elements, datetimes wrapped
  in ``cim:Datetime`` (``Datetime`` in a fragment);
- endpoint references: ``a:EndpointReference`` with ``a:Address`` and ``a:ReferenceParameters`` (ResourceURI +
  SelectorSet), ``__cimnamespace`` added for DMTF resource URIs; a REF out parameter (type ``reference``) carries
  the endpoint-reference XML its method made (``methods_hyperv.endpoint_reference``);
- embedded instances (``embedded_instance`` properties, CIM-XML text) in one of ``EMBEDDED_INSTANCE_FORMS``: escaped
  text (what the WMI plugin does with a string), CDATA, or the INSTANCE element nested unescaped. Which one Windows
  sends is unconfirmed (avma-facts "Unconfirmed" 5); the fleet file picks it per machine;
- embedded objects (``embedded_object`` properties: a property typed by a class, such as MSCluster_Resource's
  PrivateProperties) in one of ``EMBEDDED_OBJECT_FORMS``: ``wscim``, the instance as an element of its own inside the
  property element, one child element per property (DSP0227's mapping of an embedded instance), or ``cim_xml``, its
  CIM-XML text in the machine's embedded-instance form. Which one Windows sends is unconfirmed.
"""

from .cimtypes import to_wire
from .xmlsafe import parse_xml
from .namespaces import ANONYMOUS, CIM_NAMESPACE_SELECTOR, NS, WMI_URI_PREFIX
from .xmltext import element, escape_attribute, escape_text

EMBEDDED_INSTANCE_FORMS = ("escaped", "cdata", "nested")
EMBEDDED_OBJECT_FORMS = ("wscim", "cim_xml")
# The namespace the lab gives the class element of a WS-CIM embedded object (the class's WMI resource URI; the
# embedded classes it serves live in root/MSCluster).
EMBEDDED_OBJECT_NAMESPACE = "root/MSCluster"


def _embedded_text(text, form):
    if form == "cdata":
        return "<![CDATA[%s]]>" % text.replace("]]>", "]]]]><![CDATA[>")
    if form == "nested":
        return text
    return escape_text(text)


def _wscim_object(text):
    """The WS-CIM element of an embedded object stored as CIM-XML text (the lab's own, always well formed)."""
    instance = parse_xml(text)
    class_name = instance.get("CLASSNAME")
    uri = "%s%s/%s" % (WMI_URI_PREFIX, EMBEDDED_OBJECT_NAMESPACE, class_name)
    parts = []
    for prop in instance:
        name, value = prop.get("NAME"), prop.find("VALUE")
        parts.append('<q:%s xsi:nil="true"/>' % name if value is None else "<q:%s>%s</q:%s>" % (name, escape_text(value.text or ""), name))
    body = "".join(parts)
    return '<q:%s xmlns:q="%s" xsi:type="q:%s_Type">%s</q:%s>' % (class_name, escape_attribute(uri), class_name, body, class_name)


def _values(prop, value, tag, datetime_tag, embedded_form="escaped", object_form="wscim"):
    """The element(s) for one property value."""
    if value is None:
        if prop.is_array:
            return '<%s xmlns:m="%s" xsi:nil="true" m:IsNullArray="true"/>' % (tag, NS["p"])
        return '<%s xsi:nil="true"/>' % tag
    items = value if prop.is_array else [value]
    parts = []
    for item in items:
        if prop.cim_type == "reference":
            text = item
        elif prop.cim_type == "embedded_instance":
            text = _embedded_text(item, embedded_form)
        elif prop.cim_type == "embedded_object":
            text = _wscim_object(item) if object_form == "wscim" else _embedded_text(item, embedded_form)
        else:
            text = escape_text(to_wire(prop.cim_type, item))
        if prop.cim_type == "datetime":
            text = "<%s>%s</%s>" % (datetime_tag, text, datetime_tag)
        parts.append("<%s>%s</%s>" % (tag, text, tag))
    return "".join(parts)


def render_instance(cim_class, instance, resource_uri, embedded_form="escaped", object_form="wscim"):
    """A whole instance; ``resource_uri`` is the class's resource URI the client used (WMI or DMTF form)."""
    body = "".join(_values(prop, instance[prop.name], "p:" + prop.name, "cim:Datetime", embedded_form, object_form)
                   for prop in cim_class.properties)
    return '<p:%s xmlns:xsi="%s" xmlns:p="%s" xmlns:cim="%s" xsi:type="p:%s_Type">%s</p:%s>' % (
        cim_class.name, NS["xsi"], escape_attribute(resource_uri), NS["cim"], cim_class.name, body, cim_class.name)


def render_fragment(cim_class, instance, property_names, embedded_form="escaped", object_form="wscim"):
    """The selected properties of an instance as ``w:XmlFragment``, in the class's property order."""
    wanted = {name.lower() for name in property_names}
    body = "".join(_values(prop, instance[prop.name], prop.name, "Datetime", embedded_form, object_form)
                   for prop in cim_class.properties if prop.name.lower() in wanted)
    return '<w:XmlFragment xmlns:xsi="%s" xmlns:w="%s">%s</w:XmlFragment>' % (NS["xsi"], NS["w"], body)


def render_epr(cim_class, instance, resource_uri, cim_namespace=None):
    """The endpoint reference of an instance; ``cim_namespace`` adds the ``__cimnamespace`` selector (DMTF URIs)."""
    selectors = "".join(
        element("w:Selector", to_wire(cim_class.find_property(key).cim_type, instance[key]), {"Name": key})
        for key in cim_class.keys)
    if cim_namespace:
        selectors += element("w:Selector", cim_namespace, {"Name": CIM_NAMESPACE_SELECTOR})
    return (
        '<a:EndpointReference xmlns:a="%s" xmlns:w="%s">' % (NS["a"], NS["w"])
        + element("a:Address", ANONYMOUS)
        + "<a:ReferenceParameters>" + element("w:ResourceURI", resource_uri)
        + "<w:SelectorSet>" + selectors + "</w:SelectorSet></a:ReferenceParameters></a:EndpointReference>"
    )


def render_method_output(method_name, resource_uri, values, types):
    """``<p:Method_OUTPUT>`` with the out parameters sorted case-insensitively (ReturnValue among them).

    ``values`` maps parameter name -> state value; ``types`` maps the same names -> ``CimProperty``.
    """
    body = "".join(_values(types[name], values[name], "p:" + name, "cim:Datetime")
                   for name in sorted(values, key=str.lower))
    return '<p:%s_OUTPUT xmlns:p="%s" xmlns:xsi="%s" xmlns:cim="%s">%s</p:%s_OUTPUT>' % (
        method_name, escape_attribute(resource_uri), NS["xsi"], NS["cim"], body, method_name)
