"""Parsing CEL: cel-python's lark grammar (the CEL grammar), built once per process."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from celpy import celparser
from lark import Lark, Token, Tree


class CelCompileError(ValueError):
    """A rule that does not parse or uses something we cannot compile."""


@functools.lru_cache(maxsize=1)
def _parser() -> celparser.CELParser:
    return celparser.CELParser()


def load_grammar(cache_file: Path) -> None:
    """Build cel-python's CEL parser through lark's grammar cache at ``cache_file``.

    Analysing the CEL grammar takes about 0.3-0.4 s at every start; lark can store the
    analysed tables (a pickle: keep the file in a folder only the user can write) and load
    them in a fraction of that. The options are cel-python 0.5.0's own (``CELParser``); a
    cache that does not match the grammar, options or lark version is rebuilt by lark. Call
    it before the first rule is compiled; without it the parser is built without a cache.
    """
    if celparser.CELParser.CEL_PARSER is not None:
        return
    grammar = (Path(celparser.__file__).parent / "cel.lark").read_text()
    celparser.CELParser.CEL_PARSER = Lark(
        grammar,
        parser="lalr",
        start="expr",
        debug=True,
        g_regex_flags=re.M,
        lexer_callbacks={"IDENT": celparser.CELParser.ambiguous_literals},
        propagate_positions=True,
        maybe_placeholders=False,
        priority="invert",
        tree_class=Tree,
        cache=str(cache_file),
    )


def parse(source: str) -> Tree[Token]:
    """The parse tree of ``source``; raise `CelCompileError` with the parser's message."""
    try:
        tree: Tree[Token] = _parser().parse(source)
    except Exception as exc:  # celpy raises its own and lark's errors
        raise CelCompileError(f"syntax error: {str(exc).strip()}") from exc
    return tree
