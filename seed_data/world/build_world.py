"""Builds the Homeward demo world (seed_data/world/*.jsonl and accounts.json).

The texts people read are hand-written in the _*.py modules next to this file: institutions,
needs, engagement stories and a few dozen full expert profiles are written out as they are;
the rest of the roster is composed from hand-written professions (titles, skill vocabularies,
experience sentences) and sentence pools in five languages, with deterministic choices
(random.Random(42)). Every need that is not a deliberate gap gets at least a few experts of
the right profession who speak its languages, mostly from the need's own diaspora.

Run from the repository root:  python seed_data/world/build_world.py [--check]
--check rebuilds in memory and fails if the committed files differ.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):
    sys.path.insert(0, str(HERE.parents[1]))

from seed_data.world._anchors import ANCHORS  # noqa: E402
from seed_data.world._engagements import ENGAGEMENTS  # noqa: E402
from seed_data.world._institutions import INSTITUTIONS  # noqa: E402
from seed_data.world._needs import NEEDS  # noqa: E402
from seed_data.world._places import (  # noqa: E402
    CITIES,
    CITY_NAMES,
    COUNTRY_NAMES,
    EMAIL_DOMAINS,
    HOME_TOWNS,
    HOME_TOWNS_AR,
    HOME_TOWNS_FR,
    HOST_LANG,
    NAMES,
    ORIGIN_LANGS,
    PLACEMENTS,
    UNIVERSITIES,
    UNIVERSITIES_AR,
)
from seed_data.world._pools import HEADLINES, MOTIVATIONS, OPENINGS, RELATED, TYPOS  # noqa: E402
from seed_data.world._professions import PROFESSIONS  # noqa: E402

TODAY = date(2026, 11, 20)  # "now" in the demo world
TOTAL_EXPERTS = 210
COVERAGE_TARGET = 3  # experts of the right trade, speaking the need's languages, per need
ORIGIN_QUOTA = {
    "SN": 20,
    "MA": 20,
    "TN": 12,
    "LB": 14,
    "HT": 14,
    "CM": 14,
    "ET": 12,
    "GH": 10,
    "NG": 16,
    "PH": 10,
    "VN": 8,
    "MX": 14,
    "CO": 12,
    "BR": 8,
    "CV": 6,
    "MZ": 5,
    "AO": 5,
}
SPEAKS = {"native", "fluent", "professional"}
UI_LOCALES = {"en", "fr", "es", "pt", "ar"}
DEMO_PASSWORD = "homeward-demo"  # noqa: S105 - published demo credential
CLOSED_NEEDS = {"gh-data-curriculum", "ph-faculty-r"}
EXTRA_DRAFTS = {"lb-campus-solar", "et-health-econ-phd"}
# experts named in a rejection reason get the availability the reason talks about
REASON_AVAILABILITY = {
    ("sn-epi-module", "rejected"): date(2027, 5, 3),
    ("gh-odaw-flood", "rejected"): date(2027, 4, 1),
}

rng = random.Random(42)


# --- small text helpers ----------------------------------------------------------------------
def gendered(text: str, gender: str) -> str:
    """Resolves "[[masc|fem]]" markers in a sentence template."""

    def pick(m: re.Match[str]) -> str:
        masc, fem = m.group(1).split("|")
        return fem if gender == "f" else masc

    return re.sub(r"\[\[([^\]]*\|[^\]]*)\]\]", pick, text)


def pick_title(title: str, gender: str) -> str:
    """Job titles are written "masc|fem" where the language marks gender."""
    masc, _, fem = title.partition("|")
    return (fem or masc) if gender == "f" else masc


def lower_first(s: str) -> str:
    if len(s) > 1 and s[1].isupper():
        return s
    return s[:1].lower() + s[1:]


def ascii_slug(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", s.lower())


def weighted(options: dict[str, int]) -> str:
    keys = list(options)
    return rng.choices(keys, weights=[options[k] for k in keys])[0]


def iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


# --- expert generation -----------------------------------------------------------------------
used_emails: set[str] = set()
used_names: set[tuple[str, str]] = set()


def make_email(given: str, family: str) -> str:
    g, f = ascii_slug(given.split()[0]), ascii_slug(family)
    style = rng.choice(["{g}.{f}", "{g}.{f}", "{g}{f}", "{gi}.{f}", "{g}_{f}", "{f}.{g}"])
    base = style.format(g=g, f=f, gi=g[:1])
    email = f"{base}@{rng.choice(EMAIL_DOMAINS)}"
    n = 2
    while email in used_emails:
        email = f"{base}{n}@{rng.choice(EMAIL_DOMAINS)}"
        n += 1
    used_emails.add(email)
    return email


def make_languages(
    origin: str, country: str, text_lang: str, must: list[str]
) -> list[dict[str, str]]:
    langs: dict[str, str] = dict(rng.choice(ORIGIN_LANGS[origin]))
    host = HOST_LANG.get(country)
    if host and host[0] not in langs:
        langs[host[0]] = host[1]
    if "en" not in langs and rng.random() < 0.75:
        langs["en"] = rng.choice(["fluent", "professional", "professional", "basic"])
    if country in {"AE", "QA", "SA"} and "ar" not in langs:
        langs["ar"] = "basic"
    for code in [text_lang, *must]:
        if langs.get(code) not in SPEAKS:
            langs[code] = "fluent" if code == text_lang else "professional"
    order = {"native": 0, "fluent": 1, "professional": 2, "basic": 3}
    return [
        {"code": c, "level": lv} for c, lv in sorted(langs.items(), key=lambda kv: order[kv[1]])
    ]


def pick_name(origin: str, gender: str, text_lang: str) -> tuple[str, str, str]:
    """Returns (display name, given name in Latin script, family name in Latin script)."""
    males, females, families = NAMES[origin]
    for _ in range(50):
        given = rng.choice(females if gender == "f" else males)
        family = rng.choice(families)
        if origin in {"MX", "CO"} and rng.random() < 0.4:
            family = f"{family} {rng.choice(families)}"
        if (given.partition("=")[0], family.partition("=")[0]) not in used_names:
            break
    used_names.add((given.partition("=")[0], family.partition("=")[0]))
    g_lat, _, g_ar = given.partition("=")
    f_lat, _, f_ar = family.partition("=")
    display = f"{g_lat} {f_lat}"
    if text_lang == "ar" and g_ar and rng.random() < 0.8:
        display = f"{g_ar} {f_ar}"
    return display, g_lat, f_lat


def title_prefix(display: str, prof: str, gender: str, lang: str) -> str:
    health = "health" in PROFESSIONS[prof]["sectors"] and prof not in {"nursing", "lab", "biomed"}
    if not health or rng.random() > 0.35:
        return display
    prefix = {
        "en": "Dr.",
        "fr": "Dr",
        "es": "Dra." if gender == "f" else "Dr.",
        "pt": "Dra." if gender == "f" else "Dr.",
        "ar": "د.",
    }[lang]
    return f"{prefix} {display}"


def text_lang_for(prof: str, lang: str, langs_spoken: set[str]) -> str:
    if lang in PROFESSIONS[prof]:
        return lang
    for alt in ("fr", "en"):
        if alt in PROFESSIONS[prof] and alt in langs_spoken:
            return alt
    return "en"


def phone_for(country: str, city: str) -> str:
    if rng.random() > 0.5:
        return ""
    n = rng.randint(0, 99)
    if country in {"US", "CA"}:
        area = {
            "Montreal": 514,
            "Toronto": 416,
            "Ottawa": 613,
            "Quebec City": 418,
            "Vancouver": 604,
            "Calgary": 403,
            "New York": 212,
            "Boston": 617,
            "Miami": 305,
            "Washington": 202,
            "Atlanta": 404,
            "Houston": 713,
            "Chicago": 312,
            "Los Angeles": 213,
        }.get(city, 555)
        return f"+1 {area} 555 01{n:02d}"
    if country == "GB":
        return f"+44 7700 900{n:03d}"
    if country == "FR":
        return f"+33 1 99 00 {n:02d} {rng.randint(10, 99)}"
    if country == "AU":
        return f"+61 491 570 {100 + n}"
    return ""


def context(
    lang: str,
    gender: str,
    title: str,
    city: str,
    origin: str,
    ocity: str,
    years: int,
    skills: list[str],
) -> dict[str, Any]:
    names = COUNTRY_NAMES[origin].get(lang, COUNTRY_NAMES[origin]["en"])
    if lang == "ar":
        ocity_t = HOME_TOWNS_AR.get(ocity, ocity)
    elif lang == "fr":
        ocity_t = HOME_TOWNS_FR.get(ocity, ocity)
    else:
        ocity_t = ocity
    t = pick_title(title, gender)
    sk = skills + ["", "", ""]
    plain = names[0]
    return {
        "Title": t,
        "title": lower_first(t),
        "a_title": ("an " if t[:1].lower() in "aeiou" else "a ") + lower_first(t),
        "city": CITY_NAMES.get(lang, {}).get(city, city),
        "ocity": ocity_t,
        "year": rng.randint(1999, 2021),
        "years": years,
        "country": plain[0].upper() + plain[1:] if lang != "fr" else plain,
        "in_country": names[1],
        "of_country": names[2],
        "skill1": sk[0],
        "skill2": sk[1],
        "skill3": sk[2],
    }


def render(template: str, ctx: dict[str, Any], gender: str) -> str:
    out = gendered(template, gender).format(**ctx)
    out = out.replace("em Porto", "no Porto")  # Portuguese says "no Porto"
    return out[:1].upper() + out[1:]


def compose_bio(prof: str, prof2: str | None, lang: str, ctx: dict[str, Any], gender: str) -> str:
    pieces = PROFESSIONS[prof][lang]
    exps = rng.sample(pieces["exp"], k=min(2, len(pieces["exp"])))
    n = rng.choices([1, 2, 3, 4, 5], weights=[14, 32, 30, 17, 7])[0]
    opening = render(rng.choice(OPENINGS[lang]), ctx, gender)
    motiv = [render(m, ctx, gender) for m in rng.sample(MOTIVATIONS[lang], k=2)]
    if n == 1:
        parts = [rng.choice([opening, exps[0]])]
    elif n == 2:
        parts = [opening, exps[0]]
    elif n == 3:
        parts = [opening, exps[0], motiv[0]]
    elif n == 4:
        parts = [opening, *exps, motiv[0]] if len(exps) > 1 else [opening, exps[0], *motiv]
    else:
        extra = []
        if prof2 and lang in PROFESSIONS[prof2]:
            extra = [rng.choice(PROFESSIONS[prof2][lang]["exp"])]
        parts = [opening, *exps, *extra, *motiv][:5]
    bio = " ".join(parts)
    if rng.random() < 0.08:
        for wrong_from, wrong_to in rng.sample(TYPOS[lang], k=len(TYPOS[lang])):
            if wrong_from in bio:
                bio = bio.replace(wrong_from, wrong_to, 1)
                break
    return bio


def availability(exp: dict[str, Any]) -> None:
    start = date(2026, 12, 1) + timedelta(days=rng.randint(0, 170))
    exp["available_from"] = start.isoformat()
    if rng.random() < 0.35:
        exp["available_until"] = None
    else:
        until = min(start + timedelta(days=rng.randint(90, 420)), date(2027, 12, 31))
        exp["available_until"] = until.isoformat()
    if rng.random() < 0.05:
        stale = date(2026, 5, 4) + timedelta(days=rng.randint(0, 45))
        exp["availability_confirmed_at"] = stale.isoformat()
    else:
        exp["availability_confirmed_at"] = (
            date(2026, 11, 2) + timedelta(days=rng.randint(0, 17))
        ).isoformat()


def pick_modes(must: str | None) -> list[str]:
    modes = rng.choices(
        [
            ["remote"],
            ["remote", "hybrid"],
            ["remote", "mission", "hybrid"],
            ["mission"],
            ["mission", "hybrid"],
            ["remote", "mission"],
        ],
        weights=[35, 25, 15, 5, 8, 12],
    )[0]
    if must and must not in modes:
        modes = [*modes, must]
    return [m for m in ("remote", "mission", "hybrid") if m in modes]


def education_for(prof: str, lang: str, origin: str, country: str) -> str:
    degree = rng.choice(PROFESSIONS[prof][lang]["degree"])
    if lang == "ar" and origin in UNIVERSITIES_AR and rng.random() < 0.6:
        return f"{degree}، {rng.choice(UNIVERSITIES_AR[origin])}"
    if rng.random() < 0.2:
        return degree
    school_country = origin if rng.random() < 0.45 else country
    schools = UNIVERSITIES.get(school_country) or UNIVERSITIES[origin]
    return f"{degree} ({rng.choice(schools)})"


def new_expert(
    idx: int, origin: str, prof: str, need: dict[str, Any] | None = None
) -> dict[str, Any]:
    weight, city, lang_weights = rng.choices(
        PLACEMENTS[origin], weights=[p[0] for p in PLACEMENTS[origin]]
    )[0]
    country, tz = CITIES[city]
    gender = rng.choice("mf")
    must = list(need["languages"]) if need else []
    lang = weighted(lang_weights)
    langs = make_languages(origin, country, lang, must)
    spoken = {lang_["code"] for lang_ in langs if lang_["level"] in SPEAKS}
    lang = text_lang_for(prof, lang, spoken)
    langs = make_languages(origin, country, lang, must) if lang not in spoken else langs
    prof2 = rng.choice(RELATED.get(prof, [prof])) if rng.random() < 0.3 else None
    if prof2 == prof:
        prof2 = None
    years = rng.randint(4, 32)
    pool = PROFESSIONS[prof][lang]["skills"]
    k = min(len(pool), rng.choice([3, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10]))
    skills = rng.sample(pool, k=k)
    if need and need["text_lang"] == lang:
        wanted = [s for s in need["required_skills"] if s in pool and s not in skills]
        skills = wanted[: rng.randint(1, 3)] + skills
    if prof2 and lang in PROFESSIONS[prof2]:
        extra = rng.sample(PROFESSIONS[prof2][lang]["skills"], k=rng.randint(1, 2))
        skills += [s for s in extra if s not in skills]
    skills = list(dict.fromkeys(skills))[:12]
    display, g_lat, f_lat = pick_name(origin, gender, lang)
    ocity = rng.choice(HOME_TOWNS[origin])
    title = rng.choice(PROFESSIONS[prof][lang]["titles"])
    ctx = context(
        lang, gender, title, city, origin, ocity, years, rng.sample(skills, k=min(3, len(skills)))
    )
    sectors = list(PROFESSIONS[prof]["sectors"])
    if prof2 and PROFESSIONS[prof2]["sectors"][0] not in sectors:
        sectors.append(PROFESSIONS[prof2]["sectors"][0])
    hours = rng.choice([4, 6, 8, 8, 10, 12, 12, 16, 16, 20, 24, 30, 40, 60])
    if need and rng.random() < 0.8:
        hours = max(hours, min(60, need["hours_per_week"] * 4))
    exp: dict[str, Any] = {
        "external_id": f"exp-{idx:04d}",
        "email": make_email(g_lat, f_lat),
        "display_name": title_prefix(display, prof, gender, lang),
        "locale": lang
        if rng.random() > 0.08
        else rng.choice([c for c in sorted(spoken) if c in UI_LOCALES] or [lang]),
        "headline": render(rng.choice(HEADLINES[lang]), ctx, gender),
        "bio": compose_bio(prof, prof2, lang, ctx, gender),
        "skills": skills,
        "languages": langs,
        "origin_country": origin,
        "residence_country": country,
        "city": city,
        "timezone": tz,
        "modes": pick_modes(need["mode"] if need else None),
        "hours_per_month": hours,
        "sectors": sectors,
        "years_experience": years,
        "education": education_for(prof, lang, origin, country),
        "visibility": "coordinators" if rng.random() < 0.1 else "institutions",
        "phone": phone_for(country, city),
        "text_lang": lang,
        "active": True,
        "_prof": prof,
        "_prof2": prof2,
        "_key": None,
    }
    availability(exp)
    return exp


def anchor_expert(idx: int, a: dict[str, Any]) -> dict[str, Any]:
    country, tz = CITIES[a["city"]]
    used_emails.add(a["email"])
    plain = re.sub(r"^(Dr\.?|Dra\.) ", "", a.get("latin", a["name"])).split(",")[0]
    first, _, last = plain.partition(" ")
    used_names.add((first, last))
    prof = a["prof"]
    sectors = list(PROFESSIONS[prof]["sectors"])
    if a.get("prof2") and PROFESSIONS[a["prof2"]]["sectors"][0] not in sectors:
        sectors.append(PROFESSIONS[a["prof2"]]["sectors"][0])
    exp = {
        "external_id": f"exp-{idx:04d}",
        "email": a["email"],
        "display_name": a["name"],
        "locale": a["locale"],
        "headline": a["headline"],
        "bio": a["bio"],
        "skills": a["skills"],
        "languages": [{"code": c, "level": lv} for c, lv in a["languages"]],
        "origin_country": a["origin"],
        "residence_country": country,
        "city": a["city"],
        "timezone": tz,
        "modes": a["modes"],
        "hours_per_month": a["hours"],
        "sectors": sectors,
        "years_experience": a["years"],
        "education": a["education"],
        "visibility": "institutions",
        "phone": a.get("phone", ""),
        "text_lang": a["text_lang"],
        "active": True,
        "_prof": prof,
        "_prof2": a.get("prof2"),
        "_key": a["key"],
    }
    availability(exp)
    exp["availability_confirmed_at"] = (date(2026, 11, 3) + timedelta(days=idx % 15)).isoformat()
    exp["available_from"] = "2026-12-01"
    exp["available_until"] = None if idx % 3 else "2027-12-31"
    return exp


def speaks_all(exp: dict[str, Any], codes: list[str]) -> bool:
    levels = {lang["code"]: lang["level"] for lang in exp["languages"]}
    return all(levels.get(c) in SPEAKS for c in codes)


def fits(exp: dict[str, Any], need: dict[str, Any]) -> bool:
    return (
        exp["active"]
        and need["prof"] in (exp["_prof"], exp["_prof2"])
        and speaks_all(exp, need["languages"])
    )


# --- the world -------------------------------------------------------------------------------
def build() -> dict[str, Any]:
    inst_by_id = {}
    institutions = []
    for ext, name, typ, country, city, lang, verified, desc, members in INSTITUTIONS:
        domain = members[0][0].split("@")[1]
        row = {
            "external_id": ext,
            "name": name,
            "type": typ,
            "country": country,
            "city": city,
            "website": f"https://www.{domain}",
            "description": desc,
            "verified": verified,
            "members": [{"email": e, "display_name": n, "locale": loc} for e, n, loc in members],
        }
        institutions.append(row)
        inst_by_id[ext] = {**row, "text_lang": lang}
        used_emails.update(e for e, _, _ in members)

    needs = []
    for n in NEEDS:
        inst = inst_by_id[n["institution"]]
        needs.append(
            {**n, "text_lang": inst["text_lang"], "city": inst["city"], "_country": inst["country"]}
        )
    need_by_key = {n["key"]: n for n in needs}

    experts = [anchor_expert(i + 1, a) for i, a in enumerate(ANCHORS)]
    # coverage: every need that is not a deliberate gap gets plausible candidates
    for need in needs:
        if need["prof"].startswith("gap-"):
            continue
        while sum(fits(e, need) for e in experts) < COVERAGE_TARGET:
            experts.append(new_expert(len(experts) + 1, need["_country"], need["prof"], need))
    # fill the roster up to the diaspora quotas with a realistic spread of trades
    demand = Counter(n["prof"] for n in needs)
    profs = sorted(PROFESSIONS)
    counts = Counter(e["origin_country"] for e in experts)
    fill = [o for o, q in ORIGIN_QUOTA.items() for _ in range(max(0, q - counts[o]))]
    rng.shuffle(fill)
    for origin in fill:
        if len(experts) >= TOTAL_EXPERTS:
            break
        prof = rng.choices(profs, weights=[1 + demand[p] for p in profs])[0]
        experts.append(new_expert(len(experts) + 1, origin, prof))
    while len(experts) < TOTAL_EXPERTS:
        origin = rng.choice(sorted(ORIGIN_QUOTA))
        experts.append(new_expert(len(experts) + 1, origin, rng.choice(profs)))

    by_key = {e["_key"]: e for e in experts if e["_key"]}

    # engagements
    engaged: Counter[str] = Counter()
    engagements = []
    for spec in ENGAGEMENTS:
        need = need_by_key[spec["need"]]
        if spec["expert"]:
            exp = by_key[spec["expert"]]
        else:
            cands = [
                e
                for e in experts
                if fits(e, need)
                and not e["_key"]
                and not engaged[e["external_id"]]
                and e["availability_confirmed_at"] >= "2026-11-01"
            ]
            cands.sort(
                key=lambda e: (
                    e["origin_country"] != need["_country"],
                    e["text_lang"] != need["text_lang"],
                    e["external_id"],
                )
            )
            if not cands:
                raise SystemExit(f"no candidate for engagement on {need['key']}")
            exp = cands[0]
        engaged[exp["external_id"]] += 1
        stage = spec["stage"]
        start = date.fromisoformat(spec["start"]) if spec.get("start") else None
        end = date.fromisoformat(spec["end"]) if spec.get("end") else None
        row: dict[str, Any] = {
            "need": None,
            "expert": exp["external_id"],
            "stage": stage,
            "reason": spec.get("reason", ""),
            "mode": need["mode"],
            "start_date": iso(start),
            "end_date": iso(end),
            "agreed_hours": need["duration_weeks"] * need["hours_per_week"] if start else None,
        }
        if stage == "completed":
            row["expert_feedback"] = spec["expert_feedback"]
            row["institution_feedback"] = spec["institution_feedback"]
            row["impact"] = spec["institution_feedback"]["impact"]
        row["_need"] = need
        engagements.append(row)
        # keep the expert's stated availability consistent with what was agreed
        if (need["key"], stage) in REASON_AVAILABILITY:
            exp["available_from"] = REASON_AVAILABILITY[(need["key"], stage)].isoformat()
        elif start and start >= date(2026, 12, 1) and stage in {"offered", "accepted", "confirmed"}:
            if date.fromisoformat(exp["available_from"]) > start:
                exp["available_from"] = max(
                    date(2026, 12, 1), start - timedelta(days=14)
                ).isoformat()
            if exp["available_until"] and date.fromisoformat(exp["available_until"]) < end:
                exp["available_until"] = min(
                    end + timedelta(days=30), date(2027, 12, 31)
                ).isoformat()
        if need["mode"] not in exp["modes"] and stage not in {"rejected", "declined"}:
            exp["modes"] = [
                m for m in ("remote", "mission", "hybrid") if m in {*exp["modes"], need["mode"]}
            ]

    # a few experts who left or never reconfirmed, for the coordinator's clean-up views
    idle = [e for e in experts if not e["_key"] and not engaged[e["external_id"]]]
    for e in rng.sample(idle, k=5):
        e["active"] = False
    for e in rng.sample([e for e in idle if e["active"]], k=4):
        e["availability_confirmed_at"] = "2026-06-01"

    # need status and dates, from the engagements they carry
    by_need: dict[str, list[dict[str, Any]]] = {}
    for row in engagements:
        by_need.setdefault(row["_need"]["key"], []).append(row)
    for need in needs:
        rows = by_need.get(need["key"], [])
        agreed = [r for r in rows if r["stage"] in {"confirmed", "active", "completed"}]
        if agreed:
            start = date.fromisoformat(agreed[0]["start_date"])
            need["status"] = "filled"
            need["start_from"] = start - timedelta(days=21)
            need["start_until"] = start + timedelta(days=14)
            posted = start - timedelta(days=rng.randint(45, 100))
            need["posted_at"] = datetime.combine(
                max(posted, date(2026, 1, 5) + timedelta(days=rng.randint(0, 9))),
                datetime.min.time(),
            )
        elif need["key"] in CLOSED_NEEDS:
            need["status"] = "closed"
            need["start_from"] = date(2026, 5, 4) + timedelta(days=rng.randint(0, 40))
            need["start_until"] = need["start_from"] + timedelta(weeks=6)
            need["posted_at"] = datetime(2026, 2, 1) + timedelta(days=rng.randint(0, 50))
        else:
            if need["key"] in EXTRA_DRAFTS:
                need["status"] = "draft"
            planned = [
                date.fromisoformat(r["start_date"])
                for r in rows
                if r["start_date"] and r["stage"] != "cancelled"
            ]
            start_from = monday(date(2027, 1, 4) + timedelta(days=rng.randint(0, 100)))
            if planned:
                start_from = min(start_from, min(planned) - timedelta(days=7))
            need["start_from"] = start_from
            need["start_until"] = start_from + timedelta(weeks=rng.randint(4, 14))
            if planned and need["start_until"] < max(planned):
                need["start_until"] = max(planned) + timedelta(days=14)
            need["posted_at"] = (
                None
                if need["status"] == "draft"
                else datetime(2026, 9, 1) + timedelta(days=rng.randint(0, 78))
            )
        if need["posted_at"]:
            need["posted_at"] += timedelta(hours=rng.randint(7, 18), minutes=rng.randint(0, 59))

    # external ids for needs, in file order
    for i, need in enumerate(needs, 1):
        need["external_id"] = f"need-{i:04d}"
    for row in engagements:
        row["need"] = row.pop("_need")["external_id"]

    need_rows = [
        {
            "external_id": n["external_id"],
            "institution": n["institution"],
            "title": n["title"],
            "description": n["description"],
            "required_skills": n["required_skills"],
            "sector": n["sector"],
            "mode": n["mode"],
            "duration_weeks": n["duration_weeks"],
            "hours_per_week": n["hours_per_week"],
            "start_from": iso(n["start_from"]),
            "start_until": iso(n["start_until"]),
            "languages": n["languages"],
            "city": n["city"],
            "support": n["support"],
            "live_sessions": n["live_sessions"],
            "status": n["status"],
            "text_lang": n["text_lang"],
            "posted_at": n["posted_at"].strftime("%Y-%m-%dT%H:%M:00Z") if n["posted_at"] else None,
        }
        for n in needs
    ]
    expert_rows = [{k: v for k, v in e.items() if not k.startswith("_")} for e in experts]
    for e in expert_rows:
        if not e["phone"]:
            del e["phone"]

    awa = by_key["awa"]
    accounts = {
        "accounts": [
            {
                "role": "coordinator",
                "email": "coordinator@homeward.example",
                "password": DEMO_PASSWORD,
                "display_name": "Clara Mendes",
                "locale": "en",
                "note": "Programme coordinator: verifies institutions (4 are waiting), "
                "reviews proposals, follows engagements.",
            },
            {
                "role": "admin",
                "email": "admin@homeward.example",
                "password": DEMO_PASSWORD,
                "display_name": "Homeward Admin",
                "locale": "en",
                "note": "Platform administrator: users, imports, settings.",
            },
            {
                "role": "expert",
                "email": awa["email"],
                "password": DEMO_PASSWORD,
                "note": f"{awa['display_name']} ({awa['external_id']}), epidemiologist in "
                "Montreal, profile in English, UI in French: has an offer waiting "
                "(Dakar epidemiology module), one declined and one completed engagement.",
            },
            {
                "role": "institution",
                "email": "fatou.sarr@medecine-dakarfann.example",
                "password": DEMO_PASSWORD,
                "note": "Pr Fatou Sarr, Faculté de Médecine et d'Odontologie, Université de "
                "Dakar-Fann (inst-sn-ucad-med, verified): open needs with proposals at "
                "several stages and a confirmed ultrasound mission.",
            },
        ]
    }
    return {
        "institutions": institutions,
        "experts": expert_rows,
        "needs": need_rows,
        "engagements": [{k: v for k, v in r.items() if not k.startswith("_")} for r in engagements],
        "accounts": accounts,
        "_experts": experts,
        "_needs": needs,
    }


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def outputs(world: dict[str, Any]) -> dict[str, str]:
    return {
        "institutions.jsonl": jsonl(world["institutions"]),
        "experts.jsonl": jsonl(world["experts"]),
        "needs.jsonl": jsonl(world["needs"]),
        "engagements.jsonl": jsonl(world["engagements"]),
        "accounts.json": json.dumps(world["accounts"], ensure_ascii=False, indent=2) + "\n",
    }


def report(world: dict[str, Any]) -> None:
    experts, needs = world["_experts"], world["_needs"]
    print(
        f"institutions {len(world['institutions'])}, experts {len(experts)}, needs {len(needs)}, "
        f"engagements {len(world['engagements'])}"
    )
    print("experts by origin:", dict(Counter(e["origin_country"] for e in experts).most_common()))
    print("experts by text language:", dict(Counter(e["text_lang"] for e in experts).most_common()))
    print("needs by text language:", dict(Counter(n["text_lang"] for n in needs).most_common()))
    print("needs by status:", dict(Counter(n["status"] for n in needs).most_common()))
    print(
        "engagement stages:", dict(Counter(r["stage"] for r in world["engagements"]).most_common())
    )
    thin = [(n["key"], sum(fits(e, n) for e in experts)) for n in needs]
    print("gaps (no fitting expert):", [k for k, c in thin if c == 0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if the committed files are stale"
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    world = build()
    files = outputs(world)
    if args.check:
        stale = [
            name
            for name, text in files.items()
            if (HERE / name).read_text(encoding="utf-8") != text
        ]
        if stale:
            raise SystemExit(f"stale demo world files: {', '.join(stale)}; run build_world.py")
        return
    for name, text in files.items():
        (HERE / name).write_text(text, encoding="utf-8")
    if not args.quiet:
        report(world)


if __name__ == "__main__":
    main()
