"""Tokens of the segment language.

Columns are 1-based positions in the input string (code points), counted
across line breaks: an expression is one logical line even when an editor
wraps it in a text area."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal, TypeAlias

from app.segments.errors import SegmentError

TokenKind: TypeAlias = Literal["ident", "string", "number", "op", "(", ")", "[", "]", ",", ".", "end"]

MAX_LENGTH = 4000
MAX_STRING_LENGTH = 1000
MAX_NUMBER_DIGITS = 30

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_WHITESPACE = " \t\n\r"
_DIGITS = "0123456789"
_PUNCTUATION = {"(": "(", ")": ")", "[": "[", "]": "]", ",": ",", ".": "."}


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # as written (for messages)
    value: str  # decoded string contents; the text otherwise
    column: int

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the expression"
        shown = self.text if len(self.text) <= 30 else self.text[:27] + "..."
        return f"'{shown}'"


def forbidden_character(ch: str) -> bool:
    """Control characters (C0, DEL, C1) and lone surrogates: PostgreSQL cannot
    store NUL and psycopg cannot encode a surrogate, and none of them belongs
    in a condition an editor typed."""
    category = unicodedata.category(ch)
    return category == "Cs" or (category == "Cc" and ch not in _WHITESPACE)


def _check_input(text: str) -> None:
    if len(text) > MAX_LENGTH:
        raise SegmentError(f"the expression is {len(text)} characters long (at most {MAX_LENGTH})", MAX_LENGTH + 1)
    for index, ch in enumerate(text):
        if forbidden_character(ch):
            raise SegmentError(f"control character U+{ord(ch):04X} is not allowed", index + 1)


def _string(text: str, start: int) -> tuple[str, int]:
    """Decode the string literal opening at ``start``; return it and the index after it."""
    out: list[str] = []
    i = start + 1
    while True:
        if i >= len(text):
            raise SegmentError("this string is not closed: add a '\"'", start + 1)
        ch = text[i]
        if ch == '"':
            break
        if ch in "\n\r\t":
            raise SegmentError("write a line break or tab inside a string as \\n or \\t", i + 1)
        if ch == "\\":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u":
                digits = text[i + 2 : i + 6]
                if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                    raise SegmentError("\\u needs four hexadecimal digits, e.g. \\u00e9", i + 1)
                decoded = chr(int(digits, 16))
                if forbidden_character(decoded):
                    raise SegmentError(f"\\u{digits} is a control character or a lone surrogate", i + 1)
                out.append(decoded)
                i += 6
                continue
            raise SegmentError(f"unknown escape '\\{nxt}' (use \\\", \\\\, \\n, \\t, \\r or \\uXXXX)", i + 1)
        out.append(ch)
        i += 1
    value = "".join(out)
    if len(value) > MAX_STRING_LENGTH:
        raise SegmentError(f"this string is {len(value)} characters long (at most {MAX_STRING_LENGTH})", start + 1)
    return value, i + 1


def tokenize(text: str) -> list[Token]:
    _check_input(text)
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        column = i + 1
        if ch in _WHITESPACE:
            i += 1
        elif ch == '"':
            value, end = _string(text, i)
            tokens.append(Token("string", text[i:end], value, column))
            i = end
        elif ch in _DIGITS or (ch == "-" and i + 1 < len(text) and text[i + 1] in _DIGITS):
            match = _NUMBER_RE.match(text, i)
            assert match is not None
            end = match.end()
            if end < len(text) and (text[end].isalnum() or text[end] in "._"):
                raise SegmentError("malformed number: write digits with an optional '-' and '.', e.g. -12.5", column)
            if sum(c in _DIGITS for c in match.group()) > MAX_NUMBER_DIGITS:
                raise SegmentError(f"this number has more than {MAX_NUMBER_DIGITS} digits", column)
            tokens.append(Token("number", match.group(), match.group(), column))
            i = end
        elif (match := _IDENT_RE.match(text, i)) is not None:
            tokens.append(Token("ident", match.group(), match.group(), column))
            i = match.end()
        elif ch in "=!<>":
            two = text[i : i + 2]
            if two in ("!=", "<=", ">="):
                tokens.append(Token("op", two, two, column))
                i += 2
            elif two == "==":
                raise SegmentError("compare with a single '='", column)
            elif two == "<>":
                raise SegmentError("write '!=' for 'not equal'", column)
            elif ch == "!":
                raise SegmentError("unexpected '!': write 'not' or '!='", column)
            else:
                tokens.append(Token("op", ch, ch, column))
                i += 1
        elif ch in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[ch], ch, ch, column))  # type: ignore[arg-type]
            i += 1
        elif ch in "'\u2018\u2019\u201c\u201d":
            raise SegmentError('strings are written in straight double quotes: "like this"', column)
        else:
            raise SegmentError(f"unexpected character {ch!r}", column)
    tokens.append(Token("end", "", "", len(text) + 1))
    return tokens
