# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The WS-Management operations over WMI: Identify, Enumerate, Pull, Release, Get and Invoke.

``classify`` names the operation of a parsed request; ``HANDLERS`` maps that name to a function taking an
``Exchange`` (the request and what it runs against) and returning an ``Outcome`` (the response envelope text and
whether state changed). Handlers raise ``WsmanFault`` for everything Windows answers with a fault.
"""

from dataclasses import dataclass

from . import faults, wql
from .cimtypes import CimTypeError, from_wire
from .cimxml import render_epr, render_fragment, render_instance, render_method_output
from .classes_events import WIN32_NT_LOG_EVENT
from .enumeration import take_page
from .methods import MethodCall
from .namespaces import NS, WQL_DIALECT, Action, qname
from .resources import key_selectors, resolve
from .responsexml import ENUMERATION_PREFIXES, TRANSFER_PREFIXES, new_message_id, render_identify_response, render_response

ENUMERATION_MODES = ("EnumerateEPR", "EnumerateObjectAndEPR")
OPERATIONS = ("Identify", "Enumerate", "Pull", "Release", "Get", "Invoke")


@dataclass
class Exchange:
    """One request being served: the parsed ``request``, the ``machine``, the authenticated ``user``, the class
    ``registry``, the ``methods`` table, the lab-wide enumeration ``contexts`` and the whole ``fleet`` (a guest's
    activation consults its Hyper-V host; a host's KVP methods reach into its guests)."""

    request: object
    machine: object
    user: str
    registry: object
    methods: object
    contexts: object
    fleet: object = None

    def respond(self, action, body_xml, prefixes=TRANSFER_PREFIXES):
        return render_response(action, body_xml, relates_to=self.request.message_id, message_id=new_message_id(),
                               operation_id=self.request.operation_id, prefixes=prefixes)

    def resource(self):
        return resolve(self.request.resource_uri, self.request.selectors, self.registry, self.machine.kind)


@dataclass
class Outcome:
    envelope: str
    wrote: bool = False
    detail: str = None      # "Invoke:<Class>.<Method>" for Invoke, counted beside the operation


def classify(request):
    """The operation name of ``request`` (one of ``OPERATIONS``), or ``"Other"`` for an action the lab lacks."""
    if request.action is None and request.body is not None and request.body.tag == qname("wsmid", "Identify"):
        return "Identify"
    by_action = {Action.ENUMERATE: "Enumerate", Action.PULL: "Pull", Action.RELEASE: "Release", Action.GET: "Get"}
    if request.action in by_action:
        return by_action[request.action]
    uri = request.resource_uri
    if request.action and uri and request.action.lower().startswith(uri.lower().rstrip("/") + "/"):
        return "Invoke"
    return "Other"


def _child_text(parent, tag):
    found = parent.find(tag) if parent is not None else None
    return None if found is None else (found.text or "").strip()


def _positive_int(text, name):
    if text is None:
        return 1
    if not text.isdigit() or int(text) < 1:
        raise faults.schema_violation("%s must be a positive integer, got %r" % (name, text))
    return int(text)


def identify(exchange):
    return Outcome(render_identify_response("OS: %s SP: 0.0 Stack: 3.0" % exchange.machine.spec.os.version_string))


def _query_instances(exchange, resource, filter_element):
    """(class, matching instances, selected property names or None) for a WQL filter."""
    dialect = filter_element.get("Dialect")
    if dialect != WQL_DIALECT:
        raise faults.filter_dialect_unavailable(dialect)
    if not resource.all_classes:
        raise faults.wql_needs_all_classes_uri(resource.uri)
    text = "".join(filter_element.itertext()).strip()
    try:
        query = wql.parse(text)
    except wql.WqlError as error:
        raise faults.wql_invalid_query(text, str(error)) from error
    cim_class = exchange.registry.lookup(resource.namespace, query.class_name, exchange.machine.kind)
    if cim_class is None:
        raise faults.wql_invalid_class(text)
    try:
        bound = wql.bind(query, cim_class)
    except wql.WqlError as error:
        raise faults.wql_invalid_query(text, str(error)) from error
    instances = [instance for instance in _instances(exchange, cim_class) if bound.matches(instance)]
    return cim_class, instances, bound.properties


def _instances(exchange, cim_class):
    """The machine's instances of ``cim_class``, brought up to date by the class's ``refresh`` first. Event-log
    records come oldest first, or newest first on a machine with ``wire.event_order: newest_first`` (the order
    Windows enumerates Win32_NTLogEvent in is not documented)."""
    if cim_class.refresh is not None:
        cim_class.refresh(exchange.machine)
    instances = exchange.machine.store.instances(cim_class)
    if cim_class.name == WIN32_NT_LOG_EVENT.name and exchange.machine.spec.wire.event_order == "newest_first":
        return list(reversed(list(instances)))
    return instances


def _render_item(resource, cim_class, instance, properties, mode, wire):
    uri = resource.class_uri(cim_class)
    if properties is None:
        data = render_instance(cim_class, instance, uri, wire.embedded_instance_form, wire.embedded_object_form)
    else:
        data = render_fragment(cim_class, instance, properties, wire.embedded_instance_form, wire.embedded_object_form)
    if mode is None:
        return data
    epr = render_epr(cim_class, instance, uri, resource.epr_namespace)
    if mode == "EnumerateEPR":
        return epr
    return '<w:Item xmlns:w="%s">%s%s</w:Item>' % (NS["w"], data, epr)


def enumerate_(exchange):
    body = exchange.request.body
    if body is None or body.tag != qname("n", "Enumerate"):
        raise faults.schema_violation("an Enumerate request needs an n:Enumerate body")
    resource = exchange.resource()
    mode = _child_text(body, qname("w", "EnumerationMode"))
    if mode is not None and mode not in ENUMERATION_MODES:
        raise faults.unsupported_enumeration_mode(mode)
    filter_element = body.find(qname("w", "Filter"))
    if filter_element is not None:
        cim_class, instances, properties = _query_instances(exchange, resource, filter_element)
    elif resource.all_classes:
        raise faults.filtering_required(resource.uri)
    else:
        cim_class, properties = resource.cim_class, None
        instances = _instances(exchange, cim_class)
    wire = exchange.machine.spec.wire
    items = [_render_item(resource, cim_class, instance, properties, mode, wire) for instance in instances]
    context = exchange.contexts.open(exchange.machine.name, items)
    if body.find(qname("w", "OptimizeEnumeration")) is None:
        return Outcome(exchange.respond(
            Action.ENUMERATE_RESPONSE, _enumerate_body(context.context_id, [], False), ENUMERATION_PREFIXES))
    max_elements = _positive_int(_child_text(body, qname("w", "MaxElements")), "MaxElements")
    return Outcome(_next_page(exchange, context, max_elements, Action.ENUMERATE_RESPONSE, _enumerate_body))


def _enumerate_body(context_id, items, done):
    parts = ["<n:EnumerateResponse>", "<n:EnumerationContext/>" if done else
             "<n:EnumerationContext>%s</n:EnumerationContext>" % context_id]
    if items:
        parts.append("<w:Items>%s</w:Items>" % "".join(items))
    if done:
        parts.append("<w:EndOfSequence/>")
    parts.append("</n:EnumerateResponse>")
    return "".join(parts)


def _pull_body(context_id, items, done):
    parts = ["<n:PullResponse>"]
    if not done:
        parts.append("<n:EnumerationContext>%s</n:EnumerationContext>" % context_id)
    if items:
        parts.append("<n:Items>%s</n:Items>" % "".join(items))
    if done:
        parts.append("<n:EndOfSequence/>")
    parts.append("</n:PullResponse>")
    return "".join(parts)


def _next_page(exchange, context, max_elements, action, body_builder):
    """The envelope carrying as many of the context's next items as MaxElements, the machine's MaxBatchItems and
    MaxEnvelopeSize allow."""
    limit = exchange.request.max_envelope_size
    remaining = context.items[context.position:]
    # Overhead of the envelope around the items, measured with a one-character stand-in item, for both endings.
    overhead = max(len(exchange.respond(action, body_builder(context.context_id, ["x"], done), ENUMERATION_PREFIXES)
                       .encode("utf-8")) - 1 for done in (False, True))
    count = take_page(remaining, min(max_elements, exchange.machine.spec.winrm_config.max_batch_items), limit - overhead)
    if remaining and count == 0:
        exchange.contexts.close(context)
        needed = overhead + len(remaining[0].encode("utf-8"))
        raise faults.response_too_large(needed, limit)
    context.position += count
    done = context.remaining == 0
    if done:
        exchange.contexts.close(context)
    return exchange.respond(action, body_builder(context.context_id, remaining[:count], done), ENUMERATION_PREFIXES)


def pull(exchange):
    body = exchange.request.body
    if body is None or body.tag != qname("n", "Pull"):
        raise faults.schema_violation("a Pull request needs an n:Pull body")
    context = exchange.contexts.take(exchange.machine.name, _child_text(body, qname("n", "EnumerationContext")))
    max_elements = _positive_int(_child_text(body, qname("n", "MaxElements")), "MaxElements")
    return Outcome(_next_page(exchange, context, max_elements, Action.PULL_RESPONSE, _pull_body))


def release(exchange):
    body = exchange.request.body
    if body is None or body.tag != qname("n", "Release"):
        raise faults.schema_violation("a Release request needs an n:Release body")
    context = exchange.contexts.take(exchange.machine.name, _child_text(body, qname("n", "EnumerationContext")))
    exchange.contexts.close(context)
    return Outcome(exchange.respond(Action.RELEASE_RESPONSE, "", ENUMERATION_PREFIXES))


def _class_resource(exchange):
    resource = exchange.resource()
    if resource.all_classes:
        raise faults.unknown_resource_uri(resource.uri)
    return resource


def _target_instance(exchange, resource):
    """The instance a Get or an instance Invoke addresses with its selectors."""
    cim_class = resource.cim_class
    keys = key_selectors(resource, exchange.request.selectors)
    instances = _instances(exchange, cim_class)
    if not keys:
        if not cim_class.singleton:
            raise faults.singleton_needs_selectors()
        if not instances:
            raise faults.instance_not_found()
        return instances[0]
    instance = exchange.machine.store.find(cim_class, keys)
    if instance is None:
        raise faults.instance_not_found()
    return instance


# The CIM-XML schema resource of PowerShell CIM sessions (shared/reference/wire/cim_get_class_schema_request_real.xml):
# a Get with the __cimnamespace and ClassName selectors answers the class definition. Its answer's shape is not in
# any public capture; the lab answers a DSP0201 CLASS element, embedded-instance properties as strings with an
# EmbeddedInstance qualifier (as the MOF declares them), embedded objects the same way, naming their class.
CIM_XML_SCHEMA_URI = "http://schemas.dmtf.org/wbem/cim-xml/2/cim-schema/2/*"
_CIM_XML_TYPES = {"embedded_instance": "string", "embedded_object": "string"}
_EMBEDDED_CLASSES = {"embedded_instance": "Msvm_KvpExchangeDataItem", "embedded_object": "MSCluster_Property"}


def _class_schema(exchange):
    namespace = (exchange.request.selector("__cimnamespace") or "").replace("\\", "/")
    class_name = exchange.request.selector("ClassName") or ""
    cim_class = exchange.registry.lookup(namespace, class_name, exchange.machine.kind)
    if cim_class is None:
        raise faults.invalid_class(namespace, class_name)
    parts = ['<CLASS NAME="%s">' % cim_class.name]
    for prop in cim_class.properties:
        key = '<QUALIFIER NAME="key" TYPE="boolean"><VALUE>true</VALUE></QUALIFIER>' if prop.name in cim_class.keys else ""
        if prop.cim_type == "reference":
            parts.append('<PROPERTY.REFERENCE NAME="%s">%s</PROPERTY.REFERENCE>' % (prop.name, key))
            continue
        embedded = ('<QUALIFIER NAME="EmbeddedInstance" TYPE="string"><VALUE>%s</VALUE></QUALIFIER>' % _EMBEDDED_CLASSES[prop.cim_type]
                    if prop.cim_type in _EMBEDDED_CLASSES else "")
        tag = "PROPERTY.ARRAY" if prop.is_array else "PROPERTY"
        parts.append('<%s NAME="%s" TYPE="%s">%s%s</%s>' % (tag, prop.name, _CIM_XML_TYPES.get(prop.cim_type, prop.cim_type), key, embedded, tag))
    parts.append("</CLASS>")
    return Outcome(exchange.respond(Action.GET_RESPONSE, "".join(parts)))


def get(exchange):
    if (exchange.request.resource_uri or "").lower() == CIM_XML_SCHEMA_URI.lower():
        return _class_schema(exchange)
    resource = _class_resource(exchange)
    instance = _target_instance(exchange, resource)
    wire = exchange.machine.spec.wire
    body = render_instance(resource.cim_class, instance, resource.class_uri(resource.cim_class),
                           wire.embedded_instance_form, wire.embedded_object_form)
    return Outcome(exchange.respond(Action.GET_RESPONSE, body))


def _read_parameters(spec, body):
    """Typed input parameters from ``<p:Method_INPUT>``; every declared parameter present (None when not sent)."""
    params = {prop.name: None for prop in spec.in_params}
    if body is None:
        return params
    if body.tag.rpartition("}")[2].lower() != (spec.name + "_INPUT").lower():
        raise faults.invalid_method_parameters(spec.class_name, spec.name, "The body must be %s_INPUT." % spec.name)
    arrays = {}
    for child in body:
        name = child.tag.rpartition("}")[2]
        prop = spec.in_param(name)
        if prop is None:
            raise faults.invalid_method_parameters(spec.class_name, spec.name,
                                                   "%s has no parameter %s." % (spec.name, name))
        if child.get(qname("xsi", "nil"), "").lower() == "true":
            value = None
        elif prop.cim_type == "reference":
            value = child   # an endpoint reference: the method reads its address and selectors
        else:
            try:
                value = from_wire(prop.cim_type, child.text or "")
            except CimTypeError as error:
                raise faults.invalid_method_parameters(spec.class_name, spec.name, "%s: %s." % (name, error)) from error
        if prop.is_array:
            arrays.setdefault(prop.name, []).append(value)
        else:
            params[prop.name] = value
    params.update(arrays)
    return params


def invoke(exchange):
    request = exchange.request
    resource = _class_resource(exchange)
    cim_class = resource.cim_class
    method_name = request.action[len(request.resource_uri.rstrip("/")) + 1:]
    spec = exchange.methods.lookup(resource.namespace, cim_class.name, method_name)
    if spec is None:
        raise faults.method_not_found(cim_class.name, method_name)
    instance = None if spec.static else _target_instance(exchange, resource)
    params = _read_parameters(spec, request.body)
    call = MethodCall(machine=exchange.machine, cim_class=cim_class, instance=instance, params=params, user=exchange.user,
                      fleet=exchange.fleet)
    result = spec.handler(call)
    values = dict(result.out, ReturnValue=result.return_value)
    body = render_method_output(spec.name, resource.class_uri(cim_class), values, spec.output_types)
    return Outcome(exchange.respond(request.action + "Response", body), wrote=result.wrote,
                   detail="Invoke:%s.%s" % (cim_class.name, spec.name))


HANDLERS = {
    "Identify": identify,
    "Enumerate": enumerate_,
    "Pull": pull,
    "Release": release,
    "Get": get,
    "Invoke": invoke,
}
