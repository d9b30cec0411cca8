"""The OpenAPI document names each schema once: two different schemas of one name (in two
routers) would be published as one, so a partner reads the wrong fields for one of the
endpoints (the invoice lines of the organisation API were once shown with the operator
API's credit-note fields)."""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema

import evdms.api  # noqa: F401  (every router and its schemas loaded)


def _schemas() -> list[type[Schema]]:
    found: list[type[Schema]] = []

    def walk(cls: type[Schema]) -> None:
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("evdms."):
                found.append(sub)
            walk(sub)

    walk(Schema)
    return found


def test_schemas_of_one_name_are_the_same_schema():
    by_name: dict[str, list[type[Schema]]] = defaultdict(list)
    for schema in _schemas():
        by_name[schema.__name__].append(schema)
    differing = {
        name: sorted(f"{cls.__module__}.{name}" for cls in classes)
        for name, classes in by_name.items()
        if len(
            {
                repr(sorted((k, str(f.annotation)) for k, f in c.model_fields.items()))
                for c in classes
            }
        )
        > 1
    }
    assert differing == {}
