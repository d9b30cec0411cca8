from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from evdms.ui.translations import ROOT, compile_all


class Command(BaseCommand):
    help = "Compile every app's message files (locale/*/LC_MESSAGES/django.po) with Babel."

    def handle(self, *args: Any, **options: Any) -> None:
        compiled = compile_all()
        for path in compiled:
            self.stdout.write(f"compiled {path.relative_to(ROOT.parent)}")
        self.stdout.write(f"{len(compiled)} message files compiled")
