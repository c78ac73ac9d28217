# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fixtures for the protocol layer: wire samples and a fake pywinrm transport that records requests."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from winrm.exceptions import WinRMTransportError

from ansible_collections.hyperv.avma.plugins.module_utils._wsman import NAMESPACES, WinrmSettings, WsmanClient

WIRE_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "wire"
PASSWORD = "Pa55-w0rd!secret"
_RELATES_TO = re.compile(rb"(<(?:[\w-]+:)?RelatesTo[^>]*>)[^<]*(</)")


def read_wire(name: str) -> bytes:
    return (WIRE_DIR / name).read_bytes()


class Request:
    """One request the client sent, parsed for assertions."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.envelope = ET.fromstring(raw)
        self.header = self.envelope.find("s:Header", NAMESPACES)
        self.body = self.envelope.find("s:Body", NAMESPACES)

    def header_text(self, path: str) -> str | None:
        element = self.header.find(path, NAMESPACES)
        return None if element is None else element.text

    @property
    def action(self) -> str | None:
        return self.header_text("a:Action")

    @property
    def resource_uri(self) -> str | None:
        return self.header_text("w:ResourceURI")

    @property
    def message_id(self) -> str | None:
        return self.header_text("a:MessageID")

    @property
    def selectors(self) -> dict[str, str]:
        return {item.get("Name"): item.text for item in self.header.findall("w:SelectorSet/w:Selector", NAMESPACES)}

    @property
    def options(self) -> dict[str, str]:
        return {item.get("Name"): item.text for item in self.header.findall("w:OptionSet/w:Option", NAMESPACES)}

    def body_text(self, path: str) -> str | None:
        element = self.body.find(path, NAMESPACES)
        return None if element is None else element.text


class FakeTransport:
    """Duck type of winrm.transport.Transport: records every message and answers from a script.

    Each scripted answer is bytes (a response body), an exception instance (raised), or a callable taking the Request
    and returning either. With ``echo_relates_to`` the RelatesTo header of an answer (also of the body of a
    WinRMTransportError, i.e. an HTTP error status) is rewritten to the MessageID just sent, as a real server would;
    samples without RelatesTo stay without it.
    """

    def __init__(self, *answers, echo_relates_to: bool = True) -> None:
        self.answers = list(answers)
        self.echo_relates_to = echo_relates_to
        self.requests: list[Request] = []
        self.closed = False

    def send_message(self, message):
        assert isinstance(message, bytes)
        request = Request(message)
        self.requests.append(request)
        assert self.answers, "the client sent more requests than the test scripted"
        answer = self.answers.pop(0)
        if callable(answer):
            answer = answer(request)
        if isinstance(answer, WinRMTransportError):  # an HTTP error status: its body may be a fault to answer with
            raise WinRMTransportError(answer.protocol, answer.code, self._echo(answer.response_text.encode(), request).decode())
        if isinstance(answer, BaseException):
            raise answer
        return self._echo(answer, request)

    def _echo(self, answer: bytes, request: Request) -> bytes:
        if not (self.echo_relates_to and request.message_id):
            return answer
        return _RELATES_TO.sub(lambda match: match.group(1) + request.message_id.encode() + match.group(2), answer)

    def close_session(self) -> None:
        self.closed = True


class Sleeps(list):
    """An injectable sleep that records the delays asked for."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def wire():
    """``wire(name) -> bytes``: a sample from tests/unit/fixtures/wire."""
    return read_wire


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def settings() -> WinrmSettings:
    return WinrmSettings(host="127.0.10.11", user="Administrator", password=PASSWORD, label="g2022dc")


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(settings, sleeps):
    """``make_client(*answers, echo_relates_to=True, **setting_overrides) -> (client, transport)``."""

    def factory(*answers, echo_relates_to: bool = True, **overrides):
        transport = FakeTransport(*answers, echo_relates_to=echo_relates_to)
        client_settings = WinrmSettings(**{**settings.__dict__, **overrides}) if overrides else settings
        return WsmanClient(client_settings, transport=transport, sleep=sleeps), transport

    return factory
