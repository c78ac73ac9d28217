# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._connection import WINRM_ARGUMENT_SPEC, build_settings, explicit_options
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError


def settings(**explicit):
    return build_settings(explicit, label="web01")


def test_explicit_options_drop_the_prefix_and_the_unset():
    params = {name: None for name in WINRM_ARGUMENT_SPEC}
    params.update(winrm_host="web01", winrm_port=5985, winrm_user="admin")
    assert explicit_options(params) == dict(host="web01", port=5985, user="admin")


def test_defaults_are_https_on_5986_with_ntlm_and_validation():
    result = settings(host="web01", user="admin", password="secret")
    assert (result.scheme, result.port, result.path, result.transport) == ("https", 5986, "/wsman", "ntlm")
    assert result.server_cert_validation == "validate"
    assert result.read_timeout_sec > result.operation_timeout_sec
    assert result.label == "web01"


@pytest.mark.parametrize("given, scheme, port", [
    (dict(port=5985), "http", 5985),
    (dict(scheme="http"), "http", 5985),
    (dict(scheme="https", port=443), "https", 443),
    (dict(port=8443), "https", 8443),
])
def test_scheme_and_port_follow_each_other(given, scheme, port):
    result = settings(host="web01", user="admin", password="x", **given)
    assert (result.scheme, result.port) == (scheme, port)


def test_explicit_options_override_inherited_ones():
    inherited = dict(host="10.0.0.5", user="inventory-user", password="inventory-password", port=5985, transport="ntlm")
    result = build_settings(dict(user="task-user", password="task-password"), inherited, label="web01")
    assert (result.host, result.user, result.password, result.port) == ("10.0.0.5", "task-user", "task-password", 5985)


@pytest.mark.parametrize("alias", ["plaintext", "ssl"])
def test_pywinrm_basic_aliases(alias):
    assert settings(host="web01", user="a", password="b", scheme="https", transport=alias).transport == "basic"


def test_basic_over_http_is_refused_unless_allowed():
    with pytest.raises(AvmaValueError, match="refusing Basic authentication over plain HTTP"):
        settings(host="web01", user="a", password="secret", scheme="http", transport="basic")
    allowed = settings(host="web01", user="a", password="secret", scheme="http", transport="basic", allow_basic_over_http=True)
    assert allowed.transport == "basic"


@pytest.mark.parametrize("given, message", [
    (dict(), "winrm_host is required"),
    (dict(host="web01", transport="ntlm"), "needs user and password"),
    (dict(host="web01", transport="certificate"), "needs cert_pem and cert_key_pem"),
    (dict(host="web01", user="a", password="b", transport="digest"), "transport must be one of"),
    (dict(host="web01", user="a", password="b", port=70000), "port must be 1-65535"),
    (dict(host="web01", user="a", password="b", operation_timeout_sec=30, read_timeout_sec=30), "must be greater"),
    (dict(host="web01", user="a", password="b", retries=-1), "must not be negative"),
    (dict(host="http://web01/wsman", user="a", password="b"), "host must be a host name"),
])
def test_invalid_settings_are_refused_before_any_request(given, message):
    with pytest.raises(AvmaValueError, match=message):
        settings(**given)


def test_bracketed_ipv6_address():
    assert settings(host="[::1]", user="a", password="b").host == "::1"


def test_password_is_not_in_the_settings_repr():
    assert "s3cr3t" not in repr(settings(host="web01", user="a", password="s3cr3t"))


def test_path_gets_its_leading_slash():
    assert settings(host="web01", user="a", password="b", path="wsman").path == "/wsman"
