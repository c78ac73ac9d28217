# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The live suite against a real Hyper-V host: configured only by environment variables, skipped without them.

HYPERV_AVMA_LIVE_HOST           the Hyper-V host (name or address); without it every test is skipped
HYPERV_AVMA_LIVE_USER / _PASSWORD   credentials (DOMAIN\\user or user@REALM for Kerberos)
HYPERV_AVMA_LIVE_TRANSPORT      ntlm (default), kerberos, credssp, basic, certificate
HYPERV_AVMA_LIVE_SCHEME / _PORT https / 5986 by default; http / 5985 with message encryption also works
HYPERV_AVMA_LIVE_CA_TRUST_PATH  CA bundle for HTTPS; HYPERV_AVMA_LIVE_CERT_VALIDATION=ignore to skip the check
HYPERV_AVMA_LIVE_GUEST          optional: a Windows Server guest of that host (same credentials unless
                                HYPERV_AVMA_LIVE_GUEST_USER / _GUEST_PASSWORD / _GUEST_PORT / _GUEST_SCHEME are set)
HYPERV_AVMA_LIVE_CLUSTER_NODE_ADDRESSES  optional, on a cluster node: where to reach the other nodes, as
                                NODE=address[:port] separated by commas (host_info's cluster_node_addresses)
HYPERV_AVMA_LIVE_WRITE=1        run the tests that change things, on ...
HYPERV_AVMA_LIVE_VM             ... the name of a disposable VM on the host; HYPERV_AVMA_LIVE_GUEST must be that VM
HYPERV_AVMA_LIVE_REPLACEMENT_KEY  optional, write tests: a non-AVMA key (MAK/retail) the guest takes, to replace
                                the AVMA key with and check that the stale AVMA KVP data is gone

Read-only by default. Every test adds what the real system showed to the report printed at the end of the run
("hyperv.avma live: what the system showed"), one line per unconfirmed point. The host's client also notes, as the
tests run, how each Job reference came on the wire and the JobState each job the tests waited for ended in (points 1
and 7 of the report).
"""

import os

# Imported for its effect: it makes ansible_collections.hyperv.avma importable.
import collection_import  # noqa: F401 pylint: disable=unused-import
import pytest

from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient
from ansible_collections.hyperv.avma.plugins.module_utils._errors import CimJobFailedError
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WinrmSettings, WsmanClient
from ansible_collections.hyperv.avma.plugins.module_utils._xml import local_name

_SHOWN = []
# What the host's client saw on the wire while the tests ran: {"job_states": [JobState, ...], "job_references":
# {shape: count}}.
_OBSERVED = {"job_states": [], "job_references": {}}


def _env(name, default=None):
    return os.environ.get("HYPERV_AVMA_LIVE_" + name) or default


def live_settings(prefix=""):
    """WinrmSettings from the environment for the host (``prefix`` "") or the guest (``prefix`` "GUEST_")."""
    host = _env("GUEST") if prefix else _env("HOST")
    scheme = _env(prefix + "SCHEME", _env("SCHEME", "https"))
    port = int(_env(prefix + "PORT", _env("PORT", "5986" if scheme == "https" else "5985")))
    return WinrmSettings(
        host=host, port=port, scheme=scheme, user=_env(prefix + "USER", _env("USER")), password=_env(prefix + "PASSWORD", _env("PASSWORD")),
        transport=_env("TRANSPORT", "ntlm"), server_cert_validation=_env("CERT_VALIDATION", "validate"),
        ca_trust_path=_env("CA_TRUST_PATH"), read_timeout_sec=70, operation_timeout_sec=60, label=host)


def pytest_collection_modifyitems(config, items):
    skip_all = pytest.mark.skip(reason="live suite: set HYPERV_AVMA_LIVE_HOST (and credentials) to run it against a real Hyper-V host")
    skip_guest = pytest.mark.skip(reason="live suite: set HYPERV_AVMA_LIVE_GUEST to read a guest")
    skip_write = pytest.mark.skip(reason="live suite: changing tests need HYPERV_AVMA_LIVE_WRITE=1, HYPERV_AVMA_LIVE_VM and HYPERV_AVMA_LIVE_GUEST")
    for item in items:
        if "tests/live" not in str(item.fspath).replace(os.sep, "/"):
            continue
        if not _env("HOST"):
            item.add_marker(skip_all)
        elif "guest" in item.fixturenames and not _env("GUEST"):
            item.add_marker(skip_guest)
        elif item.get_closest_marker("live_write") and not (_env("WRITE") == "1" and _env("VM") and _env("GUEST")):
            item.add_marker(skip_write)


def pytest_configure(config):
    config.addinivalue_line("markers", "live_write: a live test that changes the host or guest (HYPERV_AVMA_LIVE_WRITE=1)")


def _observed_lines():
    lines = []
    if _OBSERVED["job_states"]:
        counts = {}
        for state in _OBSERVED["job_states"]:
            counts[state] = counts.get(state, 0) + 1
        lines.append("point 1 (JobState of finished jobs): %d jobs the tests waited for ended in %s" % (
            len(_OBSERVED["job_states"]), ", ".join("%s x%d" % (state, count) for state, count in sorted(counts.items()))))
    if _OBSERVED["job_references"]:
        lines.append("unconfirmed 7 (Job reference shape): " + ", ".join(
            "%s x%d" % (shape, count) for shape, count in sorted(_OBSERVED["job_references"].items())))
    return lines


def pytest_terminal_summary(terminalreporter):
    lines = _SHOWN + _observed_lines()
    if lines:
        terminalreporter.section("hyperv.avma live: what the system showed")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def shown():
    """``shown(point, text)``: add one line to the end-of-run report."""
    return lambda point, text: _SHOWN.append("%s: %s" % (point, text))


class _ObservingWsmanClient(WsmanClient):
    """Notes the shape of every Job reference a method returns: as direct a:Address/a:ReferenceParameters children
    or wrapped in a:EndpointReference (avma-facts "Unconfirmed" 7)."""

    def invoke(self, resource_uri, method, input_element, selectors=None, *, options=None):
        output = super().invoke(resource_uri, method, input_element, selectors, options=options)
        for job in (element for element in output if local_name(element.tag) == "Job" and len(element)):
            names = {local_name(child.tag) for child in job}
            shape = "wrapped in a:EndpointReference" if "EndpointReference" in names else "direct %s" % "/".join(sorted(names))
            _OBSERVED["job_references"][shape] = _OBSERVED["job_references"].get(shape, 0) + 1
        return output


class _ObservingCimClient(CimClient):
    """Notes the JobState every job it waited for ended in (issue 9 point 1), failed jobs included."""

    def wait_for_job(self, job, *, timeout, poll_interval=1.0):
        try:
            state = super().wait_for_job(job, timeout=timeout, poll_interval=poll_interval)
        except CimJobFailedError as error:
            _OBSERVED["job_states"].append(error.job_state)
            raise
        _OBSERVED["job_states"].append(state["JobState"])
        return state


def _client(settings):
    return CimClient(WsmanClient(settings))


@pytest.fixture
def host():
    client = _ObservingCimClient(_ObservingWsmanClient(live_settings()))
    yield client
    client.close()


@pytest.fixture
def guest():
    client = _client(live_settings("GUEST_"))
    yield client
    client.close()


@pytest.fixture
def disposable_vm():
    return _env("VM")


@pytest.fixture
def replacement_key():
    return _env("REPLACEMENT_KEY")


@pytest.fixture
def cluster_node_addresses():
    """HYPERV_AVMA_LIVE_CLUSTER_NODE_ADDRESSES as host_info's cluster_node_addresses."""
    entries = [entry.strip() for entry in (_env("CLUSTER_NODE_ADDRESSES") or "").split(",") if entry.strip()]
    return dict(entry.split("=", 1) for entry in entries if "=" in entry)
