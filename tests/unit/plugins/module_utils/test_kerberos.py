# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kinit mode managed with a stand-in kinit, and the one-line explanations of each transport's authentication failures
(the texts are those MIT Kerberos, pykerberos and OpenSSL give; tests/integration/test_transports.py provokes them)."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.hyperv.avma.plugins.module_utils import _kerberos
from ansible_collections.hyperv.avma.plugins.module_utils._connection import build_settings
from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaValueError
from ansible_collections.hyperv.avma.plugins.plugin_utils._run_command import run_command
from ansible_collections.hyperv.avma.plugins.module_utils._kerberos import (
    KinitError,
    certificate_not_trusted,
    kerberos_failure,
    kinit,
    kinit_failure,
    refused_401,
    uses_kinit,
)

PRINCIPAL = "ops@HVLAB.TEST"


@pytest.mark.parametrize("transport, mode, password, expected", [
    ("kerberos", None, "pw", True),
    ("kerberos", None, None, False),
    ("kerberos", None, "", False),
    ("kerberos", "manual", "pw", False),
    ("kerberos", "managed", "pw", True),
    ("ntlm", "managed", "pw", False),
])
def test_kinit_runs_in_managed_mode_which_a_password_implies(transport, mode, password, expected):
    assert uses_kinit(transport, mode, password) is expected


@pytest.fixture()
def private_cache(monkeypatch, tmp_path):
    """A fresh process-wide cache state, and KRB5CCNAME restored afterwards."""
    monkeypatch.setattr(_kerberos, "_ccache_dir", None)
    monkeypatch.setattr(_kerberos, "_tickets", {})
    monkeypatch.setattr(_kerberos, "command_runner", run_command)
    monkeypatch.delenv("KRB5CCNAME", raising=False)
    monkeypatch.setenv("KRB5_CONFIG", str(tmp_path / "krb5.conf"))
    monkeypatch.setenv("UNRELATED_SECRET", "x")
    return tmp_path


def fake_kinit(directory, *, fail_with=None):
    """A kinit stand-in that records its arguments, stdin and environment, and fails with ``fail_with`` on stderr."""
    script = directory / "kinit"
    record = directory / "record"
    failure = "echo %r >&2; exit 1" % fail_with if fail_with else "exit 0"
    script.write_text("#!/bin/sh\necho \"$@\" > %s.args\ncat > %s.stdin\nenv > %s.env\n%s\n" % (record, record, record, failure))
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script), record


def test_kinit_gets_the_ticket_into_a_private_collection(private_cache):
    command, record = fake_kinit(private_cache)
    collection = kinit(PRINCIPAL, "s3cret", kinit_cmd=command, delegation=True)
    assert collection.startswith("DIR:") and os.path.isdir(collection[4:])
    assert oct(os.stat(collection[4:]).st_mode & 0o777) == "0o700"
    assert os.environ["KRB5CCNAME"] == collection
    # The password goes through stdin only; a delegated ticket is forwardable (-f).
    assert (record.parent / "record.args").read_text().split() == ["-f", PRINCIPAL]
    assert (record.parent / "record.stdin").read_text() == "s3cret\n"
    env = dict(line.split("=", 1) for line in (record.parent / "record.env").read_text().splitlines() if "=" in line)
    assert env["KRB5CCNAME"] == collection and env["KRB5_CONFIG"] == str(private_cache / "krb5.conf")
    assert "UNRELATED_SECRET" not in env


def test_kinit_args_replace_the_delegation_flag_and_a_ticket_is_fetched_once(private_cache):
    command, record = fake_kinit(private_cache)
    kinit(PRINCIPAL, "s3cret", kinit_cmd=command, kinit_args="-l 1h -r '2 h'", delegation=True)
    assert (record.parent / "record.args").read_text().split() == ["-l", "1h", "-r", "2", "h", PRINCIPAL]
    (record.parent / "record.args").unlink()
    kinit(PRINCIPAL, "s3cret", kinit_cmd=command)
    assert not (record.parent / "record.args").exists()


def test_kinit_failure_is_one_line_without_the_password(private_cache):
    command, _record = fake_kinit(private_cache, fail_with="kinit: Password incorrect while getting initial credentials (s3cret)")
    with pytest.raises(KinitError) as caught:
        kinit(PRINCIPAL, "s3cret", kinit_cmd=command)
    assert str(caught.value) == ("kinit for ops@HVLAB.TEST: wrong password (kinit: Password incorrect while getting initial "
                                 "credentials (********)); check winrm_password / ansible_password")
    assert "KRB5CCNAME" not in os.environ


def test_missing_kinit_says_what_to_install(private_cache):
    with pytest.raises(KinitError, match="kinit command '/nonexistent/kinit' not found: install the Kerberos client tools"):
        kinit(PRINCIPAL, "s3cret", kinit_cmd="/nonexistent/kinit")


@pytest.mark.parametrize("stderr, expected", [
    ("kinit: Password incorrect while getting initial credentials", "wrong password"),
    ("kinit: Preauthentication failed while getting initial credentials", "wrong password"),
    ("kinit: Client 'nobody@HVLAB.TEST' not found in Kerberos database while getting initial credentials", "does not know this user"),
    ("kinit: Clock skew too great while getting initial credentials", "synchronise the controller's clock (NTP)"),
    ("kinit: Cannot find KDC for realm \"CORP.EXAMPLE\" while getting initial credentials", "check the realm's kdc entries in krb5.conf"),
    ("kinit: Cannot contact any KDC for realm 'HVLAB.TEST' while getting initial credentials", "no KDC reachable"),
    ("kinit: something new", "kinit for ops@HVLAB.TEST failed: kinit: something new"),
])
def test_kinit_failures(stderr, expected):
    assert expected in kinit_failure(PRINCIPAL, stderr + "\n")


@pytest.mark.parametrize("text, expected", [
    ("authGSSClientStep() failed: (('Unspecified GSS failure.  Minor code may provide more information', 851968), "
     "('Server HTTP/nosuch.hvlab.test@HVLAB.TEST not found in Kerberos database', -1765328377))",
     "the KDC has no service principal HTTP/g1.hvlab.test: set winrm_kerberos_hostname_override"),
    ("authGSSClientStep() failed: (('No Kerberos credentials available (default cache: FILE:/tmp/krb5cc_0)', -1765328243))",
     "no Kerberos ticket for this user: run kinit"),
    ("authGSSClientInit() failed: (('No credentials were supplied, or the credentials were unavailable or inaccessible', 458752), "
     "(\"Can't find client principal ops@HVLAB.TEST in cache collection\", -1765328243))", "no Kerberos ticket for this user"),
    ("authGSSClientStep() failed: (('The referenced credential has expired', 720896), ('Ticket expired', -1765328352))",
     "the Kerberos ticket has expired: run kinit again"),
    ("authGSSClientStep() failed: (('Unspecified GSS failure', 851968), ('Clock skew too great', -1765328347))",
     "synchronise the controller's clock (NTP)"),
    ("authGSSClientStep() failed: (('Unspecified GSS failure', 851968), ('Something else', 1))", "Kerberos failure: authGSSClientStep()"),
    ("HTTPConnectionPool(host='127.0.0.1', port=5985): Max retries exceeded (Connection refused)", None),
])
def test_kerberos_client_failures(text, expected):
    line = kerberos_failure(text, host="127.0.61.10", hostname_override="g1.hvlab.test")
    if expected is None:
        assert line is None
    else:
        assert expected in line and "\n" not in line


@pytest.mark.parametrize("transport, expected", [
    ("kerberos", "check that HTTP/g1.hvlab.test is this machine's own service principal"),
    ("credssp", "Enable-WSManCredSSP -Role Server"),
    ("certificate", "create a WinRM certificate mapping"),
    ("ntlm", "HTTP 401"),
])
def test_each_transport_explains_a_401(transport, expected):
    assert expected in refused_401(transport, host="127.0.61.10", hostname_override="g1.hvlab.test")


@pytest.mark.parametrize("text, trusted", [
    ("[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca (_ssl.c:2580)", False),
    ("EOF occurred in violation of protocol (_ssl.c:2427)", False),
    ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate", True),
])
def test_a_refused_client_certificate_is_told_from_a_server_certificate_problem(text, trusted):
    assert (certificate_not_trusted(text) is None) is trusted


def test_managed_kinit_needs_user_and_password():
    with pytest.raises(AvmaValueError, match="kinit_mode managed needs the user"):
        build_settings(dict(host="g1", transport="kerberos", kinit_mode="managed", user=PRINCIPAL))
    settings = build_settings(dict(host="g1", transport="kerberos", user=PRINCIPAL, kinit_env_vars=["KRB5_TRACE"]))
    assert (settings.kinit_mode, settings.kinit_cmd, settings.kinit_env_vars) == (None, "kinit", ("KRB5_TRACE",))


def test_a_process_that_cannot_run_commands_says_to_kinit_by_hand(private_cache, monkeypatch):
    monkeypatch.setattr(_kerberos, "command_runner", None)
    with pytest.raises(_kerberos.KinitError, match="winrm_kinit_mode: manual"):
        _kerberos.kinit("ops@HVLAB.TEST", "secret")
