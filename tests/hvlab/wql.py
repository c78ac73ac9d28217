# Copyright: (c) 2026, hyperv.avma contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WQL, the subset WMI data queries use: ``SELECT * | p1, p2 FROM Class [WHERE condition]``.

Conditions: ``=``, ``<>``, ``!=``, ``<``, ``>``, ``<=``, ``>=`` between a property and a literal (either side),
``IS [NOT] NULL``, ``LIKE`` with ``%``, ``_`` and ``[a-z]``/``[^...]`` sets, ``AND``, ``OR``, ``NOT`` and parentheses.
Literals: strings in single or double quotes with backslash escapes, integers and decimals, ``TRUE``/``FALSE``,
``NULL``. Keywords, class and property names are case-insensitive, and so are string comparisons, as in WMI.

``parse`` only checks the grammar (``WqlSyntaxError``); ``bind`` checks names and types against a class
(``WqlSemanticError``); ``Query.matches`` evaluates a bound query on an instance.
"""

import re
from dataclasses import dataclass

from .cimtypes import CimTypeError, INTEGER_RANGES, parse_datetime

KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IS", "NULL", "LIKE", "TRUE", "FALSE"}
COMPARISONS = {"=", "<>", "!=", "<", ">", "<=", ">="}
MIRRORED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "<>": "<>", "!=": "!="}

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>[+-]?\d+(?:\.\d+)?)(?![A-Za-z_])
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<operator><>|!=|<=|>=|=|<|>)
  | (?P<punct>[(),*])
  | (?P<quote>['"])
""", re.VERBOSE)


class WqlError(ValueError):
    """A query WMI would refuse (WBEM_E_INVALID_QUERY)."""


class WqlSyntaxError(WqlError):
    """The text is not WQL."""


class WqlSemanticError(WqlError):
    """Valid WQL naming a property the class lacks, or comparing values WMI cannot compare."""


@dataclass(frozen=True)
class Token:
    kind: str      # keyword, name, number, string, operator, punct, end
    value: object
    position: int


def tokenize(text):
    """Split ``text`` into tokens; raise ``WqlSyntaxError`` on a character WQL does not have."""
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise WqlSyntaxError("unexpected character %r at position %d" % (text[position], position))
        kind = match.lastgroup
        if kind == "quote":
            value, position = _read_string(text, position)
            tokens.append(Token("string", value, match.start()))
            continue
        position = match.end()
        if kind == "space":
            continue
        value = match.group()
        if kind == "name" and value.upper() in KEYWORDS:
            tokens.append(Token("keyword", value.upper(), match.start()))
        elif kind == "number":
            tokens.append(Token("number", float(value) if "." in value else int(value), match.start()))
        else:
            tokens.append(Token(kind, value, match.start()))
    tokens.append(Token("end", None, len(text)))
    return tokens


def _read_string(text, start):
    """The string literal opening at ``start``; a backslash takes the next character literally, as in WMI."""
    quote = text[start]
    chars = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text):
            chars.append(text[position + 1])
            position += 2
            continue
        if char == quote:
            return "".join(chars), position + 1
        chars.append(char)
        position += 1
    raise WqlSyntaxError("unterminated string starting at position %d" % start)


@dataclass(frozen=True)
class Comparison:
    prop: str
    operator: str
    literal: object          # str, int, float, bool


@dataclass(frozen=True)
class IsNull:
    prop: str
    negated: bool


@dataclass(frozen=True)
class Like:
    prop: str
    pattern: str


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class BoolOp:
    operator: str            # AND | OR
    operands: tuple


@dataclass(frozen=True)
class Query:
    """A parsed query: ``properties`` is None for ``SELECT *``; names are as written until ``bind``."""

    text: str
    class_name: str
    properties: tuple
    where: object = None
    cim_class: object = None

    def matches(self, instance):
        """True when the bound query's WHERE clause holds for ``instance`` (always true without a WHERE)."""
        return self.where is None or _evaluate(self.where, self.cim_class, instance)


class _Parser:
    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self):
        return self.tokens[self.index]

    def advance(self):
        token = self.current
        self.index += 1
        return token

    def accept(self, kind, value=None):
        token = self.current
        if token.kind == kind and (value is None or token.value == value):
            return self.advance()
        return None

    def expect(self, kind, value=None, what=None):
        token = self.accept(kind, value)
        if token is None:
            found = self.current.value if self.current.kind != "end" else "the end of the query"
            raise WqlSyntaxError("expected %s at position %d, found %r" % (what or value or kind, self.current.position, found))
        return token

    def query(self):
        self.expect("keyword", "SELECT")
        if self.accept("punct", "*"):
            properties = None
        else:
            properties = [self.expect("name", what="a property name").value]
            while self.accept("punct", ","):
                properties.append(self.expect("name", what="a property name").value)
            properties = tuple(properties)
        self.expect("keyword", "FROM")
        class_name = self.expect("name", what="a class name").value
        where = None
        if self.accept("keyword", "WHERE"):
            where = self.disjunction()
        self.expect("end", what="the end of the query")
        return Query(self.text, class_name, properties, where)

    def disjunction(self):
        operands = [self.conjunction()]
        while self.accept("keyword", "OR"):
            operands.append(self.conjunction())
        return operands[0] if len(operands) == 1 else BoolOp("OR", tuple(operands))

    def conjunction(self):
        operands = [self.negation()]
        while self.accept("keyword", "AND"):
            operands.append(self.negation())
        return operands[0] if len(operands) == 1 else BoolOp("AND", tuple(operands))

    def negation(self):
        if self.accept("keyword", "NOT"):
            return Not(self.negation())
        if self.accept("punct", "("):
            inner = self.disjunction()
            self.expect("punct", ")")
            return inner
        return self.condition()

    def literal(self):
        token = self.current
        if token.kind in ("string", "number"):
            return self.advance().value
        if token.kind == "keyword" and token.value in ("TRUE", "FALSE"):
            return self.advance().value == "TRUE"
        raise WqlSyntaxError("expected a literal at position %d" % token.position)

    def condition(self):
        if self.current.kind == "name":
            prop = self.advance().value
            if self.accept("keyword", "IS"):
                negated = bool(self.accept("keyword", "NOT"))
                self.expect("keyword", "NULL")
                return IsNull(prop, negated)
            if self.accept("keyword", "LIKE"):
                return Like(prop, self.expect("string", what="a LIKE pattern in quotes").value)
            operator = self.expect("operator", what="a comparison operator").value
            return Comparison(prop, operator, self.literal())
        literal = self.literal()
        operator = self.expect("operator", what="a comparison operator").value
        prop = self.expect("name", what="a property name").value
        return Comparison(prop, MIRRORED[operator], literal)


def parse(text):
    """Parse WQL text into a ``Query``; raise ``WqlSyntaxError``."""
    return _Parser(text).query()


def bind(query, cim_class):
    """Resolve ``query``'s names against ``cim_class``: canonical property names, literals converted to the property
    types. Raise ``WqlSemanticError`` for unknown properties, array properties in WHERE, or literals of a wrong type."""

    def resolve(name):
        prop = cim_class.find_property(name)
        if prop is None:
            raise WqlSemanticError("%s has no property %s" % (cim_class.name, name))
        return prop

    def bind_node(node):
        if isinstance(node, BoolOp):
            return BoolOp(node.operator, tuple(bind_node(operand) for operand in node.operands))
        if isinstance(node, Not):
            return Not(bind_node(node.operand))
        prop = resolve(node.prop)
        if prop.is_array:
            raise WqlSemanticError("array property %s cannot be used in WHERE" % prop.name)
        if isinstance(node, IsNull):
            return IsNull(prop.name, node.negated)
        if isinstance(node, Like):
            if prop.cim_type != "string":
                raise WqlSemanticError("LIKE needs a string property, %s is %s" % (prop.name, prop.cim_type))
            return Like(prop.name, node.pattern)
        return Comparison(prop.name, node.operator, _convert_literal(prop, node.literal))

    properties = None
    if query.properties is not None:
        properties = tuple(resolve(name).name for name in query.properties)
    where = bind_node(query.where) if query.where is not None else None
    return Query(query.text, cim_class.name, properties, where, cim_class)


def _convert_literal(prop, literal):
    cim_type = prop.cim_type
    if cim_type == "string":
        if isinstance(literal, bool):
            return "TRUE" if literal else "FALSE"
        return str(literal)
    if cim_type == "boolean":
        if isinstance(literal, bool):
            return literal
        if isinstance(literal, int) and literal in (0, 1):
            return bool(literal)
        if isinstance(literal, str) and literal.lower() in ("true", "false"):
            return literal.lower() == "true"
    elif cim_type in INTEGER_RANGES or cim_type in ("real32", "real64"):
        if isinstance(literal, str) and re.match(r"^[+-]?\d+(\.\d+)?$", literal.strip()):
            literal = float(literal) if "." in literal else int(literal)
        if isinstance(literal, (int, float)) and not isinstance(literal, bool):
            return literal
    elif cim_type == "datetime" and isinstance(literal, str):
        try:
            return parse_datetime(literal)
        except CimTypeError:
            pass
    raise WqlSemanticError("%r cannot be compared with %s (%s)" % (literal, prop.name, cim_type))


def like_to_regex(pattern):
    """A compiled, case-insensitive regex equivalent to a WQL LIKE pattern."""
    parts = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        elif char == "[":
            end = pattern.find("]", position + 1)
            if end == -1:
                raise WqlSemanticError("unterminated [ in LIKE pattern %r" % pattern)
            body = pattern[position + 1:end]
            negated = body.startswith("^")
            body = body[1:] if negated else body
            parts.append("[%s%s]" % ("^" if negated else "", "".join("\\" + c if c in "\\]^[" else c for c in body)))
            position = end
        else:
            parts.append(re.escape(char))
        position += 1
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)


def _compare(operator, left, right):
    if operator == "=":
        return left == right
    if operator in ("<>", "!="):
        return left != right
    if operator == "<":
        return left < right
    if operator == ">":
        return left > right
    if operator == "<=":
        return left <= right
    return left >= right


def _evaluate(node, cim_class, instance):
    if isinstance(node, BoolOp):
        results = (_evaluate(operand, cim_class, instance) for operand in node.operands)
        return all(results) if node.operator == "AND" else any(results)
    if isinstance(node, Not):
        return not _evaluate(node.operand, cim_class, instance)
    value = instance.get(node.prop)
    if isinstance(node, IsNull):
        return (value is not None) if node.negated else (value is None)
    if value is None:
        return False
    if isinstance(node, Like):
        return bool(like_to_regex(node.pattern).match(value))
    literal = node.literal
    cim_type = cim_class.find_property(node.prop).cim_type
    if cim_type == "string":
        value, literal = value.casefold(), literal.casefold()
    elif cim_type == "datetime":
        value = parse_datetime(value)
    return _compare(node.operator, value, literal)
