# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replay of captured WS-Man conversations (plugins/module_utils/_capture.py): no network, the recorded answers.

``ReplayTransport`` serves one capture file's answers in order to a WsmanClient. Each request must be the one the
capture recorded at that point (same action, resource URI and selectors: a client that asks for something else
fails the replay); the answer's RelatesTo is set to the new request's MessageID, as the machine would have done.
An exchange recorded as an HTTP error is raised again as pywinrm raised it.

``replay_task(document, monkeypatch, siblings)`` runs the recorded task (the action plugin's task function, with the
recorded parameters and check mode) against the recorded answers and returns its result, to be compared with the
recorded one. A task that opens a second connection (host_info asking the other nodes of a failover cluster: one
capture file per connection, ``opened_by`` naming the session of the client that opened it) is served from the file
of that connection among ``siblings``, matched by endpoint; one the capture does not hold fails the replay. While a
task replays, every socket connection and name lookup raises ``ReplayNetworkError`` and is listed in
``network_attempts``: a replay that passes used no network.
"""

import datetime
import importlib
import json
import pathlib
import re
import socket

# Imported for its effect: it makes ansible_collections.hyperv.avma importable.
import collection_import  # noqa: F401 pylint: disable=unused-import
from winrm.exceptions import WinRMTransportError

from ansible_collections.hyperv.avma.plugins.module_utils import _events
from ansible_collections.hyperv.avma.plugins.module_utils._avma import AVMA_KEYS
from ansible_collections.hyperv.avma.plugins.module_utils._cim import CimClient
from ansible_collections.hyperv.avma.plugins.module_utils._wsman import WinrmSettings, WsmanClient

_MESSAGE_ID = re.compile(r"<(?:\w+:)?MessageID>([^<]*)</")
_RELATES_TO = re.compile(r"(<(?:\w+:)?RelatesTo>)[^<]*(</)")
_ACTION = re.compile(r"<(?:\w+:)?Action[^>]*>([^<]*)</")
_RESOURCE_URI = re.compile(r"<(?:\w+:)?ResourceURI[^>]*>([^<]*)</")
_SELECTOR = re.compile(r"<(?:\w+:)?Selector Name=\"([^\"]*)\"[^>]*>([^<]*)</")
_MASKED_KEY = re.compile(r"^XXXXX-XXXXX-XXXXX-XXXXX-([A-Z0-9]{5})$")


class ReplayMismatch(AssertionError):
    """The client sent something other than what the capture recorded at that point."""


class ReplayNetworkError(AssertionError):
    """Something tried to reach the network during a replay."""


# What tried the network during the current replay (see _block_network): (function, arguments).
network_attempts = []


def _block_network(monkeypatch):
    """Make every socket connection and name lookup fail with ReplayNetworkError, and list it in network_attempts."""
    network_attempts.clear()

    def refuse(name):
        def attempt(*arguments, **_keywords):
            network_attempts.append((name, repr(arguments[-1:])))
            raise ReplayNetworkError("the replay tried the network: %s%r" % (name, arguments[-1:]))
        return attempt

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("socket.create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("socket.getaddrinfo"))


def load(path):
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))


def _shape(request):
    return (tuple(_ACTION.findall(request)[:1]), tuple(_RESOURCE_URI.findall(request)[:1]), tuple(sorted(_SELECTOR.findall(request))))


class ReplayTransport:
    """pywinrm's Transport duck type over one capture's exchanges."""

    def __init__(self, exchanges):
        self._exchanges = list(exchanges)
        self.position = 0
        self.opened = []  # the transports of the connections the task opened to other machines (ReplayClient)

    def send_message(self, message):
        request = message.decode("utf-8") if isinstance(message, bytes) else message
        if self.position >= len(self._exchanges):
            raise ReplayMismatch("request %d was never recorded: %s" % (self.position + 1, _shape(request)))
        recorded = self._exchanges[self.position]
        self.position += 1
        if _shape(request) != _shape(recorded["request"]):
            raise ReplayMismatch("request %d differs from the capture: sent %s, recorded %s"
                                 % (self.position, _shape(request), _shape(recorded["request"])))
        message_id = _MESSAGE_ID.search(request)
        answer = recorded["answer"]
        if answer is not None and message_id is not None:
            answer = _RELATES_TO.sub(lambda match: match.group(1) + message_id.group(1) + match.group(2), answer)
        if recorded["status"] != 200:
            raise WinRMTransportError("http", recorded["status"], answer)
        return answer.encode("utf-8")

    @property
    def exhausted(self):
        return self.position == len(self._exchanges)

    def close_session(self):
        pass


def settings_for(document):
    """Settings as the capture's endpoint names them (the placeholders of its host and port)."""
    match = re.match(r"^(https?)://(.+):(\d+)(/.*)$", document["endpoint"])
    scheme, host, port, path = match.groups()
    return WinrmSettings(host=host, port=int(port), scheme=scheme, path=path, user="replay", password="replay", transport="ntlm")


class ReplayClient(CimClient):
    """A CimClient over one capture file; the clients it opens for other machines (``sibling``) replay the files of
    those connections, taken from ``siblings``: those the capture says this session opened (``opened_by``), or, in a
    capture without sessions, those without a task of their own, matched by endpoint (scheme, host, port)."""

    def __init__(self, document, siblings, opened):
        self.transport = ReplayTransport(document["exchanges"])
        super().__init__(WsmanClient(settings_for(document), transport=self.transport, sleep=lambda _seconds: None), sleep=lambda _seconds: None)
        self._session = document.get("session")
        self._siblings = siblings
        self._opened = opened

    def sibling(self, host, label, port=None):
        endpoint = (self._wsman.settings.scheme, host.lower(), port or self._wsman.settings.port)
        for index, candidate in enumerate(self._siblings):
            owned = candidate.get("opened_by") == self._session if self._session else candidate.get("task") is None
            settings = settings_for(candidate)
            if owned and (settings.scheme, settings.host.lower(), settings.port) == endpoint:
                client = ReplayClient(candidate, self._siblings[:index] + self._siblings[index + 1:], self._opened)
                self._opened.append(client.transport)
                return client
        raise ReplayMismatch("the task opened a connection to %s:%s (%s) that the capture did not record" % (host, endpoint[2], label))


def _task_function(action):
    module = importlib.import_module("ansible_collections.hyperv.avma.plugins.action." + action.split(".")[-1])
    return module.ActionModule.task


def _with_public_keys(params):
    """A masked AVMA key back in full: AVMA keys are public, so the capture's last five characters name one."""
    restored = {}
    for name, value in params.items():
        match = _MASKED_KEY.match(value) if isinstance(value, str) else None
        if match:
            value = next((entry.key for entry in AVMA_KEYS.values() if entry.key.endswith(match.group(1))), value)
        restored[name] = value
    return restored


def replay_task(document, monkeypatch, siblings=()):
    """Run the capture's task against its recorded answers, with no network; returns (result, transport), the
    transport's ``opened`` listing the transports of the connections the task opened to other machines. ``siblings``:
    the other documents of the capture directory (see ReplayClient)."""
    task = document["task"]
    params = _with_public_keys(task["params"])
    result = document.get("result") or {}
    # activation_events gives its window as since; host_compliance_info as events_since, its events part as since.
    window = result.get("since") if "since" in params else (result.get("events") or {}).get("since")
    relative = params.get("since", params.get("events_since"))
    if window is not None and relative is not None:
        # The task ran at the moment its window ends: the recorded start plus the relative window it was given.
        start = datetime.datetime.fromisoformat(window)
        span = _events.parse_since(relative, now=start) - start
        monkeypatch.setattr(_events, "utc_now", lambda: start - span)
    function = _task_function(task["action"])  # imported first: importing ansible probes socket.getaddrinfo
    _block_network(monkeypatch)
    opened = []
    client = ReplayClient(document, [sibling for sibling in siblings if sibling is not document], opened)
    client.transport.opened = opened
    result = function(client, params, task["check_mode"], task["diff"])
    return result, client.transport
