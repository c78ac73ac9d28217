# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Connection options shared by every module and action plugin: their argument spec, their defaults, and how they
become the settings of one WS-Man client.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

from ansible_collections.hyperv.avma.plugins.module_utils._capture import capture_dir_from
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import TRANSPORTS, WinrmSettings

# pywinrm (and so ansible_winrm_transport) also spells Basic as 'plaintext' (HTTP) and 'ssl' (HTTPS).
TRANSPORT_ALIASES = {"plaintext": "basic", "ssl": "basic", "negotiate": "ntlm"}

# Every option defaults to None here so that "not given" can be told apart from a value: an option the task leaves
# out may still come from the host's winrm/psrp connection before the defaults below apply.
WINRM_ARGUMENT_SPEC = dict(
    winrm_host=dict(type="str"),
    winrm_port=dict(type="int"),
    winrm_scheme=dict(type="str", choices=["http", "https"]),
    winrm_path=dict(type="str"),
    winrm_user=dict(type="str"),
    winrm_password=dict(type="str", no_log=True),
    winrm_transport=dict(type="str", choices=sorted(TRANSPORTS)),
    winrm_server_cert_validation=dict(type="str", choices=["validate", "ignore"]),
    winrm_ca_trust_path=dict(type="path"),
    winrm_message_encryption=dict(type="str", choices=["auto", "always", "never"]),
    winrm_operation_timeout_sec=dict(type="int"),
    winrm_read_timeout_sec=dict(type="int"),
    winrm_cert_pem=dict(type="path"),
    winrm_cert_key_pem=dict(type="path", no_log=False),
    winrm_kerberos_delegation=dict(type="bool"),
    winrm_kerberos_hostname_override=dict(type="str"),
    winrm_kinit_mode=dict(type="str", choices=["managed", "manual"]),
    winrm_kinit_cmd=dict(type="str"),
    winrm_kinit_args=dict(type="str"),
    winrm_kinit_env_vars=dict(type="list", elements="str"),
    winrm_credssp_disable_tlsv1_2=dict(type="bool"),
    winrm_proxy=dict(type="str"),
    winrm_retries=dict(type="int"),
    winrm_retry_max_sec=dict(type="float"),
    winrm_allow_basic_over_http=dict(type="bool"),
    winrm_capture_dir=dict(type="path"),
)

DEFAULTS = dict(
    path="/wsman",
    transport="ntlm",
    server_cert_validation="validate",
    message_encryption="auto",
    operation_timeout_sec=20,
    retries=3,
    retry_max_sec=120.0,
    allow_basic_over_http=False,
)

# The options no winrm or psrp connection setting stands in for: a task's argument spec gives them their defaults, so
# that ansible-doc shows them. Those of WINRM_ARGUMENT_SPEC stay None, where the inventory plugin's per-host entries
# must not override its plugin-wide options.
TASK_WINRM_ARGUMENT_SPEC = dict(
    WINRM_ARGUMENT_SPEC,
    **{name: dict(WINRM_ARGUMENT_SPEC[name], default=DEFAULTS[name[len("winrm_"):]])
       for name in ("winrm_retries", "winrm_retry_max_sec", "winrm_allow_basic_over_http")}
)

HTTP_PORT = 5985
HTTPS_PORT = 5986


def explicit_options(params):
    """The connection options a task gave, keyed without the ``winrm_`` prefix, leaving out those it did not give."""
    return {name[len("winrm_"):]: params[name] for name in WINRM_ARGUMENT_SPEC if params.get(name) is not None}


def build_settings(explicit, inherited=None, label=None):
    """Merge explicit options over those inherited from a connection plugin over the defaults.

    ``explicit`` and ``inherited`` are dicts keyed like WinrmSettings fields (``host``, ``port``, ...). Returns a
    WinrmSettings, which validates itself; what only makes sense at this level (a host at all, Basic over HTTP) is
    checked here. Raises AvmaValueError.
    """
    merged = dict(DEFAULTS)
    merged.update({key: value for key, value in (inherited or {}).items() if value is not None})
    merged.update({key: value for key, value in explicit.items() if value is not None})

    host = merged.get("host")
    if not host:
        raise AvmaValueError("winrm_host is required: the task's host does not use the winrm or psrp connection, "
                             "so give winrm_host (and credentials) explicitly")
    transport = TRANSPORT_ALIASES.get(merged["transport"], merged["transport"])

    port = merged.get("port")
    scheme = merged.get("scheme")
    if scheme is None:
        scheme = "http" if port == HTTP_PORT else "https"
    if port is None:
        port = HTTP_PORT if scheme == "http" else HTTPS_PORT
    if transport == "basic" and scheme == "http" and not merged["allow_basic_over_http"]:
        raise AvmaValueError("refusing Basic authentication over plain HTTP to %s: it sends the password in clear text; "
                             "use winrm_scheme=https or winrm_transport=ntlm, or set winrm_allow_basic_over_http=true" % host)
    operation_timeout = merged["operation_timeout_sec"]

    path = merged["path"]
    return WinrmSettings(
        host=_bare_host(host),
        port=port,
        scheme=scheme,
        path=path if path.startswith("/") else "/" + path,
        user=merged.get("user"),
        password=merged.get("password"),
        transport=transport,
        server_cert_validation=merged["server_cert_validation"],
        ca_trust_path=merged.get("ca_trust_path"),
        message_encryption=merged["message_encryption"],
        operation_timeout_sec=operation_timeout,
        read_timeout_sec=merged.get("read_timeout_sec") or operation_timeout + 10,
        cert_pem=merged.get("cert_pem"),
        cert_key_pem=merged.get("cert_key_pem"),
        kerberos_delegation=bool(merged.get("kerberos_delegation")),
        kerberos_hostname_override=merged.get("kerberos_hostname_override"),
        kinit_mode=merged.get("kinit_mode"),
        kinit_cmd=merged.get("kinit_cmd") or "kinit",
        kinit_args=merged.get("kinit_args"),
        kinit_env_vars=tuple(merged.get("kinit_env_vars") or ()),
        credssp_disable_tlsv1_2=bool(merged.get("credssp_disable_tlsv1_2")),
        proxy=merged.get("proxy"),
        retries=merged["retries"],
        retry_max_sec=float(merged["retry_max_sec"]),
        label=label,
        capture_dir=capture_dir_from(merged.get("capture_dir")),
    )


def _bare_host(host):
    """Accept ``[::1]`` as well as ``::1`` for IPv6 addresses."""
    stripped = host.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        return stripped[1:-1]
    return stripped
