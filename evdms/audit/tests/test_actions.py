"""The kinds of audit event are one closed list: a misspelt action raises instead of
starting a kind of its own that no history or filter would ever look for."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

import evdms
from evdms.audit.models import AuditAction, AuditEvent
from evdms.audit.services import audit_record

# What rows already hold. A value may be added to AuditAction, never renamed: a renamed
# one would cut the existing rows off from their histories and report filters.
STORED_BEFORE_THE_CHOICES = {
    "admin.activate",
    "admin.change_role",
    "admin.disable",
    "admin.enable",
    "admin.invitation_resend",
    "admin.invite",
    "api_key.create",
    "api_key.revoke",
    "bank_account.set",
    "charger.link",
    "charger.register",
    "charger.unlink",
    "charging_session.accept",
    "charging_session.hold",
    "charging_session.reject",
    "connection.create",
    "connection.disable",
    "connection.enable",
    "connection.update",
    "home_price.set",
    "invitation_batch.create",
    "membership.approve",
    "membership.auto_approve",
    "membership.deny",
    "membership.leave",
    "membership.move",
    "membership.remove",
    "membership.request",
    "membership.withdraw",
    "operator_api_key.create",
    "organisation.update",
    "payout_batch.create",
    "payout_batch.export",
    "payout_batch.lines_paid",
    "payout_batch.paid",
    "payout_line.fail",
    "payout_line.paid",
    "two_factor.disable",
    "two_factor.enable",
    "two_factor.recovery_codes_renew",
}


def test_every_action_rows_already_hold_keeps_its_value():
    assert set(AuditAction.values) >= STORED_BEFORE_THE_CHOICES


def test_an_unknown_action_raises_and_records_nothing(world):
    actor = world.actor(world.nadia)
    with pytest.raises(ValueError, match=r"connection\.udpate"):
        audit_record(actor=actor, action="connection.udpate", target=world.org_a)  # type: ignore[arg-type]
    assert not AuditEvent.objects.exists()


def test_a_member_is_stored_as_its_plain_value(world):
    audit_record(
        actor=world.actor(world.nadia), action=AuditAction.ORGANISATION_UPDATE, target=world.org_a
    )
    stored = AuditEvent.objects.values_list("action", flat=True).get()
    assert type(stored) is str and stored == "organisation.update"
    assert AuditEvent.objects.filter(action="organisation.update").count() == 1


def test_the_field_refuses_an_action_outside_the_choices(world):
    event = AuditEvent(actor_label="x", action="connection.udpate", target_type="t", target_id="1")
    with pytest.raises(ValidationError) as refused:
        event.full_clean()
    assert "action" in refused.value.message_dict


# --- every action the code base records is a member, read from the source -------------

ROOT = Path(evdms.__file__).resolve().parent


def _product_trees() -> dict[Path, ast.Module]:
    return {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(ROOT.rglob("*.py"))
        if "tests" not in path.parts and "migrations" not in path.parts
    }


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _calls_with_their_function(
    tree: ast.Module,
) -> Iterator[tuple[ast.Call, ast.FunctionDef | ast.AsyncFunctionDef | None]]:
    """Every call in the module and the innermost function it sits in."""
    inside: dict[ast.Call, ast.FunctionDef | ast.AsyncFunctionDef | None] = {}
    for node in ast.walk(tree):  # outer functions come first; inner ones overwrite
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for call in ast.walk(node):
                if isinstance(call, ast.Call):
                    inside[call] = node
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node, inside.get(node)


def _argument(call: ast.Call, params: list[str], name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if name in params and params.index(name) < len(call.args):
        return call.args[params.index(name)]
    return None


def _positional(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [arg.arg for arg in (*function.args.posonlyargs, *function.args.args)]


def action_problems(trees: dict[Path, ast.Module]) -> tuple[list[str], int]:
    """Each action passed to ``audit_record`` (following a helper's parameter back to the
    helper's callers) that is not an ``AuditAction`` member, and how many were checked."""
    definitions: dict[str, list[str]] = {"audit_record": []}  # name -> positional params
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                definitions.setdefault(node.name, _positional(node))
    problems: list[str] = []
    checked = 0
    pending = [("audit_record", "action")]
    seen: set[tuple[str, str]] = set()
    while pending:
        function_name, param = pending.pop()
        if (function_name, param) in seen:
            continue
        seen.add((function_name, param))
        for path, tree in trees.items():
            where = path.relative_to(ROOT.parent)
            for call, function in _calls_with_their_function(tree):
                if _callee(call) != function_name:
                    continue
                value = _argument(call, definitions.get(function_name, []), param)
                if value is None:
                    problems.append(f"{where}:{call.lineno} passes no {param}")
                    continue
                values = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
                for expr in values:
                    checked += 1
                    if isinstance(expr, ast.Constant) and expr.value in AuditAction.values:
                        continue
                    if (
                        isinstance(expr, ast.Attribute)
                        and isinstance(expr.value, ast.Name)
                        and expr.value.id == "AuditAction"
                        and expr.attr in AuditAction.names
                    ):
                        continue
                    if (
                        isinstance(expr, ast.Name)
                        and function is not None
                        and expr.id
                        in [a.arg for a in ast.walk(function.args) if isinstance(a, ast.arg)]
                    ):
                        pending.append((function.name, expr.id))  # a helper passes it on
                        continue
                    problems.append(f"{where}:{expr.lineno} {ast.unparse(expr)}")
    return problems, checked


def test_every_action_the_code_records_is_a_member():
    problems, checked = action_problems(_product_trees())
    assert problems == []
    assert checked >= len(STORED_BEFORE_THE_CHOICES)  # the scan reached the call sites


def test_the_scan_catches_a_typo_an_f_string_and_a_helpers_caller():
    source = """
def helper(thing, action):
    audit_record(actor=None, action=action, target=thing)

def a(x):
    audit_record(actor=None, action="membership.witdraw", target=x)
    audit_record(actor=None, action=f"charger.{'link' if x else 'unlink'}", target=x)
    audit_record(actor=None, action=AuditAction.CHARGER_LNK, target=x)
    helper(x, "payout_line.payd")
    helper(x, AuditAction.PAYOUT_LINE_PAID)
    audit_record(actor=None, action=AuditAction.CHARGER_LINK if x else "charger.unlink", target=x)
"""
    problems, _ = action_problems({ROOT / "example.py": ast.parse(source)})
    assert [problem.split(" ", 1)[1] for problem in problems] == [
        "'membership.witdraw'",
        "f\"charger.{('link' if x else 'unlink')}\"",
        "AuditAction.CHARGER_LNK",
        "'payout_line.payd'",
    ]
