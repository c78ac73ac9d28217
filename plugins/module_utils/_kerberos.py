# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Kerberos on the controller: kinit into a private credential cache (kinit mode ``managed``, as the winrm connection
plugin does), and one-line explanations of the failures of every transport's authentication.

FOR INTERNAL COLLECTION USE ONLY: this file may change in any release.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shlex
import shutil
import tempfile
import threading

KINIT_MODES = ("managed", "manual")
# kinit runs with a blank environment but these (and those of winrm_kinit_env_vars): where krb5.conf is, and PATH.
_KINIT_ENV_ALWAYS = ("PATH", "KRB5_CONFIG", "KRB5_TRACE")
_KINIT_TIMEOUT_SEC = 60

_CCACHE_LOCK = threading.Lock()
_ccache_dir: str | None = None
_tickets: dict[tuple[str, str], str] = {}
# How this process runs kinit: ``(command, stdin bytes, env, timeout) -> (return code, stderr text)``, set by the
# entry point (plugin_utils/_run_command.py for the plugins, AnsibleModule.run_command for modules).
command_runner = None


class KinitError(Exception):
    """kinit could not get a ticket; the message is one line that says why and what to do."""


def uses_kinit(transport: str, kinit_mode: str | None, password: str | None) -> bool:
    """Whether the client must get its own ticket: ``managed`` mode, which is the default when a password is given."""
    if transport != "kerberos":
        return False
    if kinit_mode is None:
        return bool(password)
    return kinit_mode == "managed"


def kinit(principal: str, password: str, *, kinit_cmd: str = "kinit", kinit_args: str | None = None,
          delegation: bool = False, env_vars: tuple[str, ...] = ()) -> str:
    """Get a ticket for ``principal`` into this process's private credential cache collection and point
    ``KRB5CCNAME`` at it; return the collection's name.

    The collection (``DIR:``, one cache per principal) lives in a private temporary directory removed at exit, so
    several hosts with different users can be served by one process (the inventory plugin's threads). A ticket is
    fetched once per principal and password. Raises KinitError.
    """
    global _ccache_dir  # pylint: disable=global-statement
    digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
    with _CCACHE_LOCK:
        if _ccache_dir is None:
            _ccache_dir = tempfile.mkdtemp(prefix="hyperv-avma-krb5cc-")
            atexit.register(shutil.rmtree, _ccache_dir, True)
        collection = "DIR:" + _ccache_dir
        if _tickets.get((principal, digest)) == collection:
            return collection
        command = [kinit_cmd]
        if kinit_args:
            command.extend(argument for argument in shlex.split(kinit_args) if argument.strip())
        elif delegation:
            command.append("-f")
        command.append(principal)
        env = {name: os.environ[name] for name in (*_KINIT_ENV_ALWAYS, *env_vars) if name in os.environ}
        env["KRB5CCNAME"] = collection
        if command_runner is None:
            raise KinitError(f"kinit for {principal}: this process cannot run commands; run kinit yourself (winrm_kinit_mode: manual)")
        try:
            returncode, stderr = command_runner(command, (password + "\n").encode("utf-8"), env, _KINIT_TIMEOUT_SEC)
        except FileNotFoundError as exc:
            raise KinitError(f"kinit command {kinit_cmd!r} not found: install the Kerberos client tools (Debian krb5-user, "
                             f"RHEL krb5-workstation) or set winrm_kinit_cmd / ansible_winrm_kinit_cmd") from exc
        except (OSError, TimeoutError) as exc:
            raise KinitError(f"kinit for {principal} failed: {exc}") from exc
        if returncode != 0:
            text = stderr.replace(password, "********")
            raise KinitError(kinit_failure(principal, text))
        _tickets[(principal, digest)] = collection
        os.environ["KRB5CCNAME"] = collection
        return collection


def kinit_failure(principal: str, stderr: str) -> str:
    """One line for kinit's failure: the cause, then what to do."""
    detail = " ".join(stderr.split())
    lowered = detail.lower()
    if "password incorrect" in lowered or "preauthentication failed" in lowered:
        return f"kinit for {principal}: wrong password ({detail}); check winrm_password / ansible_password"
    if "client" in lowered and "not found in kerberos database" in lowered:
        return f"kinit for {principal}: the KDC does not know this user ({detail}); use the user's principal name user@REALM"
    if "clock skew" in lowered:
        return (f"kinit for {principal}: the controller's clock differs from the KDC's by more than the allowed skew "
                f"({detail}); synchronise the controller's clock (NTP) with the domain")
    if "cannot find kdc" in lowered or "cannot contact any kdc" in lowered or "cannot resolve" in lowered:
        return (f"kinit for {principal}: no KDC reachable for its realm ({detail}); check the realm's kdc entries in "
                f"krb5.conf (KRB5_CONFIG) and that the realm is in capitals")
    return f"kinit for {principal} failed: {detail}"


def kerberos_failure(text: str, *, host: str, hostname_override: str | None) -> str | None:
    """One line for a GSSAPI failure of the Kerberos client (pykerberos' text), or None when ``text`` is not one."""
    lowered = text.lower()
    service = f"HTTP/{hostname_override or host}"
    if "not found in kerberos database" in lowered and "server" in lowered:
        return (f"the KDC has no service principal {service}: set winrm_kerberos_hostname_override "
                f"(ansible_winrm_kerberos_hostname_override) to the machine's DNS name as registered in the domain "
                f"(setspn -L <machine>), or connect by that name instead of an address")
    if "clock skew" in lowered:
        return ("the controller's clock differs from the domain's by more than the allowed skew (usually 5 minutes): "
                "synchronise the controller's clock (NTP)")
    if "expired" in lowered:
        return "the Kerberos ticket has expired: run kinit again, or give the password so that kinit_mode managed renews it"
    if ("no credentials" in lowered or "can't find client principal" in lowered or "no kerberos credentials" in lowered
            or "credentials cache" in lowered and "not found" in lowered):
        return ("no Kerberos ticket for this user: run kinit user@REALM before the play (kinit_mode manual), or give "
                "the password (winrm_password / ansible_password) so that the collection runs kinit itself")
    if "gss" in lowered or "kerberos" in lowered:
        return f"Kerberos failure: {' '.join(text.split())}"
    return None


def refused_401(transport: str, *, host: str, hostname_override: str | None) -> str:
    """What an HTTP 401 means for each transport, and what to do."""
    if transport == "kerberos":
        return (f"the server rejected the Kerberos ticket (HTTP 401): check that HTTP/{hostname_override or host} is "
                f"this machine's own service principal, that the user may use WinRM there, and that the service allows "
                f"Kerberos (winrm get winrm/config/service/auth)")
    if transport == "credssp":
        return ("the server refused CredSSP or the credentials (HTTP 401): CredSSP must be enabled on the server "
                "(Enable-WSManCredSSP -Role Server) and the user and password must be valid there")
    if transport == "certificate":
        return ("the server did not map the client certificate to a user (HTTP 401): create a WinRM certificate mapping "
                "for its UPN and issuer (New-Item WSMan:\\localhost\\ClientCertificate ...) and enable "
                "Certificate authentication (winrm/config/service/auth)")
    return "HTTP 401"


def certificate_not_trusted(text: str) -> str | None:
    """One line when a TLS failure means the server refused the client certificate, else None."""
    lowered = text.lower()
    if any(marker in lowered for marker in ("unknown ca", "certificate unknown", "bad certificate", "certificate required",
                                            "access denied", "eof occurred in violation of protocol")):
        return ("the server does not trust the client certificate (TLS refused: " + " ".join(text.split()) + "): its "
                "issuing CA must be in the server's Trusted Root and Trusted People stores, with the Client "
                "Authentication usage")
    return None
