# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.hyperv.avma.plugins.plugin_utils._connection_options import connection_kind, inherited_options


class FakeConnection:
    """Stands in for a connection plugin: only get_option and the load name are read."""

    def __init__(self, load_name, **options):
        self._load_name = load_name
        self._options = options

    def get_option(self, name):
        return self._options.get(name)


def winrm(**options):
    base = dict(remote_addr="127.0.10.11", remote_user="Administrator", remote_password="pw", port=5985, scheme="http",
                path="/wsman", transport=["ntlm"], connection_timeout=None, _extras={})
    base.update(options)
    return FakeConnection("ansible.builtin.winrm", **base)


@pytest.mark.parametrize("load_name, kind", [("winrm", "winrm"), ("ansible.builtin.winrm", "winrm"), ("ansible.legacy.psrp", "psrp"),
                                             ("ssh", None), ("ansible.builtin.local", None)])
def test_connection_kind(load_name, kind):
    assert connection_kind(FakeConnection(load_name)) == kind


def test_winrm_connection_options():
    extras = {"ansible_winrm_ca_trust_path": "/lab/ca.pem", "ansible_winrm_server_cert_validation": "validate",
              "ansible_winrm_message_encryption": "always", "ansible_winrm_operation_timeout_sec": "30",
              "ansible_winrm_kerberos_delegation": "yes", "ansible_winrm_unrelated": "x"}
    options = inherited_options(winrm(_extras=extras))
    assert options == dict(host="127.0.10.11", user="Administrator", password="pw", port=5985, scheme="http", path="/wsman",
                           transport="ntlm", ca_trust_path="/lab/ca.pem", server_cert_validation="validate", message_encryption="always",
                           operation_timeout_sec=30, kerberos_delegation=True)


@pytest.mark.parametrize("user, transport", [("Administrator", "basic"), ("admin@CORP.EXAMPLE.COM", "kerberos")])
def test_winrm_default_transport_is_the_connection_plugins_own(user, transport):
    assert inherited_options(winrm(transport=None, remote_user=user))["transport"] == transport


def test_winrm_connection_timeout_becomes_the_operation_timeout():
    assert inherited_options(winrm(connection_timeout=45))["operation_timeout_sec"] == 45


def test_psrp_connection_options():
    connection = FakeConnection("psrp", remote_addr="hv01", remote_user="CORP\\ansible", remote_password="pw", port=None, protocol="https",
                                path="wsman", auth="negotiate", cert_validation="ignore", ca_cert=None, operation_timeout=20, read_timeout=30)
    options = inherited_options(connection)
    assert options == dict(host="hv01", user="CORP\\ansible", password="pw", scheme="https", path="wsman", transport="negotiate",
                           server_cert_validation="ignore", operation_timeout_sec=20, read_timeout_sec=30)


def test_other_connections_give_nothing():
    assert not inherited_options(FakeConnection("ssh", remote_addr="jump01"))


def test_winrm_kinit_settings_come_from_the_connection_plugin():
    connection = winrm(transport=["kerberos"], remote_user="ops@CORP.EXAMPLE", kerberos_mode="manual", kerberos_command="/opt/krb5/kinit",
                       kinit_args="-f -l 1h", kinit_env_vars=["KRB5_TRACE"])
    options = inherited_options(connection)
    assert (options["transport"], options["kinit_mode"], options["kinit_cmd"], options["kinit_args"], options["kinit_env_vars"]) == (
        "kerberos", "manual", "/opt/krb5/kinit", "-f -l 1h", ["KRB5_TRACE"])
