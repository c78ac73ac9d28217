# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Enumeration contexts (WS-Enumeration) and paging of their items under MaxElements and MaxEnvelopeSize.

Items are rendered once, when the Enumerate arrives (WMI also answers a query from one snapshot), and handed out
page by page. A context lives until its last item is delivered, it is released, or it has been idle longer than
the service's EnumerationTimeoutms (240000 by default on Windows, as the config capture shows).
"""

import uuid
from dataclasses import dataclass

from . import faults

DEFAULT_ENUMERATION_TIMEOUT = 240.0


@dataclass
class EnumerationContext:
    context_id: str
    machine: str
    items: list
    position: int
    last_used: float

    @property
    def remaining(self):
        return len(self.items) - self.position


class EnumerationContexts:
    """The open contexts of the whole lab, each bound to the machine that created it."""

    def __init__(self, clock, timeout=DEFAULT_ENUMERATION_TIMEOUT):
        self._clock = clock
        self._timeout = timeout
        self._contexts = {}

    def open(self, machine, items):
        self._expire()
        context = EnumerationContext("uuid:" + str(uuid.uuid4()).upper(), machine, list(items), 0, self._clock())
        self._contexts[context.context_id] = context
        return context

    def take(self, machine, context_id):
        """The live context ``context_id`` of ``machine``; ``WsmanFault`` 2150858779 if unknown, expired or foreign."""
        self._expire()
        context = self._contexts.get((context_id or "").strip())
        if context is None or context.machine != machine:
            raise faults.invalid_enumeration_context()
        context.last_used = self._clock()
        return context

    def close(self, context):
        self._contexts.pop(context.context_id, None)

    def forget(self, machine, context_id):
        """Drop the context ``context_id`` of ``machine`` as if it had expired (an injected fault)."""
        context = self._contexts.get((context_id or "").strip())
        if context is not None and context.machine == machine:
            del self._contexts[context.context_id]

    def clear(self):
        self._contexts.clear()

    def __len__(self):
        return len(self._contexts)

    def _expire(self):
        now = self._clock()
        for context_id in [key for key, context in self._contexts.items() if now - context.last_used > self._timeout]:
            del self._contexts[context_id]


def take_page(items, max_elements, size_budget):
    """How many of ``items`` (rendered strings) fit: at most ``max_elements``, total UTF-8 size within
    ``size_budget``. Returns 0 when even the first item does not fit (the caller faults)."""
    count = 0
    used = 0
    for item in items[:max_elements]:
        size = len(item.encode("utf-8"))
        if used + size > size_budget:
            break
        used += size
        count += 1
    return count
