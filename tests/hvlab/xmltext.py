# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small helpers to write XML text the way Windows does: compact, no declaration, prefixes chosen by the writer."""

from .namespaces import NS


def escape_text(value):
    """Escape character data."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(value):
    """Escape an attribute value written between double quotes."""
    return escape_text(value).replace('"', "&quot;")


def xmlns(*prefixes):
    """``xmlns:prefix="uri"`` declarations for the given prefixes of ``NS``, space separated."""
    return " ".join('xmlns:%s="%s"' % (prefix, NS[prefix]) for prefix in prefixes)


def element(name, text=None, attributes=None):
    """``<name attr="v">text</name>``, or ``<name attr="v"/>`` when ``text`` is None; ``text`` is escaped here."""
    attribute_text = "".join(' %s="%s"' % (key, escape_attribute(value)) for key, value in (attributes or {}).items())
    if text is None:
        return "<%s%s/>" % (name, attribute_text)
    return "<%s%s>%s</%s>" % (name, attribute_text, escape_text(text), name)
