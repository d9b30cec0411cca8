"""The import structure the architecture promises, read from the source with ``ast``.

Areas talk through each other's services and selectors, never each other's views, and
the modules' top-level imports run one way (a cycle makes the import order decide
whether a module works, and ties areas together that should stand apart).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the evdms package
PACKAGE = ROOT.name


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if "tests" in parts or "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The product modules an import statement loads (a name imported from a package is
    its submodule when there is one)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: from the module's package
            package = module.split(".")
            if MODULES[module].name != "__init__.py":
                package = package[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join([*package, base] if base else package)
        names = [f"{base}.{alias.name}" for alias in node.names]
        names = [name if name in MODULES else base for name in names]
    found = {name for name in names if name in MODULES}
    # Importing a submodule runs its package's __init__ first (a services package, say),
    # unless the importer sits inside that package, whose __init__ is already running.
    packages = {
        ".".join(parts[:n])
        for name in found
        for parts in [name.split(".")]
        for n in range(1, len(parts))
    }
    own = {".".join(module.split(".")[:n]) for n in range(1, module.count(".") + 1)}
    return found | {package for package in packages - own if package in MODULES}


def _imports(module: str, *, top_level_only: bool) -> set[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    if top_level_only:
        pending: list[ast.stmt] = list(tree.body)
        while pending:
            node = pending.pop()
            if isinstance(node, ast.Import | ast.ImportFrom):
                found |= _imported(module, node)
            elif isinstance(node, ast.If) and not _is_type_checking(node):
                pending += [*node.body, *node.orelse]
            elif isinstance(node, ast.Try):
                pending += [*node.body, *node.orelse, *node.finalbody]
                pending += [stmt for handler in node.handlers for stmt in handler.body]
    else:
        for any_node in ast.walk(tree):
            if isinstance(any_node, ast.Import | ast.ImportFrom):
                found |= _imported(module, any_node)
    found.discard(module)
    return found


def _app(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _is_views(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "views" or last.endswith("_views") or last.startswith("views_")


def _is_urls(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last == "urls" or last.startswith("urls_")


def test_no_module_imports_another_apps_views_or_a_views_module_from_its_services():
    """Only an app's own views and URL configuration import its views modules, at any
    level of a module (a lazy import is an import all the same)."""
    wrong = sorted(
        f"{module} imports {target}"
        for module in MODULES
        for target in _imports(module, top_level_only=False)
        if _is_views(target)
        and not (_app(module) == _app(target) and (_is_views(module) or _is_urls(module)))
    )
    assert wrong == []


def _cycles(*, top_level_only: bool) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    graph = {module: _imports(module, top_level_only=top_level_only) for module in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in graph[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    return sorted(components)


def test_the_product_modules_import_each_other_without_cycles():
    assert _cycles(top_level_only=True) == []


def test_imports_inside_functions_close_no_cycle_either():
    assert _cycles(top_level_only=False) == []


def _inside(module: str, part: str) -> bool:
    return module == f"{PACKAGE}.{part}" or module.startswith(f"{PACKAGE}.{part}.")


def test_connections_never_import_enrolment():
    """Enrolment builds on connections; connections know nothing of enrolment, not even
    through an import inside a function."""
    wrong = sorted(
        f"{module} imports {target}"
        for module in MODULES
        if _inside(module, "connections")
        for target in _imports(module, top_level_only=False)
        if _inside(target, "enrolment")
    )
    assert wrong == []


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("reimbursements.services.statements", "reimbursements.tasks"),
        ("reports.services", "reports.tasks"),
    ],
)
def test_these_modules_import_one_way_even_lazily(first, second):
    """Not even an import inside a function closes these loops."""
    forth = f"{PACKAGE}.{second}" in _imports(f"{PACKAGE}.{first}", top_level_only=False)
    back = f"{PACKAGE}.{first}" in _imports(f"{PACKAGE}.{second}", top_level_only=False)
    assert not (forth and back)


def test_connections_count_connected_drivers_by_enrolments_own_status():
    from evdms.connections.selectors import CONNECTED
    from evdms.enrolment.models import MembershipStatus

    assert CONNECTED == MembershipStatus.CONNECTED


def test_the_shared_interface_package_imports_no_area_above_it():
    """``evdms.ui`` is below every area's pages and routers: it may use the accounts core
    (who is acting, with which permissions) and nothing of the areas or of the top
    package, not even lazily."""
    allowed = {"accounts.permissions", "accounts.selectors", "accounts.services"}
    allowed |= {"accounts.models", "ui"}
    wrong = sorted(
        f"{module} imports {target}"
        for module in MODULES
        if _inside(module, "ui")
        for target in _imports(module, top_level_only=False)
        # the accounts package itself is loaded on the way to its modules
        if target != f"{PACKAGE}.accounts" and not any(_inside(target, part) for part in allowed)
    )
    assert wrong == []


def test_no_area_imports_the_top_package():
    """Only the project's URL configuration mounts ``evdms.web``; an area that imported it
    would sit below and above it at once."""
    wrong = sorted(
        f"{module} imports {target}"
        for module in MODULES
        if not _inside(module, "web")
        for target in _imports(module, top_level_only=False)
        if _inside(target, "web")
    )
    assert wrong == []
