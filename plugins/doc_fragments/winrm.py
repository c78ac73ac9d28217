# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  winrm_host:
    description:
      - Address or host name of the Windows machine to talk to.
      - When the task's host uses the C(ansible.builtin.winrm) or C(ansible.builtin.psrp) connection, the endpoint
        and credentials that connection resolved are used, also under C(delegate_to); each C(winrm_*) option given
        to the task overrides the matching connection setting.
      - "Required when the task's host uses another connection, for example C(delegate_to: localhost)."
    type: str
  winrm_port:
    description:
      - TCP port of the WinRM listener.
      - Defaults to V(5985) when O(winrm_scheme=http) and to V(5986) otherwise.
    type: int
  winrm_scheme:
    description:
      - V(http) or V(https).
      - Defaults to V(http) when O(winrm_port=5985), otherwise V(https).
    type: str
    choices: [http, https]
  winrm_path:
    description:
      - URL path of the WinRM listener. Defaults to V(/wsman).
    type: str
  winrm_user:
    description:
      - User name, as V(user), V(DOMAIN\\user) or V(user@DOMAIN.COM) (Kerberos).
    type: str
  winrm_password:
    description:
      - Password of O(winrm_user). Never returned nor logged.
    type: str
  winrm_transport:
    description:
      - Authentication protocol. Defaults to V(ntlm) for explicit options; under a winrm connection without
        C(ansible_winrm_transport), the connection plugin's own default (V(kerberos) for a UPN, else V(basic)).
      - V(ntlm), V(kerberos) and V(credssp) encrypt messages over HTTP (see O(winrm_message_encryption)).
      - V(basic) over HTTP is refused unless O(winrm_allow_basic_over_http=true).
      - V(kerberos) needs C(pykerberos) (the C(pywinrm[kerberos]) extra) and either a ticket in the controller's
        credential cache (O(winrm_kinit_mode=manual)) or the password, with which the collection runs C(kinit) itself
        (O(winrm_kinit_mode=managed)). O(winrm_user) is then the principal, V(user@REALM).
      - V(credssp) needs C(requests-credssp) and sends the password to the server, which can then use it (see the
        transports guide). V(certificate) needs HTTPS and a certificate the server maps to a user.
    type: str
    choices: [basic, certificate, credssp, kerberos, ntlm]
  winrm_server_cert_validation:
    description:
      - Whether the server's TLS certificate is validated. Defaults to V(validate).
    type: str
    choices: [validate, ignore]
  winrm_ca_trust_path:
    description:
      - PEM file or directory of CA certificates that the server certificate is validated against, instead of the
        system trust store.
    type: path
  winrm_message_encryption:
    description:
      - HTTP message encryption (NTLM, Kerberos, CredSSP). V(auto) encrypts over HTTP and leaves it to TLS over HTTPS.
        Defaults to V(auto).
    type: str
    choices: [auto, always, never]
  winrm_operation_timeout_sec:
    description:
      - WS-Management OperationTimeout of each request, in seconds. Defaults to V(20).
    type: int
  winrm_read_timeout_sec:
    description:
      - HTTP read timeout, in seconds; must be greater than O(winrm_operation_timeout_sec).
        Defaults to O(winrm_operation_timeout_sec) + 10.
    type: int
  winrm_cert_pem:
    description:
      - Client certificate (PEM) for O(winrm_transport=certificate).
    type: path
  winrm_cert_key_pem:
    description:
      - Private key (PEM) of O(winrm_cert_pem).
    type: path
  winrm_kerberos_delegation:
    description:
      - Request a delegable Kerberos ticket. Defaults to V(false).
    type: bool
  winrm_kerberos_hostname_override:
    description:
      - Host name used for the Kerberos service principal (V(HTTP/<name>)) instead of O(winrm_host), for example when
        O(winrm_host) is an address.
    type: str
  winrm_kinit_mode:
    description:
      - V(managed) runs C(kinit) with O(winrm_user) and O(winrm_password) into a private credential cache of the
        controller process; V(manual) uses the ticket already in the credential cache (C(KRB5CCNAME)).
      - Defaults to V(managed) when a password is given, otherwise V(manual), as the C(ansible.builtin.winrm)
        connection (C(ansible_winrm_kinit_mode)).
    type: str
    choices: [managed, manual]
  winrm_kinit_cmd:
    description:
      - The C(kinit) command for O(winrm_kinit_mode=managed). Defaults to V(kinit).
    type: str
  winrm_kinit_args:
    description:
      - Arguments for C(kinit), split like a shell would; they replace the default C(-f) that
        O(winrm_kerberos_delegation=true) adds. By default C(kinit) gets only the principal (and C(-f) for delegation).
    type: str
  winrm_kinit_env_vars:
    description:
      - Environment variables passed to C(kinit) besides C(PATH), C(KRB5_CONFIG) and C(KRB5_TRACE). Defaults to none.
    type: list
    elements: str
  winrm_credssp_disable_tlsv1_2:
    description:
      - Allow CredSSP over TLS versions older than 1.2, for old Windows hosts. Defaults to V(false).
    type: bool
  winrm_proxy:
    description:
      - HTTP proxy URL for the WinRM traffic. By default the environment's proxy settings apply.
    type: str
  winrm_retries:
    description:
      - How many times a failed request is tried again, with exponential backoff from 1 second (capped at 30).
      - Reads (Identify, Get, Enumerate, and the method calls that change nothing, such as the registry reads of
        C(StdRegProv)) are retried after a connection refused, reset or dropped, a read timeout, HTTP 503 and an
        operation timeout fault. An enumeration whose Pull answer was lost, or whose context expired on the server,
        starts again from the beginning.
      - Method calls that change state are retried only when they certainly were not carried out (connection refused,
        HTTP 503); after a lost answer the module reads the state again to find out what happened, and never repeats
        the write blindly.
      - After any connection-level failure the retry opens a new connection and authenticates it again (a new NTLM,
        Kerberos or CredSSP security context).
      - V(0) disables retries. Defaults to V(3).
    type: int
  winrm_retry_max_sec:
    description:
      - Upper bound, in seconds, of the time spent retrying one request; no retry starts once the time spent since the
        first attempt plus the backoff before the retry exceeds it. It also bounds how long an enumeration keeps
        restarting.
      - Defaults to V(120).
    type: float
  winrm_allow_basic_over_http:
    description:
      - Allow O(winrm_transport=basic) over plain HTTP, which sends the password in clear text. Defaults to V(false).
    type: bool
  winrm_capture_dir:
    description:
      - Record every WS-Man request and answer of the task into this directory, one JSON file per task and machine,
        with the task's parameters (connection options left out) and its result, for a bug report or as a test
        fixture (see the fidelity guide).
      - Passwords, product keys (all but the last five characters), host, computer and VM names, user names, domain
        names and IP addresses are replaced by stable placeholders before anything is written. Names are recognised
        from the connection settings and from the properties that hold them; check the files before you publish them.
      - The placeholders are keyed by the directory's C(.capture-key) file; never publish that file.
      - When not given, the environment variable E(HYPERV_AVMA_CAPTURE_DIR) on the controller is used; without
        either, nothing is recorded.
    type: path
requirements:
  - pywinrm >= 0.4.3 on the controller (or on the host the task runs on when its connection is neither winrm, psrp nor local)
notes:
  - The WinRM traffic leaves from the Ansible controller when the task's host uses the winrm, psrp or local
    connection; with any other connection it leaves from that host, which then needs pywinrm.
  - All options can be set for every module of the collection at once with C(module_defaults) and the action group
    C(group/hyperv.avma.winrm).
  - C(ansible-doc) shows no default for the C(winrm_*) options because an option the task leaves out is first taken
    from the task's winrm or psrp connection; only then does the default each description names apply.
  - While a task waits on long work (a Hyper-V job, an activation, the backoff before a retry) it says at C(-v) what
    it waits for and how long it has waited, when it runs on the controller (the winrm, psrp or local connection).
"""
