"""The matcher's reasons in words: codes and values from an explanation, as reader's sentences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal

from matching.fusion import GOOD_SCORE, STRONG_SCORE
from service.i18n import N_, RTL_LOCALES, country_name, current_locale, gettext_, label

STRONG_MATCH = STRONG_SCORE
GOOD_MATCH = GOOD_SCORE
MATCH_LABELS = {"strong": N_("Strong match"), "good": N_("Good match"), "fair": N_("Fair match")}
MATCH_BASIS = N_(
    "The match compares how closely each profile reads to the need with every expert on the "
    "roster, then weighs languages, mode, dates and hours. Strong: far closer than almost "
    "everyone; good: clearly closer than most; fair: worth a look, check the reasons."
)
MODE_SENTENCES = {
    "remote": N_("Works remotely, as asked"),
    "mission": N_("Takes on-site missions, as asked"),
    "hybrid": N_("Does both remote and on-site work, as asked"),
}


def match_band(score: float) -> str:
    """Gets the band of a match score: strong, good or fair."""
    if score >= STRONG_MATCH:
        return "strong"
    if score >= GOOD_MATCH:
        return "good"
    return "fair"


def match_label(score: float) -> str:
    """Gets the translated label of a match score ('Strong match')."""
    return gettext_(MATCH_LABELS[match_band(score)])


# Babel parses the pattern and the locale's symbols on every call (about 0.3 ms): a page of ten
# candidates formats over a hundred numbers and dates, most of them the same few values.
@lru_cache(maxsize=8192, typed=True)
def formatted_decimal(value: float | int, pattern: str, locale: str) -> str:
    """Formats a number with a Babel pattern for a locale (remembered)."""
    return format_decimal(value, format=pattern, locale=locale)


@lru_cache(maxsize=4096)
def _formatted_date(value: date, locale: str) -> str:
    return format_date(value, format="medium", locale=locale)


@lru_cache(maxsize=1024)
def _language_in_sentence(code: str, locale: str) -> str:
    return str(Locale.parse(locale).languages.get(code, code))


def number(value: float | int | None) -> str:
    """Formats a number for the current locale (4.61 / 4,61), one decimal at most."""
    if value is None:
        return ""
    return formatted_decimal(value, "#,##0.#", current_locale.get())


def day(value: date | str | None) -> str:
    """Formats a date for the current locale (Dec 1, 2026 / 1 déc. 2026)."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value[:10])
        except ValueError:
            return value
    else:
        parsed = value
    if isinstance(parsed, datetime):
        parsed = parsed.date()
    return _formatted_date(parsed, current_locale.get())


# How a list of values (skills, languages, supports) is separated; Arabic has its own comma.
LIST_SEPARATORS = {"ar": "، "}


def list_separator() -> str:
    """Gets what separates the values of a list in the current locale (", " / "، ")."""
    return LIST_SEPARATORS.get(current_locale.get(), ", ")


def listing(items: Iterable[str]) -> str:
    """Joins values into a list the way the current locale writes one (a, b / أ، ب)."""
    return list_separator().join(str(i) for i in items)


def language_in_sentence(code: str) -> str:
    """Gets a language's name as written inside a sentence (French / français)."""
    return _language_in_sentence(code, current_locale.get())


def _t(message: str, **values: Any) -> str:
    if values and current_locale.get() in RTL_LOCALES:
        # Isolate each value (skills, numbers) so Latin text keeps its order in Arabic.
        values = {k: f"\u2068{v}\u2069" for k, v in values.items()}
    return gettext_(message) % values if values else gettext_(message)


def skill_reasons(x: dict[str, Any]) -> list[str]:
    """Words for the covered, related and missing skills."""
    covered = x.get("covered_skills") or []
    missing = x.get("missing_skills") or []
    out: list[str] = []
    total = len(covered) + len(missing)
    if covered:
        named = listing(
            s["required"]
            if s.get("how") == "exact" or s["required"].casefold() == s["matched"].casefold()
            else _t(
                N_("%(asked)s (close match: %(found)s)"), asked=s["required"], found=s["matched"]
            )
            for s in covered
        )
        out.append(
            _t(
                N_("Covers %(count)s of %(total)s skills asked: %(skills)s"),
                count=len(covered),
                total=total,
                skills=named,
            )
        )
    elif total:
        out.append(_t(N_("Covers none of the %(total)s skills asked"), total=total))
    return out


def missing_skills(x: dict[str, Any]) -> list[str]:
    """Words for each skill not found, naming a related profile skill (never called covering)."""
    related = {s["required"]: s["matched"] for s in x.get("related_skills") or []}
    return [
        _t(N_("%(asked)s (related: %(found)s)"), asked=skill, found=related[skill])
        if skill in related
        else skill
        for skill in x.get("missing_skills") or []
    ]


def language_reasons(x: dict[str, Any], levels: dict[str, str]) -> list[str]:
    """Words for the languages the need asks for: spoken (with the level) or not."""
    out = []
    for code in x.get("shared_languages") or []:
        level = levels.get(code)
        out.append(
            _t(
                N_("Speaks %(language)s (%(level)s)"),
                language=language_in_sentence(code),
                level=label("level", level).lower(),
            )
            if level
            else _t(N_("Speaks %(language)s"), language=language_in_sentence(code))
        )
    for code in x.get("missing_languages") or []:
        out.append(_t(N_("Does not speak %(language)s"), language=language_in_sentence(code)))
    return out


def mode_reason(facts: dict[str, Any]) -> str | None:
    """Words for how the expert's engagement modes fit the need's."""
    fit = facts.get("mode_fit")
    need_mode = str(facts.get("need_mode", ""))
    modes = listing(label("mode", m).lower() for m in facts.get("expert_modes") or [])
    if fit == "accepted" or fit == "both":
        return gettext_(MODE_SENTENCES.get(need_mode, MODE_SENTENCES["hybrid"]))
    if fit == "partial":
        return _t(N_("Only does %(modes)s, for a hybrid need"), modes=modes)
    if fit == "widened":
        return _t(
            N_("Only does %(modes)s (search widened to other modes by the coordinator)"),
            modes=modes,
        )
    return None


def dates_reason(facts: dict[str, Any]) -> str | None:
    """Words for how much of the need's dates the expert is available."""
    if not facts.get("window_days"):
        return None
    start, end = day(facts.get("window_start")), day(facts.get("window_end"))
    if facts.get("covered_days") == facts["window_days"]:
        return _t(
            N_("Available for the whole time the need may run (%(start)s – %(end)s)"),
            start=start,
            end=end,
        )
    return _t(
        N_("Available %(covered)s of the %(days)s days the need may run (%(start)s – %(end)s)"),
        covered=facts.get("covered_days"),
        days=facts["window_days"],
        start=start,
        end=end,
    )


def hours_reason(facts: dict[str, Any]) -> str | None:
    """Words for the expert's free hours against the need's."""
    free, needed = facts.get("free_hours"), facts.get("needed_hours")
    if free is None:
        return None
    if free <= 0:
        return _t(
            N_("Already committed %(committed)s h/week of the %(declared)s declared"),
            committed=number(facts.get("committed_hours")),
            declared=number(facts.get("declared_hours")),
        )
    if needed and free < needed:
        return _t(
            N_("Free %(free)s h/week of the %(needed)s needed"),
            free=number(free),
            needed=number(needed),
        )
    if needed:
        return _t(
            N_("Free %(free)s h/week, %(needed)s needed"), free=number(free), needed=number(needed)
        )
    return None


def overlap_reason(x: dict[str, Any]) -> str | None:
    """Words for the working hours the expert and the institution share each day."""
    overlap = x.get("overlap_hours")
    if not isinstance(overlap, int | float):
        return None
    return _t(N_("%(hours)s h a day inside the institution's working hours"), hours=number(overlap))


def reasons(
    x: dict[str, Any], *, levels: dict[str, str] | None = None, country: str = ""
) -> list[str]:
    """Every reason of an explanation, in the reader's language, most telling first."""
    facts: dict[str, Any] = x.get("facts") or {}
    out = skill_reasons(x) + language_reasons(x, levels or {})
    mode = mode_reason(facts)
    if mode:
        out.append(mode)
    # Free hours and working hours in common before the dates: they decide more often.
    out += [r for r in (hours_reason(facts), overlap_reason(x), dates_reason(facts)) if r]
    if x.get("country_tie"):
        country = str(facts.get("country") or country)
        out.append(
            _t(N_("Has ties to %(country)s"), country=country_name(country))
            if country
            else gettext_(N_("Has ties to the need's country"))
        )
    return out


def language_levels(expert: dict[str, Any] | None) -> dict[str, str]:
    """Gets an expert view's languages as code -> level."""
    languages = (expert or {}).get("languages") or []
    return {
        str(item.get("code")): str(item.get("level", ""))
        for item in languages
        if isinstance(item, dict)
    }


HISTORY_LABELS = {
    "need.posted": N_("Need posted"),
    "need.edited": N_("Need edited"),
    "need.modes_widened": N_("Widened to other engagement modes"),
    "need.modes_narrowed": N_("Kept to its engagement mode"),
    "need.interest": N_("An expert said they are interested"),
    "proposal.approve": N_("Proposal approved"),
    "proposal.reject": N_("Proposal rejected"),
}


def history_label(action: str) -> str:
    """Gets the translated name of an audited action (the code itself when unnamed)."""
    text = HISTORY_LABELS.get(action)
    return gettext_(text) if text else action
