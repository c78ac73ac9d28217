# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fuzz the parsers that read what machines and guests send (run by tools/fuzz.sh, not by the test command).

Targets, chosen by the first byte of each input:

- ``parse_embedded_instance``: a KVP item's CIM-XML text, written by a guest;
- ``WsmanClient`` answer checks: an HTTP body as a response envelope (parse, RelatesTo, fault, enumeration batch);
- ``decode_instance`` of a Msvm_KvpExchangeComponent element with isolated item arrays.

Any exception other than the collection's own AvmaError (and ValueError from datetime text) is a finding. With
atheris installed the inputs are coverage guided; otherwise random inputs mutate a seed corpus.
"""

from __future__ import annotations

import os
import random
import sys
import time

try:
    import atheris
except ImportError:
    atheris = None


def _imports():
    from ansible_collections.hyperv.avma.plugins.module_utils import _cim, _hyperv, _wsman, _xml  # pylint: disable=import-outside-toplevel
    from ansible_collections.hyperv.avma.plugins.module_utils._errors import AvmaError  # pylint: disable=import-outside-toplevel
    return _cim, _hyperv, _wsman, _xml, AvmaError


if atheris is not None:
    with atheris.instrument_imports():
        _cim, _hyperv, _wsman, _xml, AvmaError = _imports()
else:
    _cim, _hyperv, _wsman, _xml, AvmaError = _imports()

SETTINGS = _wsman.WinrmSettings(host="127.0.0.1", user="u", password="p")
MESSAGE_ID = "uuid:00000000-0000-0000-0000-000000000000"
SEEDS = [
    b'<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem"><PROPERTY NAME="Name" TYPE="string"><VALUE>a</VALUE></PROPERTY>'
    b'<PROPERTY NAME="Data" TYPE="string"><VALUE>b&amp;c</VALUE></PROPERTY><PROPERTY.ARRAY NAME="L" TYPE="uint16">'
    b'<VALUE.ARRAY><VALUE>1</VALUE></VALUE.ARRAY></PROPERTY.ARRAY></INSTANCE>',
    b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    b'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">'
    b'<s:Header><a:RelatesTo>uuid:00000000-0000-0000-0000-000000000000</a:RelatesTo></s:Header><s:Body><n:EnumerateResponse>'
    b'<n:EnumerationContext>x</n:EnumerationContext><w:Items><p:X xmlns:p="urn:p"><p:Name>n</p:Name></p:X></w:Items>'
    b'</n:EnumerateResponse></s:Body></s:Envelope>',
    b'<p:Msvm_KvpExchangeComponent xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/'
    b'Msvm_KvpExchangeComponent"><p:SystemName>ABC</p:SystemName><p:GuestExchangeItems>&lt;INSTANCE CLASSNAME="x"/&gt;'
    b'</p:GuestExchangeItems><p:OperationalStatus>2</p:OperationalStatus></p:Msvm_KvpExchangeComponent>',
]


class _Answer:
    def __init__(self, body):
        self.body = body

    def send_message(self, _payload):
        return self.body


def one_input(data: bytes) -> None:
    if not data:
        return
    target, payload = data[0] % 3, data[1:]
    try:
        if target == 0:
            _cim.parse_embedded_instance(payload.decode("utf-8", "replace"))
        elif target == 1:
            client = _wsman.WsmanClient(SETTINGS, transport=_Answer(payload))
            body = client._attempt("Enumerate X", b"", MESSAGE_ID, check_relates_to=True)  # pylint: disable=protected-access
            response = _xml.child(body, "EnumerateResponse", [_wsman.NAMESPACES["n"]])
            if response is not None:
                client._read_batch(response, "Enumerate X")  # pylint: disable=protected-access
        else:
            _cim.decode_instance(_xml.parse_xml(payload), _hyperv.KVP_COMPONENT)
    except (AvmaError, ValueError):
        pass


def _mutate(seed: bytes, rng: random.Random) -> bytes:
    data = bytearray(seed)
    for _step in range(rng.randint(1, 8)):
        choice = rng.random()
        position = rng.randrange(len(data) + 1)
        if choice < 0.4 and data:
            data[min(position, len(data) - 1)] = rng.randrange(256)
        elif choice < 0.7:
            piece = rng.choice(SEEDS)
            start = rng.randrange(len(piece))
            data[position:position] = piece[start:start + rng.randint(1, 40)]
        elif data:
            del data[position:position + rng.randint(1, 20)]
    return bytes(data)


def run_random(seconds: float, seed: int) -> None:
    rng = random.Random(seed)
    count = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        base = rng.choice(SEEDS)
        one_input(bytes([rng.randrange(3)]) + _mutate(base, rng))
        count += 1
    elapsed = time.monotonic() - started
    print("random mutation: %d inputs in %.0f s (%.0f/s), no finding" % (count, elapsed, count / elapsed))


def main() -> None:
    seconds = float(os.environ.get("FUZZ_SECONDS", "60"))
    if atheris is None:
        run_random(seconds, int(os.environ.get("FUZZ_SEED", "1")))
        return
    corpus = os.environ.get("FUZZ_CORPUS")
    if corpus:
        os.makedirs(corpus, exist_ok=True)
        for number, seed in enumerate(SEEDS):
            for target in range(3):
                with open(os.path.join(corpus, "seed-%d-%d" % (number, target)), "wb") as output:
                    output.write(bytes([target]) + seed)
    arguments = [sys.argv[0], "-max_total_time=%d" % seconds, "-print_final_stats=1"] + ([corpus] if corpus else [])
    atheris.Setup(arguments, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
