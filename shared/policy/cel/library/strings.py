"""CEL string functions: the standard ones and the strings extension (trim, split...), regex."""

from __future__ import annotations

import functools
import re
from typing import Any, Final

from shared.policy.cel.library.args import Function, int_arg, string_arg
from shared.policy.cel.values import (
    CelError,
    cel_eq,
    no_overload,
)


@functools.lru_cache(maxsize=512)
def compile_regex(pattern: str) -> re.Pattern[str]:
    """Compile an RE2-style pattern once (Python's re accepts the RE2 subset rules use)."""
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise CelError(f"invalid regular expression {pattern!r}: {exc}") from exc


def matches(text: Any, pattern: Any) -> bool:
    """text.matches(re): RE2 search semantics (unanchored)."""
    return (
        compile_regex(string_arg(pattern, "matches")).search(string_arg(text, "matches"))
        is not None
    )


def contains(text: Any, sub: Any) -> bool:
    """string.contains(sub)."""
    return string_arg(sub, "contains") in string_arg(text, "contains")


def starts_with(text: Any, prefix: Any) -> bool:
    """string.startsWith(prefix)."""
    return string_arg(text, "startsWith").startswith(string_arg(prefix, "startsWith"))


def ends_with(text: Any, suffix: Any) -> bool:
    """string.endsWith(suffix)."""
    return string_arg(text, "endsWith").endswith(string_arg(suffix, "endsWith"))


def char_at(text: Any, index: Any) -> str:
    """'abc'.charAt(1) == 'b'; index == size is ''."""
    s, i = string_arg(text, "charAt"), int_arg(index, "charAt")
    if i < 0 or i > len(s):
        raise CelError(f"index out of range: {i}")
    return s[i : i + 1]


def index_of(target: Any, sub: Any, offset: Any = 0) -> int:
    """string.indexOf(sub[, offset]) or list.indexOf(value)."""
    if isinstance(target, list):
        return next((i for i, x in enumerate(target) if cel_eq(x, sub)), -1)
    s, needle, start = (
        string_arg(target, "indexOf"),
        string_arg(sub, "indexOf"),
        int_arg(offset, "indexOf"),
    )
    if start < 0 or start > len(s):
        raise CelError(f"index out of range: {start}")
    return s.find(needle, start)


def last_index_of(target: Any, sub: Any, offset: Any = None) -> int:
    """string.lastIndexOf(sub[, offset]) or list.lastIndexOf(value)."""
    if isinstance(target, list):
        return next((i for i in range(len(target) - 1, -1, -1) if cel_eq(target[i], sub)), -1)
    s, needle = string_arg(target, "lastIndexOf"), string_arg(sub, "lastIndexOf")
    end = len(s) if offset is None else int_arg(offset, "lastIndexOf")
    if end < 0 or end > len(s):
        raise CelError(f"index out of range: {end}")
    return s.rfind(needle, 0, end + len(needle))


def lower_ascii(text: Any) -> str:
    """Lower-case ASCII letters only."""
    return "".join(c.lower() if c.isascii() else c for c in string_arg(text, "lowerAscii"))


def upper_ascii(text: Any) -> str:
    """Upper-case ASCII letters only."""
    return "".join(c.upper() if c.isascii() else c for c in string_arg(text, "upperAscii"))


def replace(text: Any, old: Any, new: Any, limit: Any = -1) -> str:
    """string.replace(old, new[, n])."""
    n = int_arg(limit, "replace")
    return string_arg(text, "replace").replace(
        string_arg(old, "replace"), string_arg(new, "replace"), n
    )


def split(text: Any, sep: Any, limit: Any = -1) -> list[str]:
    """string.split(sep[, n]) with Go's strings.SplitN semantics."""
    s, d, n = string_arg(text, "split"), string_arg(sep, "split"), int_arg(limit, "split")
    if n == 0:
        return []
    if d == "":
        parts = list(s)
        if n > 0 and len(parts) > n:
            parts = [*parts[: n - 1], "".join(parts[n - 1 :])]
        return parts
    return s.split(d, n - 1) if n > 0 else s.split(d)


def substring(text: Any, start: Any, end: Any = None) -> str:
    """string.substring(start[, end]) by code points."""
    s = string_arg(text, "substring")
    a = int_arg(start, "substring")
    b = len(s) if end is None else int_arg(end, "substring")
    if a < 0 or a > len(s) or b < a or b > len(s):
        raise CelError(f"index out of range: substring({a}, {b}) of a string of size {len(s)}")
    return s[a:b]


def trim(text: Any) -> str:
    """Strip leading and trailing Unicode white space."""
    return string_arg(text, "trim").strip()


def join(items: Any, sep: Any = "") -> str:
    """list(string).join([sep])."""
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise no_overload("join")
    return string_arg(sep, "join").join(items)


def reverse(text: Any) -> str:
    """Reverse a string by code points."""
    return string_arg(text, "reverse")[::-1]


def quote(text: Any) -> str:
    """strings.quote(s): a double-quoted, escaped string."""
    s = string_arg(text, "quote")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def find(text: Any, pattern: Any) -> str:
    """string.find(re): the first match or ''."""
    m = compile_regex(string_arg(pattern, "find")).search(string_arg(text, "find"))
    return m.group(0) if m else ""


def find_all(text: Any, pattern: Any, limit: Any = -1) -> list[str]:
    """string.findAll(re[, n])."""
    n = int_arg(limit, "findAll")
    found = [
        m.group(0)
        for m in compile_regex(string_arg(pattern, "findAll")).finditer(string_arg(text, "findAll"))
    ]
    return found if n < 0 else found[:n]


GLOBALS: Final[dict[str, Function]] = {"matches": matches, "strings.quote": quote}

MEMBERS: Final[dict[str, Function]] = {
    "contains": contains,
    "startsWith": starts_with,
    "endsWith": ends_with,
    "matches": matches,
    "charAt": char_at,
    "indexOf": index_of,
    "lastIndexOf": last_index_of,
    "lowerAscii": lower_ascii,
    "upperAscii": upper_ascii,
    "replace": replace,
    "split": split,
    "substring": substring,
    "trim": trim,
    "join": join,
    "reverse": reverse,
    "find": find,
    "findAll": find_all,
}
