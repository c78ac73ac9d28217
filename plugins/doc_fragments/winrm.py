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
      - When not set, the address that the task host's C(ansible.builtin.winrm) or C(ansible.builtin.psrp) connection
        resolved, also under C(delegate_to). The same goes for every C(winrm_*) option. One the task leaves out is
        that connection's setting (named below by its C(ansible_winrm_*) variable; under psrp, its C(ansible_psrp_*)
        counterpart), and one the task gives overrides it.
      - "Required when the task's host uses another connection, for example C(delegate_to: localhost)."
    type: str
  winrm_port:
    description:
      - TCP port of the WinRM listener.
      - When not set, the connection's C(ansible_port); without a winrm or psrp connection, V(5985) when
        O(winrm_scheme=http) and V(5986) otherwise.
    type: int
  winrm_scheme:
    description:
      - V(http) or V(https).
      - When not set, the connection's C(ansible_winrm_scheme), else V(http) when the port is V(5985) and V(https)
        for any other port.
    type: str
    choices: [http, https]
  winrm_path:
    description:
      - URL path of the WinRM listener.
      - When not set, the connection's C(ansible_winrm_path), else V(/wsman).
    type: str
  winrm_user:
    description:
      - User name, as V(user), V(DOMAIN\\user) or V(user@DOMAIN.COM) (Kerberos).
      - When not set, the connection's C(ansible_user), if any.
    type: str
  winrm_password:
    description:
      - Password of O(winrm_user). Never returned nor logged.
      - When not set, the connection's C(ansible_password), if any.
    type: str
  winrm_transport:
    description:
      - Authentication protocol.
      - When not set, the connection's C(ansible_winrm_transport); without that variable, the winrm connection's own
        choice (V(kerberos) for a user V(user@REALM), else V(basic)); without a winrm or psrp connection, V(ntlm).
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
      - Whether the server's TLS certificate is validated.
      - When not set, the connection's C(ansible_winrm_server_cert_validation), else V(validate).
    type: str
    choices: [validate, ignore]
  winrm_ca_trust_path:
    description:
      - PEM file or directory of CA certificates that the server certificate is validated against, instead of the
        system trust store.
      - When not set, the connection's C(ansible_winrm_ca_trust_path), else the system trust store.
    type: path
  winrm_message_encryption:
    description:
      - HTTP message encryption (NTLM, Kerberos, CredSSP). V(auto) encrypts over HTTP and leaves it to TLS over HTTPS.
      - When not set, the connection's C(ansible_winrm_message_encryption), else V(auto).
    type: str
    choices: [auto, always, never]
  winrm_operation_timeout_sec:
    description:
      - WS-Management OperationTimeout of each request, in seconds.
      - When not set, the connection's C(ansible_winrm_operation_timeout_sec) (or C(ansible_winrm_connection_timeout)),
        else V(20).
    type: int
  winrm_read_timeout_sec:
    description:
      - HTTP read timeout, in seconds; must be greater than O(winrm_operation_timeout_sec).
      - When not set, the connection's C(ansible_winrm_read_timeout_sec), else O(winrm_operation_timeout_sec) + 10.
    type: int
  winrm_cert_pem:
    description:
      - Client certificate (PEM) for O(winrm_transport=certificate).
      - When not set, the connection's C(ansible_winrm_cert_pem), if any.
    type: path
  winrm_cert_key_pem:
    description:
      - Private key (PEM) of O(winrm_cert_pem).
      - When not set, the connection's C(ansible_winrm_cert_key_pem), if any.
    type: path
  winrm_kerberos_delegation:
    description:
      - Request a delegable Kerberos ticket.
      - When not set, the connection's C(ansible_winrm_kerberos_delegation), else V(false).
    type: bool
  winrm_kerberos_hostname_override:
    description:
      - Host name used for the Kerberos service principal (V(HTTP/<name>)) instead of O(winrm_host), for example when
        O(winrm_host) is an address.
      - When not set, the connection's C(ansible_winrm_kerberos_hostname_override), else O(winrm_host).
    type: str
  winrm_kinit_mode:
    description:
      - V(managed) runs C(kinit) with O(winrm_user) and O(winrm_password) into a private credential cache of the
        controller process; V(manual) uses the ticket already in the credential cache (C(KRB5CCNAME)).
      - When not set, the connection's C(ansible_winrm_kinit_mode), else V(managed) when a password is given and
        V(manual) otherwise, as the C(ansible.builtin.winrm) connection decides.
    type: str
    choices: [managed, manual]
  winrm_kinit_cmd:
    description:
      - The C(kinit) command for O(winrm_kinit_mode=managed).
      - When not set, the connection's C(ansible_winrm_kinit_cmd), else V(kinit).
    type: str
  winrm_kinit_args:
    description:
      - Arguments for C(kinit), split like a shell would; they replace the default C(-f) that
        O(winrm_kerberos_delegation=true) adds.
      - When not set, the connection's C(ansible_winrm_kinit_args); without them, C(kinit) gets only the principal
        (and C(-f) for delegation).
    type: str
  winrm_kinit_env_vars:
    description:
      - Environment variables passed to C(kinit) besides C(PATH), C(KRB5_CONFIG) and C(KRB5_TRACE).
      - When not set, the connection's C(ansible_winrm_kinit_env_vars), else none.
    type: list
    elements: str
  winrm_credssp_disable_tlsv1_2:
    description:
      - Allow CredSSP over TLS versions older than 1.2, for old Windows hosts.
      - When not set, the connection's C(ansible_winrm_credssp_disable_tlsv1_2), else V(false).
    type: bool
  winrm_proxy:
    description:
      - HTTP proxy URL for the WinRM traffic.
      - When not set, the connection's C(ansible_winrm_proxy); without it, the environment's proxy settings apply.
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
      - V(0) disables retries.
    type: int
    default: 3
  winrm_retry_max_sec:
    description:
      - Upper bound, in seconds, of the time spent retrying one request; no retry starts once the time spent since the
        first attempt plus the backoff before the retry exceeds it. It also bounds how long an enumeration keeps
        restarting.
    type: float
    default: 120
  winrm_allow_basic_over_http:
    description:
      - Allow O(winrm_transport=basic) over plain HTTP, which sends the password in clear text.
    type: bool
    default: false
  winrm_capture_dir:
    description:
      - Record every WS-Man request and answer of the task into this directory, one JSON file per task and machine,
        with the task's parameters (connection options left out) and its result, for a bug report or as a test
        fixture (see the fidelity guide).
      - Passwords, product keys (all but the last five characters), host, computer and VM names, user names, domain
        names and IP addresses are replaced by stable placeholders before anything is written. Names are recognised
        from the connection settings and from the properties that hold them; check the files before you publish them.
      - The placeholders are keyed by the directory's C(.capture-key) file; never publish that file.
      - When not set, the environment variable E(HYPERV_AVMA_CAPTURE_DIR) on the controller is used; without
        either, nothing is recorded.
    type: path
requirements:
  - pywinrm >= 0.4.3 on the controller (or on the host the task runs on when its connection is neither winrm, psrp nor local)
notes:
  - The WinRM traffic leaves from the Ansible controller when the task's host uses the winrm, psrp or local
    connection; with any other connection it leaves from that host, which then needs pywinrm.
  - All options can be set for every module of the collection at once with C(module_defaults) and the action group
    C(group/hyperv.avma.winrm).
  - "C(ansible-doc) shows C(default: null) for the C(winrm_*) options that a task which leaves them out takes from
    its host's winrm or psrp connection; each says after C(When not set) what applies then, also without such a
    connection."
  - While a task waits on long work (a Hyper-V job, an activation, the backoff before a retry) it says at C(-v) what
    it waits for and how long it has waited, when it runs on the controller (the winrm, psrp or local connection).
"""
