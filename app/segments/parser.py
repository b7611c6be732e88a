"""A hand-written recursive-descent parser for segment expressions.

Grammar (EBNF; keywords are case-insensitive, field names and attribute keys
are not)::

    segment    = or_expr END ;
    or_expr    = and_expr { "or" and_expr } ;
    and_expr   = not_expr { "and" not_expr } ;
    not_expr   = "not" not_expr | primary ;
    primary    = "(" or_expr ")" | call | condition ;
    call       = function "(" integer ")" ;
    function   = "opened_in_last" | "clicked_in_last" | "not_opened_in_last"
               | "bounced_softly_in_last_days" ;
    condition  = field ( compare_op value | "contains" value | "in" list
                       | "is" [ "not" ] "set" ) ;
    compare_op = "=" | "!=" | "<" | ">" | "<=" | ">=" ;
    field      = "email" | "domain" | "name" | "signup_date" | "source" | "list"
               | "attribs" "." key ;
    key        = lowercase letter { lowercase letter | digit | "_" } ;
    list       = "[" value { "," value } "]" ;
    value      = string | number | "true" | "false" | "date" "(" string ")" ;
    string     = '"' { character | "\\" ( '"' | "\\" | "n" | "t" | "r" | "u" hex hex hex hex ) } '"' ;
    number     = [ "-" ] digit { digit } [ "." digit { digit } ] ;

Precedence: ``not`` binds tighter than ``and``, which binds tighter than
``or``; a comparison binds tighter than all three (``not a = 1`` is
``not (a = 1)``).

Examples::

    attribs.plan = "pro" and (attribs.country in ["DE", "FR"] or domain = "example.org")
    signup_date >= date("2026-01-01") and not list = "internal"
    attribs.tags contains "beta" or clicked_in_last(3)
    not_opened_in_last(5) and attribs.vip is not set

Hostile input is refused with a :class:`SegmentError` before it costs much:
at most 4,000 characters, 32 levels of nesting, 100 conditions and 500 values
in one list; no control characters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from app.attributes import AttributeType, parse_iso_date, valid_key
from app.segments.errors import SegmentError
from app.segments.fields import ATTRIBUTES, BUILTIN_FIELDS, FIELD_NAMES, FUNCTION_LIMITS, check, suggest
from app.segments.lexer import Token, tokenize
from app.segments.nodes import (
    COMPARE_OPS,
    FUNCTIONS,
    And,
    Boolean,
    Call,
    CompareOp,
    Comparison,
    DateValue,
    Expr,
    Field,
    FunctionName,
    InList,
    IsSet,
    Not,
    Number,
    Or,
    Scalar,
    Text,
)

MAX_DEPTH = 32
MAX_CONDITIONS = 100
MAX_LIST_VALUES = 500
_KEYWORDS = {"and", "or", "not", "in", "is", "set", "contains", "true", "false"}


def parse(text: str, attributes: Mapping[str, AttributeType] | None = None) -> Expr:
    """Parse ``text`` into an AST and type-check it (custom attributes only
    when their declarations are given). Raises :class:`SegmentError`."""
    if not isinstance(text, str):
        raise SegmentError("a segment expression must be text")
    if not text.strip():
        raise SegmentError('the expression is empty: write a condition such as attribs.plan = "pro"', 1)
    expr = _Parser(tokenize(text)).segment()
    check(expr, attributes)
    return expr


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.count = 0

    # --- token helpers -------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.token
        if token.kind != "end":
            self.pos += 1
        return token

    def is_word(self, *words: str, token: Token | None = None) -> bool:
        token = token or self.token
        return token.kind == "ident" and token.value.lower() in words

    def expect(self, kind: str, what: str, after: Token) -> Token:
        if self.token.kind != kind:
            raise SegmentError(
                f"expected {what} after {after.describe()}, found {self.token.describe()}", self.token.column
            )
        return self.advance()

    def nest(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SegmentError(f"the expression is nested more than {MAX_DEPTH} levels deep", column)

    # --- grammar -------------------------------------------------------------

    def segment(self) -> Expr:
        expr = self.or_expr()
        if self.token.kind != "end":
            if self.token.kind == ")":
                raise SegmentError("this ')' has no matching '('", self.token.column)
            previous = self.tokens[self.pos - 1]
            raise SegmentError(
                f"expected 'and', 'or' or the end after {previous.describe()}, found {self.token.describe()}",
                self.token.column,
            )
        return expr

    def or_expr(self) -> Expr:
        first = self.and_expr()
        operands = [first]
        while self.is_word("or"):
            self.advance()
            operands.append(self.and_expr())
        return first if len(operands) == 1 else Or(tuple(operands), _column_of(first))

    def and_expr(self) -> Expr:
        first = self.not_expr()
        operands = [first]
        while self.is_word("and"):
            self.advance()
            operands.append(self.not_expr())
        return first if len(operands) == 1 else And(tuple(operands), _column_of(first))

    def not_expr(self) -> Expr:
        if self.is_word("not"):
            token = self.advance()
            self.nest(token.column)
            operand = self.not_expr()
            self.depth -= 1
            return Not(operand, token.column)
        return self.primary()

    def primary(self) -> Expr:
        token = self.token
        if token.kind == "(":
            self.advance()
            self.nest(token.column)
            expr = self.or_expr()
            self.depth -= 1
            if self.token.kind != ")":
                if self.token.kind == "end":
                    raise SegmentError("this '(' is never closed: add a ')'", token.column)
                raise SegmentError(f"expected 'and', 'or' or ')', found {self.token.describe()}", self.token.column)
            self.advance()
            return expr
        if token.kind != "ident" or token.value.lower() in _KEYWORDS:
            raise SegmentError(f"expected a condition, found {token.describe()}", token.column)
        self.count += 1
        if self.count > MAX_CONDITIONS:
            raise SegmentError(f"the expression has more than {MAX_CONDITIONS} conditions", token.column)
        if self.peek().kind == "(":
            return self.call()
        return self.condition()

    def call(self) -> Call:
        name = self.advance()
        if name.value not in FUNCTIONS:
            if name.value in BUILTIN_FIELDS or name.value == ATTRIBUTES:
                raise SegmentError(f"{name.value} is a field, not a function", name.column)
            if name.value.lower() == "date":
                raise SegmentError(
                    'a date is a value: compare a field with it, e.g. signup_date > date("2026-01-01")', name.column
                )
            raise SegmentError(
                f"unknown function {name.value!r}{suggest(name.value, list(FUNCTIONS))} "
                f"(functions: {', '.join(FUNCTIONS)})",
                name.column,
            )
        function: FunctionName = name.value
        open_paren = self.advance()
        limit, unit = FUNCTION_LIMITS[function]
        argument = self.token
        if argument.kind != "number" or "." in argument.value:
            raise SegmentError(
                f"{function} takes a whole number of {unit}, e.g. {function}(3)",
                argument.column if argument.kind != "end" else open_paren.column,
            )
        self.advance()
        count = int(argument.value)
        if not 1 <= count <= limit:
            raise SegmentError(f"{function} takes from 1 to {limit} {unit}, not {argument.value}", argument.column)
        if self.token.kind != ")":
            raise SegmentError(
                f"expected ')' after {argument.describe()}, found {self.token.describe()}", self.token.column
            )
        self.advance()
        return Call(function, count, name.column)

    def field(self) -> Field:
        token = self.advance()
        name = token.value
        if name in BUILTIN_FIELDS:
            return Field(name, column=token.column)
        if name != ATTRIBUTES:
            raise SegmentError(
                f"unknown field {name!r}{suggest(name, [*BUILTIN_FIELDS, ATTRIBUTES])} "
                f"(fields: {', '.join(FIELD_NAMES)})",
                token.column,
            )
        dot = self.expect(".", "'.' and an attribute key (attribs.plan)", token)
        key = self.expect("ident", "an attribute key", dot)
        if not valid_key(key.value):
            raise SegmentError(
                f"attribute keys are lowercase letters, digits and '_', starting with a "
                f"letter (at most 64): {key.value[:40]!r} is not one",
                key.column,
            )
        if self.token.kind == ".":
            raise SegmentError("attributes have one level: attribs.key, not attribs.key.sub", self.token.column)
        return Field(ATTRIBUTES, key.value, token.column)

    def condition(self) -> Comparison | InList | IsSet:
        field = self.field()
        token = self.token
        if token.kind == "op":
            self.advance()
            op: CompareOp = token.value  # type: ignore[assignment]
            assert op in COMPARE_OPS
            return Comparison(field, op, self.value(token), token.column)
        if self.is_word("contains"):
            self.advance()
            return Comparison(field, "contains", self.value(token), token.column)
        if self.is_word("in"):
            self.advance()
            return InList(field, self.values(token), token.column)
        if self.is_word("is"):
            self.advance()
            negated = self.is_word("not")
            if negated:
                self.advance()
            if not self.is_word("set"):
                raise SegmentError(
                    f"expected 'set' after {self.tokens[self.pos - 1].describe()} "
                    f"(is set, is not set), found {self.token.describe()}",
                    self.token.column,
                )
            self.advance()
            return IsSet(field, negated, token.column)
        if self.is_word("not") and self.is_word("in", "contains", token=self.peek()):
            raise SegmentError(f"write not ({field.label} {self.peek().value} ...) to negate", token.column)
        raise SegmentError(
            f"expected an operator after {field.label} (=, !=, <, >, <=, >=, contains, in, "
            f"is set), found {token.describe()}",
            token.column,
        )

    def value(self, after: Token) -> Scalar:
        token = self.token
        if token.kind == "string":
            self.advance()
            return Text(token.value, token.column)
        if token.kind == "number":
            self.advance()
            return Number(Decimal(token.value), token.column)
        if self.is_word("true", "false"):
            self.advance()
            return Boolean(token.value.lower() == "true", token.column)
        if self.is_word("date") and self.peek().kind == "(":
            return self.date_value()
        if token.kind == "[":
            raise SegmentError(
                f"a list of values goes with 'in': write field in [...], not {after.describe()} [...]", token.column
            )
        raise SegmentError(f"expected a value after {after.describe()}, found {token.describe()}", token.column)

    def date_value(self) -> DateValue:
        name = self.advance()
        open_paren = self.advance()
        literal = self.expect("string", 'a quoted date such as "2026-03-01"', open_paren)
        parsed: date | None = parse_iso_date(literal.value)
        if parsed is None:
            raise SegmentError(
                f'{literal.text[:40]} is not a date: write date("YYYY-MM-DD"), e.g. date("2026-03-01")', literal.column
            )
        self.expect(")", "')'", literal)
        return DateValue(parsed, name.column)

    def values(self, after: Token) -> tuple[Scalar, ...]:
        open_bracket = self.token
        if open_bracket.kind != "[":
            raise SegmentError(
                f'expected a list such as ["DE", "FR"] after {after.describe()}, found {open_bracket.describe()}',
                open_bracket.column,
            )
        self.advance()
        if self.token.kind == "]":
            raise SegmentError("the list is empty: give at least one value", self.token.column)
        items = [self.value(open_bracket)]
        while self.token.kind == ",":
            comma = self.advance()
            items.append(self.value(comma))
            if len(items) > MAX_LIST_VALUES:
                raise SegmentError(f"a list holds at most {MAX_LIST_VALUES} values", comma.column)
        closing = self.advance()
        if closing.kind != "]":
            if closing.kind == "end":
                raise SegmentError("this '[' is never closed: add a ']'", open_bracket.column)
            raise SegmentError(f"expected ',' or ']' in the list, found {closing.describe()}", closing.column)
        return tuple(items)


def _column_of(expr: Expr) -> int:
    """Where ``expr`` starts in the input (a condition starts at its field)."""
    if isinstance(expr, Comparison | InList | IsSet):
        return expr.field.column
    return expr.column
