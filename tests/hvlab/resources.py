# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolve a request's resource URI to a WMI namespace and class, as the WMI plugin does.

Two URI forms reach WMI (MS-WSMV 2.2.1, and the captures in shared/reference/wire/):

- ``http://schemas.microsoft.com/wbem/wsman/1/wmi/<namespace>/<Class>`` or ``.../<namespace>/*`` (all classes,
  for WQL), the form winrm.cmd, pywinrm users and libvirt use;
- ``http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/<Class>`` (or ``http://schemas.dmtf.org/wbem/wscim/1/*``)
  with the namespace in the ``__cimnamespace`` selector, the form of PowerShell CIM sessions.
"""

from dataclasses import dataclass

from . import faults
from .namespaces import CIM_NAMESPACE_SELECTOR, DEFAULT_CIM_NAMESPACE, DMTF_URI_PREFIX, WMI_URI_PREFIX

DMTF_ALL_CLASSES = "http://schemas.dmtf.org/wbem/wscim/1/*"


@dataclass(frozen=True)
class Resource:
    """``namespace`` as the client wrote it, ``cim_class`` the resolved class (None for the all-classes URI),
    ``dmtf`` True for the DMTF form."""

    uri: str
    namespace: str
    cim_class: object
    dmtf: bool

    @property
    def all_classes(self):
        return self.cim_class is None

    def class_uri(self, cim_class):
        """The resource URI of ``cim_class`` in the form the client used (xmlns:p of instances, EPRs)."""
        return cim_class.dmtf_resource_uri if self.dmtf else cim_class.wmi_resource_uri

    @property
    def epr_namespace(self):
        return self.namespace if self.dmtf else None


def resolve(resource_uri, selectors, registry, machine_kind):
    """A ``Resource`` for ``resource_uri``; ``WsmanFault`` for a URI outside WMI, an unknown namespace or class."""
    if not resource_uri:
        raise faults.header_required("ResourceURI")
    lowered = resource_uri.lower()
    if lowered.startswith(WMI_URI_PREFIX):
        namespace, _slash, class_name = resource_uri[len(WMI_URI_PREFIX):].rpartition("/")
        dmtf = False
    elif lowered.startswith(DMTF_URI_PREFIX) or lowered == DMTF_ALL_CLASSES:
        class_name = "*" if lowered == DMTF_ALL_CLASSES else resource_uri[len(DMTF_URI_PREFIX):]
        namespace = _selector(selectors, CIM_NAMESPACE_SELECTOR) or DEFAULT_CIM_NAMESPACE
        dmtf = True
    else:
        raise faults.unknown_resource_uri(resource_uri)
    namespace = namespace.replace("\\", "/")
    if not namespace or not class_name or "/" in class_name:
        raise faults.unknown_resource_uri(resource_uri)
    if not registry.has_namespace(namespace, machine_kind):
        raise faults.invalid_namespace(namespace)
    if class_name == "*":
        return Resource(resource_uri, namespace, None, dmtf)
    cim_class = registry.lookup(namespace, class_name, machine_kind)
    if cim_class is None:
        raise faults.invalid_class(namespace, class_name)
    return Resource(resource_uri, namespace, cim_class, dmtf)


def _selector(selectors, name):
    for key, value in selectors.items():
        if key.lower() == name.lower():
            return value
    return None


def key_selectors(resource, selectors):
    """The key selectors of a Get/Invoke, checked against the class; ``{}`` means "no keys given".

    ``__cimnamespace`` is not a key. Unknown selectors give the UnexpectedSelectors fault, a partial key set the
    InsufficientSelectors fault.
    """
    cim_class = resource.cim_class
    keys = {name: value for name, value in selectors.items() if name.lower() != CIM_NAMESPACE_SELECTOR}
    unexpected = [name for name in keys if name.lower() not in {key.lower() for key in cim_class.keys}]
    if unexpected:
        raise faults.unexpected_selectors(unexpected)
    if keys:
        missing = [key for key in cim_class.keys if key.lower() not in {name.lower() for name in keys}]
        if missing:
            raise faults.insufficient_selectors(missing)
    return keys
