"""A ServiceError's message is read by people, so it goes through gettext (issue 16 item 5).

The scan reads the source rather than raising every error: a literal or an f-string handed to
ServiceError is untranslated whatever the language of the request.
"""

import ast
from pathlib import Path

import refuge

SRC = Path(refuge.__file__).parent

# Files skipped while another branch converts them; empty once every branch is merged.
PENDING: set[str] = set()


def _untranslated(node: ast.expr) -> bool:
    """A bare string, an f-string, or a string built from one with % or +."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return _untranslated(node.left)
    return False


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def untranslated_service_errors(source: str) -> list[int]:
    """Line numbers of the ServiceError calls whose message is not wrapped in gettext."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or _called_name(node) != "ServiceError":
            continue
        message = node.args[0] if node.args else None
        for keyword in node.keywords:
            if keyword.arg == "message":
                message = keyword.value
        if message is not None and _untranslated(message):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_scan_sees_literals_and_f_strings_but_not_gettext():
    source = (
        "raise ServiceError('Plain.')\n"
        "raise ServiceError(f'Unknown {x!r}.', 'invalid')\n"
        "raise errors.ServiceError(message='Keyword.')\n"
        "raise ServiceError('Built %s' % x)\n"
        "raise ServiceError(_('Translated.'))\n"
        "raise ServiceError(_('Unknown %(x)r.') % {'x': x})\n"
        "raise ServiceError(str(exc), 'invalid_answer')\n"
    )
    assert untranslated_service_errors(source) == [1, 2, 3, 4]


def test_every_service_error_message_goes_through_gettext():
    found = []
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name in PENDING:
            continue
        found += [f"{name}:{line}" for line in untranslated_service_errors(path.read_text())]
    assert not found, "ServiceError messages not wrapped in gettext: " + ", ".join(found)


def test_the_pending_files_still_exist():
    # A renamed or deleted file must leave the list too, or the skip would outlive its reason.
    assert all((SRC / name).exists() for name in PENDING)
