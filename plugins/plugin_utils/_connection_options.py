# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read the endpoint and credentials that the task host's winrm or psrp connection plugin has already resolved.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

# ansible_winrm_* variables that pywinrm's Protocol takes and that mean the same for our client.
_WINRM_EXTRAS = {
    "ansible_winrm_server_cert_validation": "server_cert_validation",
    "ansible_winrm_ca_trust_path": "ca_trust_path",
    "ansible_winrm_message_encryption": "message_encryption",
    "ansible_winrm_operation_timeout_sec": "operation_timeout_sec",
    "ansible_winrm_read_timeout_sec": "read_timeout_sec",
    "ansible_winrm_cert_pem": "cert_pem",
    "ansible_winrm_cert_key_pem": "cert_key_pem",
    "ansible_winrm_kerberos_delegation": "kerberos_delegation",
    "ansible_winrm_kerberos_hostname_override": "kerberos_hostname_override",
    "ansible_winrm_credssp_disable_tlsv1_2": "credssp_disable_tlsv1_2",
    "ansible_winrm_proxy": "proxy",
}

_PSRP_OPTIONS = {
    "remote_addr": "host",
    "remote_user": "user",
    "remote_password": "password",
    "port": "port",
    "protocol": "scheme",
    "path": "path",
    "auth": "transport",
    "cert_validation": "server_cert_validation",
    "ca_cert": "ca_trust_path",
    "message_encryption": "message_encryption",
    "operation_timeout": "operation_timeout_sec",
    "read_timeout": "read_timeout_sec",
    "proxy": "proxy",
    "certificate_pem": "cert_pem",
    "certificate_key_pem": "cert_key_pem",
    "credssp_disable_tlsv1_2": "credssp_disable_tlsv1_2",
    "negotiate_delegate": "kerberos_delegation",
    "negotiate_hostname_override": "kerberos_hostname_override",
}

_INT_FIELDS = ("port", "operation_timeout_sec", "read_timeout_sec")
_BOOL_FIELDS = ("kerberos_delegation", "credssp_disable_tlsv1_2")
_TRUE_STRINGS = ("1", "true", "yes", "on")

WINDOWS_CONNECTIONS = ("winrm", "psrp")


def connection_kind(connection):
    """'winrm' or 'psrp' when the connection plugin is one of those (FQCN or short name), else None."""
    name = getattr(connection, "_load_name", "") or ""
    short = name.rsplit(".", 1)[-1]
    return short if short in WINDOWS_CONNECTIONS else None


def inherited_options(connection):
    """Options of a winrm or psrp connection plugin, keyed like WinrmSettings fields; {} for any other connection."""
    kind = connection_kind(connection)
    if kind == "winrm":
        options = _from_winrm(connection)
    elif kind == "psrp":
        options = {field: connection.get_option(name) for name, field in _PSRP_OPTIONS.items()}
    else:
        return {}
    return _coerced(options)


def _from_winrm(connection):
    transport = connection.get_option("transport")
    if isinstance(transport, (list, tuple)):
        transport = transport[0] if transport else None
    user = connection.get_option("remote_user")
    if not transport:
        # The winrm connection plugin's own choice when no transport is set: Kerberos for a UPN, else Basic.
        transport = "kerberos" if user and "@" in user else "basic"
    options = {
        "host": connection.get_option("remote_addr"),
        "user": user,
        "password": connection.get_option("remote_password"),
        "port": connection.get_option("port"),
        "scheme": connection.get_option("scheme"),
        "path": connection.get_option("path"),
        "transport": transport,
    }
    # The winrm connection's own kinit settings (ansible_winrm_kinit_mode, _kinit_cmd, _kinit_args, _kinit_env_vars).
    for name, field in (("kerberos_mode", "kinit_mode"), ("kerberos_command", "kinit_cmd"), ("kinit_args", "kinit_args"),
                        ("kinit_env_vars", "kinit_env_vars")):
        options[field] = connection.get_option(name)
    timeout = connection.get_option("connection_timeout")
    if timeout:
        options["operation_timeout_sec"] = timeout
    extras = connection.get_option("_extras") or {}
    for variable, field in _WINRM_EXTRAS.items():
        if extras.get(variable) is not None:
            options[field] = extras[variable]
    return options


def _coerced(options):
    """Inventory variables often arrive as strings: give the typed fields their types."""
    result = {}
    for field, value in options.items():
        if value is None:
            continue
        if field in _INT_FIELDS:
            value = int(value)
        elif field in _BOOL_FIELDS and isinstance(value, str):
            value = value.strip().lower() in _TRUE_STRINGS
        elif field == "server_cert_validation" and isinstance(value, bool):
            value = "validate" if value else "ignore"
        result[field] = value
    return result
