"""The matcher's reasons in words: codes and values from an explanation, as reader's sentences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from matching.explain import MatchStrength, match_strength
from service.i18n import (
    N_,
    RTL_LOCALES,
    cldr_locale,
    country_name,
    current_locale,
    gettext_,
    label,
    ngettext_,
)

MATCH_LABELS: dict[str, str] = {
    "strong": N_("Strong match"),
    "good": N_("Good match"),
    "fair": N_("Fair match"),
    "weak": N_("Weak match"),
}
MATCH_BASIS = N_(
    "The match compares how closely each profile reads to the need with every expert on the "
    "roster, then weighs languages, mode, dates and hours; the skills asked cap it. Strong: far "
    "closer than almost everyone, and covers every skill asked; good: clearly closer than most, "
    "and covers at least one; fair: worth a look, check the reasons; weak: covers none of the "
    "skills asked, not even a similar one."
)
MODE_SENTENCES = {
    "remote": N_("Works remotely, as asked"),
    "mission": N_("Takes on-site missions, as asked"),
    "hybrid": N_("Does both remote and on-site work, as asked"),
}


def match_band(score: float, x: dict[str, Any] | None = None) -> MatchStrength:
    """Gets the strength of a proposal from its score and its explanation's skills (strong,
    good, fair or weak): the one rule behind every match label (matching.explain)."""
    x = x or {}
    covered = len(x.get("covered_skills") or [])
    missing = x.get("missing_skills") or []
    related = {str(s.get("required")) for s in x.get("related_skills") or []}
    return match_strength(
        score,
        asked=covered + len(missing),
        covered=covered,
        related=sum(1 for skill in missing if skill in related),
    )


def match_label(band: str) -> str:
    """Gets the translated label of a strength from `match_band` ('Strong match')."""
    return gettext_(MATCH_LABELS[band])


# Babel parses the pattern and the locale's symbols on every call (about 0.3 ms): a page of ten
# candidates formats over a hundred numbers and dates, most of them the same few values.
@lru_cache(maxsize=8192, typed=True)
def formatted_decimal(value: float | int, pattern: str, locale: str) -> str:
    """Formats a number with a Babel pattern for a locale (remembered)."""
    return format_decimal(value, format=pattern, locale=locale)


@lru_cache(maxsize=1024)
def formatted_percent(value: float, locale: str) -> str:
    """Formats a share (0.85) as a whole percentage, the locale's way: 85% / 85 % (remembered)."""
    return format_percent(value, locale=locale)


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
    return formatted_decimal(value, "#,##0.#", cldr_locale())


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
    return _formatted_date(parsed, cldr_locale())


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
    return _language_in_sentence(code, cldr_locale())


def _isolated(values: dict[str, Any]) -> dict[str, Any]:
    if current_locale.get() in RTL_LOCALES:
        # Isolate each value (skills, numbers) so Latin text keeps its order in Arabic.
        return {k: f"\u2068{v}\u2069" for k, v in values.items()}
    return values


def _t(message: str, **values: Any) -> str:
    return gettext_(message) % _isolated(values) if values else gettext_(message)


def _filled(translated: str, **values: Any) -> str:
    """A translated sentence (from `ngettext_`: its words agree with a count) with its values."""
    return translated % _isolated(values)


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
            _filled(
                ngettext_(
                    "Covers %(count)s of %(total)s skill asked: %(skills)s",
                    "Covers %(count)s of %(total)s skills asked: %(skills)s",
                    total,
                ),
                count=number(len(covered)),
                total=number(total),
                skills=named,
            )
        )
    elif total:
        out.append(
            _filled(
                ngettext_(
                    "Covers none of the %(total)s skill asked",
                    "Covers none of the %(total)s skills asked",
                    total,
                ),
                total=number(total),
            )
        )
    return out


def missing_skills(x: dict[str, Any]) -> list[str]:
    """Words for each skill not found, naming a similar profile skill and saying it is not
    counted (the matcher's related tier, below the threshold at which a skill is covered)."""
    related = {s["required"]: s["matched"] for s in x.get("related_skills") or []}
    return [
        _t(N_("%(asked)s (similar, not counted: %(found)s)"), asked=skill, found=related[skill])
        if skill in related
        else skill
        for skill in x.get("missing_skills") or []
    ]


def language_reasons(x: dict[str, Any], levels: dict[str, str]) -> list[str]:
    """Words for the languages the need accepts: those spoken (with the level); the others
    are no concern, since any one of them will do, unless the expert speaks none of them."""
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
    missing = x.get("missing_languages") or []
    if out or not missing:
        return out
    if len(missing) == 1:
        return [_t(N_("Does not speak %(language)s"), language=language_in_sentence(missing[0]))]
    return [
        _t(
            N_("Speaks none of the languages the need accepts (%(languages)s)"),
            languages=listing(language_in_sentence(code) for code in missing),
        )
    ]


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
    return _filled(
        ngettext_(
            "Available %(covered)s of the %(days)s day the need may run (%(start)s – %(end)s)",
            "Available %(covered)s of the %(days)s days the need may run (%(start)s – %(end)s)",
            facts["window_days"],
        ),
        covered=number(facts.get("covered_days")),
        days=number(facts["window_days"]),
        start=start,
        end=end,
    )


def hours_reason(facts: dict[str, Any]) -> str | None:
    """Words for the expert's free hours against the need's."""
    free, needed = facts.get("free_hours"), facts.get("needed_hours")
    if free is None:
        return None
    # The unit agrees with the number it follows (Arabic: 3 ساعات, 11 ساعة; 1,5 horas).
    if free <= 0:
        committed = facts.get("committed_hours") or 0
        return _filled(
            ngettext_(
                "Already committed %(committed)s h/week of the %(declared)s declared",
                "Already committed %(committed)s h/week of the %(declared)s declared",
                committed,
            ),
            committed=number(committed),
            declared=number(facts.get("declared_hours")),
        )
    if needed and free < needed:
        return _filled(
            ngettext_(
                "Free %(free)s h/week of the %(needed)s needed",
                "Free %(free)s h/week of the %(needed)s needed",
                free,
            ),
            free=number(free),
            needed=number(needed),
        )
    if needed:
        return _filled(
            ngettext_(
                "Free %(free)s h/week, %(needed)s needed",
                "Free %(free)s h/week, %(needed)s needed",
                free,
            ),
            free=number(free),
            needed=number(needed),
        )
    return None


def overlap_reason(x: dict[str, Any]) -> str | None:
    """Words for the working hours the expert and the institution share each day."""
    overlap = x.get("overlap_hours")
    if not isinstance(overlap, int | float):
        return None
    return _filled(
        ngettext_(
            "%(hours)s h a day inside the institution's working hours",
            "%(hours)s h a day inside the institution's working hours",
            overlap,
        ),
        hours=number(overlap),
    )


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
