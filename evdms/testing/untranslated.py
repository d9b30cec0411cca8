"""Finding English that is not marked for translation (issue #19).

Two readers, one per kind of source:

- templates: the text between tags and tags' visible attributes (``title``,
  ``aria-label``, ``placeholder``, ``alt``, ``data-confirm``), and string literals in
  ``{{ }}`` filters (``default:"never"``), outside ``{% translate %}`` /
  ``{% blocktranslate %}`` and comments;
- Python: string literals where a person reads them — ``ValidationError``,
  ``add_error``, ``messages.*``, form ``label`` / ``help_text`` / ``empty_label`` /
  ``verbose_name`` keywords, ``error_messages`` values and choice labels — that are not
  wrapped in ``gettext`` / ``gettext_lazy`` / ``pgettext`` / ``ngettext``.

Codes, units and names that every language writes the same (``kWh``, ``IBAN``, ``EUR``,
``evdms``) are not English; everything else with a letter in it is.
"""

from __future__ import annotations

import ast
import html
import re
from dataclasses import dataclass
from pathlib import Path

from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parents[1]  # the evdms package

# Written the same in every language of the product.
CODES = frozenset(
    [
        "evdms",
        "kwh",
        "wh",
        "kw",
        "w",
        "eur",
        "gbp",
        "chf",
        "sek",
        "nok",
        "dkk",
        "pln",
        "czk",
        "huf",
        "iban",
        "bic",
        "sepa",
        "vat",
        "csv",
        "xlsx",
        "pdf",
        "json",
        "api",
        "id",
        "ocpp",
        "ocpi",
        "rfid",
        "uid",
        "emsp",
        "cpo",
        "url",
        "http",
        "https",
        "www",
        "otp",
        "totp",
        "qr",
        "utc",
        "cet",
        "cest",
        "ok",
        "n/a",
        "e.g",
        "ac",
        "dc",
        "ev",
        "sms",
        "pin",
        "en",
        "nl",
        "de",
        "fr",
        "iso",
        "xml",
        "ubl",
        "cii",
    ]
)
_WORD = re.compile(r"[^\W\d_]{2,}")
_TAG = re.compile(r"<[^>]*>", re.S)
_VISIBLE_ATTRIBUTE = re.compile(
    r"""\b(?:title|aria-label|placeholder|alt|data-confirm)\s*=\s*(["'])(.*?)\1""", re.S
)
# A marked literal (``_("never")``, ``date:_("j F Y")``) is taken whole, so its closing
# quote does not open a literal that runs to the next filter's ("|default:").
_FILTER_LITERAL = re.compile(r"""_\((["'])[^"']*\1\)|(["'])([^"']*)\2""")
_NOT_TEXT_FILTERS = re.compile(r"""\|\s*(?:date|time|stringformat|floatformat)\s*:\s*$""")
_TAGS = re.compile(r"\{[%{#].*?[%}#]\}", re.S)  # template tags left inside attributes


def is_english(text: str) -> bool:
    """Whether ``text`` has a word that is not a code, a unit or a placeholder."""
    text = html.unescape(_TAGS.sub(" ", text))
    text = re.sub(r"%\(\w+\)[sd]|\{\w*\}", " ", text)  # placeholders
    return any(word.lower() not in CODES for word in _WORD.findall(text))


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT.parent)}:{self.line}: {self.text.strip()[:80]!r}"


def _markup_texts(text: str) -> list[str]:
    """The visible words of a piece of template text: between tags, and in attributes
    a person reads."""
    found = [m.group(2) for m in _VISIBLE_ATTRIBUTE.finditer(text)]
    # Attributes are dropped with their tag; the text between tags stays.
    found.append(_TAG.sub(" ", text))
    return found


def _variable_literals(contents: str) -> list[str]:
    found = []
    for match in _FILTER_LITERAL.finditer(contents):
        if match.group(3) is None:
            continue  # marked for translation
        if _NOT_TEXT_FILTERS.search(contents[: match.start()]):
            continue  # a date format, not words
        found.append(match.group(3))
    return found


def template_findings(path: Path) -> list[Finding]:
    source = path.read_text()
    is_markup = path.suffix == ".html"
    findings: list[Finding] = []
    inside_translation = 0
    inside_comment = False
    # A tag that opens in one text token may hold a {{ }} and close in the next: keep
    # the unclosed part and read it with what follows.
    carry = ""
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split(" ", 1)[0]
            if name == "comment":
                inside_comment = True
            elif name == "endcomment":
                inside_comment = False
            elif name in ("blocktranslate", "blocktrans"):
                inside_translation += 1
            elif name in ("endblocktranslate", "endblocktrans"):
                inside_translation -= 1
            continue
        if inside_comment or inside_translation:
            continue
        if token.token_type == TokenType.VAR:
            texts = _variable_literals(token.contents)
            if carry:
                carry += " {{ }} "
        elif token.token_type == TokenType.TEXT:
            if not is_markup:
                texts = [token.contents]
            else:
                chunk = carry + token.contents
                cut = chunk.rfind("<")
                if cut > chunk.rfind(">"):
                    chunk, carry = chunk[:cut], chunk[cut:]
                else:
                    carry = ""
                texts = _markup_texts(chunk)
        else:
            continue
        findings.extend(
            Finding(path, token.lineno or 0, " ".join(text.split()))
            for text in texts
            if is_english(text)
        )
    return findings


# --- Python ---------------------------------------------------------------------------

_TRANSLATORS = frozenset(
    [
        "_",
        "gettext",
        "gettext_lazy",
        "pgettext",
        "pgettext_lazy",
        "ngettext",
        "ngettext_lazy",
        "npgettext",
        "npgettext_lazy",
        "format_lazy",
    ]
)
_READ_KEYWORDS = frozenset(
    ["label", "help_text", "empty_label", "verbose_name", "verbose_name_plural", "message"]
)
_MESSAGE_CALLS = frozenset(["success", "info", "warning", "error", "debug", "add_message"])


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _literal(node: ast.AST | None) -> str | None:
    """A plain or formatted string literal's text (an f-string's fixed parts)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(
            part.value
            for part in node.values
            if isinstance(part, ast.Constant) and isinstance(part.value, str)
        )
    if isinstance(node, ast.BinOp):  # "…" + "…", "…" % x
        return " ".join(filter(None, (_literal(node.left), _literal(node.right))))
    return None


class _Reader(ast.NodeVisitor):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.findings: list[Finding] = []

    def _check(self, node: ast.AST | None) -> None:
        text = _literal(node)
        if text is not None and node is not None and is_english(text):
            self.findings.append(Finding(self.path, getattr(node, "lineno", 0), text))

    def visit_Call(self, node: ast.Call) -> None:
        name = _callee(node)
        if name in _TRANSLATORS:
            return  # marked: nothing inside is read as literal English
        if name == "ValidationError" and node.args:
            self._check(node.args[0])
        elif name == "add_error" and len(node.args) >= 2:
            self._check(node.args[1])
        elif name in _MESSAGE_CALLS and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id == "messages" and len(node.args) >= 2:
                self._check(node.args[-1] if name != "add_message" else node.args[2])
        for keyword in node.keywords:
            if keyword.arg in _READ_KEYWORDS:
                self._check(keyword.value)
            elif keyword.arg == "error_messages" and isinstance(keyword.value, ast.Dict):
                for value in keyword.value.values:
                    self._check(value)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {getattr(base, "attr", getattr(base, "id", "")) for base in node.bases}
        if bases & {"TextChoices", "IntegerChoices", "Choices"}:
            for statement in node.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple):
                    label = statement.value.elts[-1]
                    if len(statement.value.elts) > 1:
                        self._check(label)
        self.generic_visit(node)


def python_findings(path: Path) -> list[Finding]:
    reader = _Reader(path)
    reader.visit(ast.parse(path.read_text(), filename=str(path)))
    return reader.findings


# --- which files ------------------------------------------------------------------------


def template_files() -> list[Path]:
    return sorted(
        p for p in ROOT.glob("*/templates/**/*") if p.suffix in (".html", ".txt") and p.is_file()
    )


def _machine_module(path: Path) -> bool:
    """Code read by programs (the API answers in English), tests, migrations, tools."""
    parts = set(path.relative_to(ROOT).parts)
    name = path.name
    return bool(
        parts & {"tests", "migrations", "management", "testing", "ocpi"}
        or name.startswith("api")
        or name in ("schemas.py", "admin.py", "settings.py", "demo.py")
    )


def python_files() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if not _machine_module(p))


def findings_by_file() -> dict[Path, list[Finding]]:
    result: dict[Path, list[Finding]] = {}
    for path in template_files():
        result[path] = template_findings(path)
    for path in python_files():
        result[path] = python_findings(path)
    return {path: found for path, found in result.items() if found}
