"""A table cell that shows an e-mail address keeps it on one line (issue #18: tables
showed "driver04@example.co m"): every such ``<td>`` in the templates has ``nowrap``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A cell whose whole content is an e-mail (an address, or a list of them), as printed.
EMAIL_CELL = re.compile(r"<td(?P<attrs>[^>]*)>\{\{ [\w.]*email(?:\|[^}]*)? \}\}</td>")
EMAIL_CELL_TO = re.compile(r"<td(?P<attrs>[^>]*)>\{\{ email\.to\|join[^}]* \}\}</td>")


def test_every_email_cell_is_nowrap():
    found, wrapping = 0, []
    for path in ROOT.glob("*/templates/**/*.html"):
        text = path.read_text()
        for pattern in (EMAIL_CELL, EMAIL_CELL_TO):
            for match in pattern.finditer(text):
                found += 1
                if "nowrap" not in match["attrs"]:
                    wrapping.append(f"{path.relative_to(ROOT)}: {match[0]}")
    assert found >= 5  # the pattern still finds the cells it is about
    assert not wrapping, "\n".join(wrapping)
