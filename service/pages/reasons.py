"""The matcher's reasons in words: codes and values from an explanation, as reader's sentences."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from matching.explain import MatchStrength
from service.core import match_labels
from service.core.match_labels import (
    MODE_PARTIAL,
    MODE_WIDENED,
    NO_LANGUAGE,
    OVER_COMMITTED,
    SHORT_DATES,
    SHORT_HOURS,
    RankSummary,
)
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
    "skills asked, not even a similar one. Short dates or hours make a match good at most, hours "
    "already all promised fair at most. The list shows the strongest labels first, each in the "
    "matcher's order."
)
MODE_SENTENCES = {
    "remote": N_("Works remotely, as asked"),
    "mission": N_("Takes on-site missions, as asked"),
    "hybrid": N_("Does both remote and on-site work, as asked"),
}


def match_band(score: float, x: dict[str, Any] | None = None) -> MatchStrength:
    """Gets the strength of one proposal from its score and its explanation (strong, good, fair
    or weak): the one rule behind every match label (`core.match_labels.strength`)."""
    return match_labels.strength(score, x)


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


CONCERNS_HEADING = N_("To check before deciding:")


def concern_sentences(x: dict[str, Any], codes: Iterable[str]) -> list[str]:
    """Words for the concerns of a proposal (`core.match_labels.concerns`), in their order; the
    review card and the side-by-side table both print these."""
    facts: dict[str, Any] = x.get("facts") or {}
    words = {
        OVER_COMMITTED: lambda: hours_reason(facts),
        SHORT_HOURS: lambda: hours_reason(facts),
        SHORT_DATES: lambda: dates_reason(facts),
        NO_LANGUAGE: lambda: next(iter(language_reasons(x, {})), None),
        MODE_PARTIAL: lambda: mode_reason(facts),
        MODE_WIDENED: lambda: mode_reason(facts),
    }
    out = [words[code]() for code in codes if code in words]
    return [sentence for sentence in out if sentence]


CLOSENESS = {
    "far_closer": N_("The profile reads far closer to the need than almost all the roster"),
    "closer": N_("The profile reads clearly closer to the need than most of the roster"),
    "somewhat_closer": N_("The profile reads somewhat closer to the need than most"),
    "not_closer": N_("The profile reads no closer to the need than most of the roster"),
}
ADJUSTMENT_NAMES = {
    "capacity": N_("hours already promised"),
    "availability": N_("dates not all free"),
    "languages": N_("languages not spoken"),
    "mode": N_("engagement mode"),
    "timezone": N_("few working hours in common"),
    "country_tie": N_("ties to the need's country"),
}


def rank_summary_sentences(summary: RankSummary | None) -> list[str]:
    """Words for how a rank was made (`core.match_labels.rank_summary`): how close the profile
    reads, then what lowered or raised it, or that every constraint is met."""
    if summary is None:
        return []
    out = [gettext_(CLOSENESS[summary.closeness])]
    if summary.lowered:
        out.append(
            _t(
                N_("Ranked lower for: %(what)s"),
                what=listing(gettext_(ADJUSTMENT_NAMES[n]) for n in summary.lowered),
            )
        )
    else:
        out.append(gettext_(N_("Languages, mode, dates, hours and time zone: all met")))
    if summary.raised:
        out.append(
            _t(
                N_("Ranked higher for: %(what)s"),
                what=listing(gettext_(ADJUSTMENT_NAMES[n]) for n in summary.raised),
            )
        )
    return out


def rank_summary(components: dict[str, float] | None) -> list[str]:
    """Words for how a proposal's rank was made, from its stored score components."""
    return rank_summary_sentences(match_labels.rank_summary(components or {}))
