"""The text a fix replaces, so that a rule's edit lands where its node's span says.

A fix that replaces a node replaces the node's *span*: for an expression that is the text
between its own parentheses (`(2, 2)` spans `2, 2`), for an argument the text from its star
or keyword to the end of its value, its value's parentheses included but not the comma or
the whitespace and comments after it. `code_for_node` gives more: the parentheses and the
whitespace the node owns. Building an edit from that text and writing it over the span
doubles the parentheses or the comma (`stride=((2, 2), bias=False))`), so rules build
their edits from `spanned_code`, and add an argument with `argument_insertion`.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

CodeFor = Callable[[cst.CSTNode], str]


def _owned_text(node: cst.CSTNode, code_for: CodeFor) -> tuple[str, str]:
    """The text the node owns before and after its span."""
    if isinstance(node, cst.Arg):
        comma = code_for(node.comma) if isinstance(node.comma, cst.Comma) else ""
        return "", comma + code_for(node.whitespace_after_arg)
    lpar = getattr(node, "lpar", ())
    rpar = getattr(node, "rpar", ())
    return "".join(code_for(p) for p in lpar), "".join(code_for(p) for p in rpar)


def spanned_code(node: cst.CSTNode, code_for: CodeFor) -> str | None:
    """The text of `node`'s span, or None when it runs over several lines.

    Over several lines, the text a detached node prints may differ from the file's (the
    indentation of continuation lines belongs to the enclosing block), so no edit is built
    from it.
    """
    full = code_for(node)
    before, after = _owned_text(node, code_for)
    if not full.startswith(before) or not full.endswith(after):
        return None
    text = full[len(before) : len(full) - len(after)]
    return None if "\n" in text or "\r" in text else text


def argument_insertion(call: cst.Call, code_for: CodeFor, added: str) -> tuple[cst.Arg, str] | None:
    """Where and how to add the keyword argument `added` to `call`: (argument, its new text).

    The new text replaces the argument's span: in `nn.Conv2d(1, 8, 3, stride=(2, 2),  # c`
    the span of `stride=(2, 2)` becomes `stride=(2, 2), bias=False`, and the comma and the
    comment after it stay. The last argument is preferred; when its text runs over several
    lines, the last keyword argument on one line (a keyword may follow any keyword). None
    when neither exists, or when a spread mapping (`**kwargs`) may already hold the keyword:
    it would be passed twice.
    """
    args = call.args
    if not args or any(arg.star == "**" for arg in args):
        return None
    candidates = [args[-1], *(arg for arg in reversed(args[:-1]) if arg.keyword is not None)]
    for arg in candidates:
        text = spanned_code(arg, code_for)
        if text is not None:
            return arg, f"{text}, {added}"
    return None
