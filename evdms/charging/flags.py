"""A session's flags as people read them (issue #19).

``ChargingSession.flags`` keeps each flag as the fixed English phrase the session core
writes (``evdms.charging.services.sessions``), with its figures in it: the phrase is
the flag's code, and the API hands it over as it is. Pages show it in the reader's
language: ``flag_text`` reads a phrase's kind and figures and says it again with the
message files. A phrase of no known kind (a roaming partner's own words, a flag of a
future kind) is shown as written.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext as _

_Say = Callable[[re.Match[str]], str]


def _problem(text: str) -> str:
    """A nested problem (a time outside the window…), translated when it is known."""
    return flag_text(text)


# The clock problems a flag may carry, and the moment they are about.
_ARRIVED = re.compile(r"(?:(start|started|updated|ended) )?(.+); the time it arrived is used", re.S)
_MOMENTS: dict[str | None, Callable[[str], str]] = {
    None: lambda p: _("%(problem)s; the time it arrived is used") % {"problem": p},
    "start": lambda p: _("start time: %(problem)s; the time it arrived is used") % {"problem": p},
    "started": lambda p: _("start time: %(problem)s; the time it arrived is used") % {"problem": p},
    "updated": lambda p: (
        _("update time: %(problem)s; the time it arrived is used") % {"problem": p}
    ),
    "ended": lambda p: _("end time: %(problem)s; the time it arrived is used") % {"problem": p},
}
_REGISTERS: dict[str, Callable[[str], str]] = {
    "meter start": lambda wh: (
        _("meter start %(wh)s Wh is beyond what a home charger's register reaches") % {"wh": wh}
    ),
    "meter stop": lambda wh: (
        _("meter stop %(wh)s Wh is beyond what a home charger's register reaches") % {"wh": wh}
    ),
    "meter reading": lambda wh: (
        _("meter reading %(wh)s Wh is beyond what a home charger's register reaches") % {"wh": wh}
    ),
}

_KINDS: tuple[tuple[re.Pattern[str], _Say], ...] = (
    (
        re.compile(r"timestamp in the future: (\S+)"),
        lambda m: _("timestamp in the future: %(time)s") % {"time": m[1]},
    ),
    (
        re.compile(r"timestamp more than a year old: (\S+)"),
        lambda m: _("timestamp more than a year old: %(time)s") % {"time": m[1]},
    ),
    (
        re.compile(r"timestamp without a time zone: (\S+)"),
        lambda m: _("timestamp without a time zone: %(time)s") % {"time": m[1]},
    ),
    (
        re.compile(r"timestamp out of range: (\S+)"),
        lambda m: _("timestamp out of range: %(time)s") % {"time": m[1]},
    ),
    (
        re.compile(r"timestamp (\S+) outside (\S+) … (\S+) h ahead of now"),
        lambda m: (
            _("timestamp %(time)s outside %(earliest)s … %(hours)s h ahead of now")
            % {"time": m[1], "earliest": m[2], "hours": m[3]}
        ),
    ),
    (
        re.compile(
            r"(meter start|meter stop|meter reading) (-?\d+) Wh is beyond what a home "
            r"charger's register reaches"
        ),
        lambda m: _REGISTERS[m[1]](m[2]),
    ),
    (
        re.compile(r"energy (-?\d+) Wh beyond what can be reimbursed"),
        lambda m: _("energy %(wh)s Wh beyond what can be reimbursed") % {"wh": m[1]},
    ),
    (
        re.compile(r"energy (-?\d+) Wh above the ceiling of (\d+) Wh per session"),
        lambda m: (
            _("energy %(wh)s Wh above the ceiling of %(ceiling)s Wh per session")
            % {"wh": m[1], "ceiling": m[2]}
        ),
    ),
    (
        re.compile(r"energy (-?\d+) Wh in (.+) is more than a (\S+) kW connector delivers"),
        lambda m: (
            _("energy %(wh)s Wh in %(duration)s is more than a %(kw)s kW connector delivers")
            % {"wh": m[1], "duration": m[2], "kw": m[3]}
        ),
    ),
    (
        re.compile(r"signed meter data beyond what is kept per session"),
        lambda m: _("signed meter data beyond what is kept per session"),
    ),
    (
        re.compile(r"signed meter data of (\d+) characters not kept"),
        lambda m: _("signed meter data of %(count)s characters not kept") % {"count": m[1]},
    ),
    (
        re.compile(r"outside the time window: (.+)", re.S),
        lambda m: _("outside the time window: %(problem)s") % {"problem": _problem(m[1])},
    ),
    (
        re.compile(r"bad timestamp: (.*)", re.S),
        lambda m: _("bad timestamp: %(problem)s") % {"problem": m[1]},
    ),
    (
        re.compile(r"bad meter value (.*?): (.*)", re.S),
        lambda m: _("bad meter value %(value)s: %(problem)s") % {"value": m[1], "problem": m[2]},
    ),
    (
        re.compile(r"negative meter reading (-?\d+) Wh"),
        lambda m: _("negative meter reading %(wh)s Wh") % {"wh": m[1]},
    ),
    (
        re.compile(r"negative meter start (-?\d+) Wh"),
        lambda m: _("negative meter start %(wh)s Wh") % {"wh": m[1]},
    ),
    (
        re.compile(r"meter went down: (-?\d+) → (-?\d+) Wh"),
        lambda m: _("meter went down: %(before)s → %(after)s Wh") % {"before": m[1], "after": m[2]},
    ),
    (
        re.compile(r"meter stop (-?\d+) Wh below start (-?\d+) Wh"),
        lambda m: (
            _("meter stop %(stop)s Wh below start %(start)s Wh") % {"stop": m[1], "start": m[2]}
        ),
    ),
    (re.compile(r"ended before it started"), lambda m: _("ended before it started")),
    (
        re.compile(r"StopTransaction for an unknown transaction"),
        lambda m: _("StopTransaction for an unknown transaction"),
    ),
    (
        re.compile(r"finished without a reported start"),
        lambda m: _("finished without a reported start"),
    ),
    (
        re.compile(r"(Updated|Ended) arrived before Started"),
        lambda m: _("%(event)s arrived before Started") % {"event": m[1]},
    ),
    (re.compile(r"reported before its start"), lambda m: _("reported before its start")),
    (
        re.compile(r"no membership at the session's start"),
        lambda m: _("no membership at the session's start"),
    ),
    (re.compile(r"final record received"), lambda m: _("final record received")),
    (
        re.compile(r"also reported by the driver's charger \(session (\d+)\)"),
        lambda m: (
            _("also reported by the driver's charger (session %(session)s)") % {"session": m[1]}
        ),
    ),
    (
        re.compile(r"the charge point operator declared the session invalid \(not billed\)"),
        lambda m: _("the charge point operator declared the session invalid (not billed)"),
    ),
    # The statement run's holds (``reimbursements.services.statements``).
    (
        re.compile(r"not reimbursed: its amount is beyond what a statement line holds"),
        lambda m: _("not reimbursed: its amount is beyond what a statement line holds"),
    ),
    (
        re.compile(
            r"not reimbursed: it would take its statement beyond the largest total a "
            r"statement holds"
        ),
        lambda m: _(
            "not reimbursed: it would take its statement beyond the largest total a statement holds"
        ),
    ),
    (
        re.compile(r"not reimbursed: its statement could not be made: (\w+)"),
        lambda m: (
            _("not reimbursed: its statement could not be made (%(error)s)") % {"error": m[1]}
        ),
    ),
)


def flag_text(flag: str) -> str:
    """One flag in the active language; a flag of no known kind as written."""
    arrived = _ARRIVED.fullmatch(flag)
    if arrived:
        return _MOMENTS[arrived[1]](_problem(arrived[2]))
    for pattern, say in _KINDS:
        match = pattern.fullmatch(flag)
        if match:
            return say(match)
    return flag


def flags_split(joined: str) -> list[str]:
    """The flags of a record that kept them joined by "; " (a session review's audit row
    before it kept a list); "…; the time it arrived is used" is one flag."""
    flags: list[str] = []
    for part in joined.split("; "):
        if flags and part.startswith("the time it arrived is used"):
            flags[-1] = f"{flags[-1]}; {part}"
        elif part:
            flags.append(part)
    return flags


def flags_text(flags: list[str]) -> str:
    """A session's flags, in the active language, one after the other."""
    return "; ".join(flag_text(str(flag)) for flag in flags)
