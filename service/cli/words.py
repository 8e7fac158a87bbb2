"""What the `homeward` command says to a person, in their language.

`--lang` (or the `HOMEWARD_LANG` environment variable) picks one of the site's languages;
English by default. The messages come from the site's catalogue (service/i18n.py), so a
problem in a roster reads the same in the terminal as on the import page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from service.core.imports import ITEM, ImportReport, RowError
from service.i18n import (
    DEFAULT_LOCALE,
    N_,
    UI_LOCALES,
    current_locale,
    gettext_,
    ngettext_,
    translate_message,
)


def _locale(value: str | None) -> str:
    """Reads a language choice (fr, FR, fr_FR.UTF-8) as one of the site's languages."""
    code = re.split(r"[_.@-]", (value or "").strip().lower(), maxsplit=1)[0]
    if not code:
        return DEFAULT_LOCALE
    if code not in UI_LOCALES:
        raise typer.BadParameter(f"choose one of {', '.join(UI_LOCALES)}")
    return code


Lang = Annotated[
    str,
    typer.Option(
        "--lang",
        envvar="HOMEWARD_LANG",
        callback=_locale,
        help="Language of the messages: en, fr, es or ar (default: English).",
    ),
]


@contextmanager
def speaking(locale: str) -> Iterator[None]:
    """Says the command's messages in this language until the block ends."""
    token = current_locale.set(locale)
    try:
        yield
    finally:
        current_locale.reset(token)


# The phases the progress bars name (service.core.imports, service.core.matching).
PHASES = {
    "checking": N_("Checking"),
    "writing": N_("Writing"),
    "embed": N_("Embedding"),
    "match": N_("Matching"),
}


def phase(name: str) -> str:
    """Gets a progress bar's label in the command's language."""
    return gettext_(PHASES[name]) if name in PHASES else name


def problem(error: RowError) -> str:
    """Says an import row's problem in the command's language."""
    said = translate_message(
        error.message, error.params, plural=error.plural, count=error.params.get("num", 0)
    )
    return gettext_(ITEM) % {"n": error.item, "problem": said} if error.item is not None else said


def _counts(report: ImportReport) -> str:
    return gettext_("%(created)s created, %(updated)s updated, %(unchanged)s unchanged") % {
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
    }


def summary(report: ImportReport) -> str:
    """Says in one line what an import did, or would do."""
    values = {"file": report.source, "num": report.rows, "counts": _counts(report)}
    if report.error_count:
        values["errors"] = ngettext_("%(num)s error", "%(num)s errors", report.error_count) % {
            "num": report.error_count
        }
    if report.error_count and not report.written:
        return (
            ngettext_(
                "%(file)s: %(errors)s in %(num)s row, nothing imported",
                "%(file)s: %(errors)s in %(num)s rows, nothing imported",
                report.rows,
            )
            % values
        )
    if report.error_count:
        good, bad = report.rows - report.bad_rows, report.bad_rows
        values["imported"] = ngettext_("%(num)s row imported", "%(num)s rows imported", good) % {
            "num": good
        }
        values["left_out"] = ngettext_("%(num)s row left out", "%(num)s rows left out", bad) % {
            "num": bad
        }
        return (
            ngettext_(
                "%(file)s: %(errors)s in %(num)s row; %(imported)s (%(counts)s), %(left_out)s",
                "%(file)s: %(errors)s in %(num)s rows; %(imported)s (%(counts)s), %(left_out)s",
                report.rows,
            )
            % values
        )
    if report.dry_run:
        return (
            ngettext_(
                "%(file)s: %(num)s row would be imported (%(counts)s); nothing written",
                "%(file)s: %(num)s rows would be imported (%(counts)s); nothing written",
                report.rows,
            )
            % values
        )
    return (
        ngettext_(
            "%(file)s: %(num)s row imported (%(counts)s)",
            "%(file)s: %(num)s rows imported (%(counts)s)",
            report.rows,
        )
        % values
    )


def report_lines(report: ImportReport) -> list[str]:
    """Gets an import's summary and each reported problem, for a terminal."""
    lines = [summary(report)]
    for error in report.errors:
        where = gettext_("line %(line)s, %(field)s: %(problem)s")
        lines.append(
            "  " + where % {"line": error.line, "field": error.field, "problem": problem(error)}
        )
    more = report.error_count - len(report.errors)
    if more > 0:
        lines.append(
            "  "
            + ngettext_("… and %(num)s more error", "… and %(num)s more errors", more)
            % {"num": more}
        )
    return lines


def exported(kind: str, count: int, path: Path) -> str:
    """Says how many records an export wrote, and where."""
    values = {"num": count, "file": path}
    if kind == "experts":
        said = ngettext_(
            "Exported %(num)s expert to %(file)s.", "Exported %(num)s experts to %(file)s.", count
        )
    elif kind == "institutions":
        said = ngettext_(
            "Exported %(num)s institution to %(file)s.",
            "Exported %(num)s institutions to %(file)s.",
            count,
        )
    else:
        said = ngettext_(
            "Exported %(num)s need to %(file)s.", "Exported %(num)s needs to %(file)s.", count
        )
    return said % values


def bad_delimiter() -> str:
    """Says which delimiters a CSV export takes."""
    return gettext_("The delimiter is , or ;")
