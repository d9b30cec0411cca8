"""The session core knows no charger protocol, read from the source with ``ast``: public
charging (roaming partners' records) will enter through the same calls, so nothing of
OCPP may shape them. The OCPP adapters in ``charging/ocpp/`` translate into the core."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import evdms.charging.services.sessions

SESSIONS = Path(evdms.charging.services.sessions.__file__)
ADAPTER_PACKAGE = "evdms.charging.ocpp"

# Names of OCPP messages, fields and enumerations (1.6 and 2.0.1, in their JSON
# spelling and as the ocpp package gives them in snake_case where that is not plain
# English).
OCPP_NAMES = [
    "BootNotification",
    "StartTransaction",
    "StopTransaction",
    "MeterValues",
    "TransactionEvent",
    "StatusNotification",
    "meterStart",
    "meterStop",
    "meterValue",
    "sampledValue",
    "sampled_value",
    "idTag",
    "idToken",
    "id_token",
    "transactionId",
    "transactionInfo",
    "transaction_info",
    "connectorId",
    "seqNo",
    "seq_no",
    "evse",
    "CallError",
    "Started",
    "Updated",
    "Ended",
    "_v16",
    "_v201",
]


def imported_modules(source: str) -> set[str]:
    """Every module an import statement names, at any level of the module, relative
    imports resolved against ``evdms.charging``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = ["evdms", "charging"][: 3 - node.level]
                base = ".".join([*package, base] if base else package)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def protocol_imports(source: str) -> list[str]:
    return sorted(
        module
        for module in imported_modules(source)
        if module == "ocpp"
        or module.startswith("ocpp.")
        or module == ADAPTER_PACKAGE
        or module.startswith(f"{ADAPTER_PACKAGE}.")
    )


def protocol_names(source: str) -> list[str]:
    """OCPP's names anywhere in the source: code, strings, comments and docstrings. A
    name counts as a whole word or as a part of a snake_case one ("Ended" in a flag,
    "_v16" in a function's name, "ocpp" in any case anywhere)."""
    words = set(re.findall(r"[A-Za-z0-9_]+", source))
    found = {
        name
        for name in OCPP_NAMES
        for word in words
        if word == name or name in word.split("_") or (name.startswith("_") and name in word)
    }
    if "ocpp" in source.lower():
        found.add("ocpp")
    return sorted(found)


def test_the_session_core_imports_neither_the_ocpp_package_nor_the_ocpp_adapters():
    assert protocol_imports(SESSIONS.read_text(encoding="utf-8")) == []


def test_loading_the_session_core_loads_no_ocpp_module_through_its_imports_either():
    """In a fresh interpreter with Django set up, as a roaming worker would have it."""
    code = (
        "import sys, django; django.setup(); import evdms.charging.services.sessions; "
        "print(sorted(m for m in sys.modules if m == 'ocpp' or m.startswith('ocpp.') "
        f"or m.startswith({ADAPTER_PACKAGE!r})))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "evdms.settings"}
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=SESSIONS.parents[3],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert loaded == "[]"


def test_the_session_core_names_no_ocpp_message_field_or_event():
    assert protocol_names(SESSIONS.read_text(encoding="utf-8")) == []


def test_the_checks_see_what_they_look_for():
    """Each way OCPP could creep in is caught, so the two tests above can fail."""
    planted = '''
from ocpp.v16 import call
from evdms.charging.ocpp import persist
from .ocpp.meter import parse_meter_values

def later():
    import ocpp.v201

def start_transaction_v16(meter_start):
    """Handles a StartTransaction."""
    flag = "MeterValues for unknown transaction"  # the idTag is kept
    return f"{flag} {meter_start}: Ended"
'''
    assert protocol_imports(planted) == [
        "evdms.charging.ocpp",
        "evdms.charging.ocpp.meter",
        "evdms.charging.ocpp.meter.parse_meter_values",
        "evdms.charging.ocpp.persist",
        "ocpp.v16",
        "ocpp.v16.call",
        "ocpp.v201",
    ]
    assert protocol_names(planted) == sorted(
        ["Ended", "MeterValues", "StartTransaction", "_v16", "idTag", "ocpp"]
    )
