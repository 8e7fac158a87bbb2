"""Content contract of the demo world in seed_data/world/ (stdlib only: json, datetime, zoneinfo).

The loader and the demo rely on these properties; the checks are plain functions over the
parsed files so that a broken world fails with a message that says which row is wrong.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

WORLD = Path(__file__).resolve().parents[2] / "seed_data" / "world"

TEXT_LANGS = {"en", "fr", "es", "pt", "ar"}
INSTITUTION_TYPES = {"university", "hospital", "business", "agency", "ngo"}
MODES = {"remote", "mission", "hybrid"}
LEVELS = {"native", "fluent", "professional", "basic"}
SECTORS = {
    "health",
    "education",
    "engineering",
    "agriculture",
    "finance",
    "law",
    "public_administration",
    "technology",
    "energy",
    "water",
    "business",
    "research",
    "architecture",
    "environment",
}
SUPPORT = {"travel", "per_diem", "stipend", "accommodation"}
NEED_STATUSES = {"draft", "open", "filled", "closed"}
STAGES = {
    "proposed",
    "approved",
    "rejected",
    "offered",
    "accepted",
    "declined",
    "confirmed",
    "active",
    "completed",
    "cancelled",
}
VISIBILITY = {"institutions", "coordinators"}
ROLES = {"expert", "institution", "coordinator", "admin"}
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.example$")
ISO2_RE = re.compile(r"^[A-Z]{2}$")
LANG_RE = re.compile(r"^[a-z]{2}$")


def load_jsonl(name: str) -> list[dict]:
    rows = []
    with (WORLD / name).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            assert line.strip(), f"{name}:{lineno}: blank line"
            rows.append(json.loads(line))
    return rows


@pytest.fixture(scope="module")
def world() -> dict:
    return {
        "institutions": load_jsonl("institutions.jsonl"),
        "experts": load_jsonl("experts.jsonl"),
        "needs": load_jsonl("needs.jsonl"),
        "engagements": load_jsonl("engagements.jsonl"),
        "accounts": json.loads((WORLD / "accounts.json").read_text(encoding="utf-8"))["accounts"],
    }


# --- the checks, as functions returning a list of problems --------------------------------
def check_counts(w: dict) -> list[str]:
    problems = []
    for key, minimum in (
        ("experts", 200),
        ("institutions", 40),
        ("needs", 100),
        ("engagements", 30),
    ):
        if len(w[key]) < minimum:
            problems.append(f"only {len(w[key])} {key}, want at least {minimum}")
    origins = {e["origin_country"] for e in w["experts"]}
    if len(origins) < 12:
        problems.append(f"experts come from {len(origins)} origin countries, want at least 12")
    for key in ("experts", "needs"):
        missing = TEXT_LANGS - {r["text_lang"] for r in w[key]}
        if missing:
            problems.append(f"{key} have no text in {sorted(missing)}")
    return problems


def check_unique(w: dict) -> list[str]:
    problems = []
    for key in ("institutions", "experts", "needs"):
        dup = [k for k, n in Counter(r["external_id"] for r in w[key]).items() if n > 1]
        if dup:
            problems.append(f"duplicate {key} external_id: {dup}")
    emails = [e["email"].lower() for e in w["experts"]]
    emails += [m["email"].lower() for i in w["institutions"] for m in i["members"]]
    emails += [a["email"].lower() for a in w["accounts"] if a["role"] in {"coordinator", "admin"}]
    dup = [k for k, n in Counter(emails).items() if n > 1]
    if dup:
        problems.append(f"duplicate emails: {dup}")
    bad = [e for e in emails if not EMAIL_RE.match(e)]
    if bad:
        problems.append(f"emails not on an .example domain: {bad}")
    return problems


def _date(
    value: str | None, where: str, problems: list[str], nullable: bool = False
) -> date | None:
    if value is None:
        if not nullable:
            problems.append(f"{where}: missing date")
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        problems.append(f"{where}: not an ISO date: {value!r}")
        return None


def check_institutions(w: dict) -> list[str]:
    problems = []
    for i in w["institutions"]:
        where = f"institution {i.get('external_id')}"
        for field in ("external_id", "name", "type", "country", "city", "website", "description"):
            if not isinstance(i.get(field), str) or not i[field].strip():
                problems.append(f"{where}: {field} missing")
        if i.get("type") not in INSTITUTION_TYPES:
            problems.append(f"{where}: type {i.get('type')!r}")
        if not ISO2_RE.match(i.get("country", "")):
            problems.append(f"{where}: country {i.get('country')!r}")
        if not str(i.get("website", "")).rstrip("/").endswith(".example"):
            problems.append(f"{where}: website {i.get('website')!r} is not on .example")
        if not isinstance(i.get("verified"), bool):
            problems.append(f"{where}: verified must be a bool")
        if not i.get("members"):
            problems.append(f"{where}: no members")
        for m in i.get("members", []):
            if m.get("locale") not in TEXT_LANGS or not m.get("display_name"):
                problems.append(f"{where}: bad member {m}")
    unverified = sum(not i["verified"] for i in w["institutions"])
    if not 1 <= unverified <= 10:
        problems.append(f"{unverified} unverified institutions; the coordinator queue wants a few")
    return problems


def check_experts(w: dict) -> list[str]:
    problems = []
    for e in w["experts"]:
        where = f"expert {e.get('external_id')}"
        for field in (
            "external_id",
            "email",
            "display_name",
            "headline",
            "bio",
            "city",
            "education",
        ):
            if not isinstance(e.get(field), str) or not e[field].strip():
                problems.append(f"{where}: {field} missing")
        if e.get("locale") not in TEXT_LANGS or e.get("text_lang") not in TEXT_LANGS:
            problems.append(f"{where}: locale/text_lang {e.get('locale')!r}/{e.get('text_lang')!r}")
        skills = e.get("skills", [])
        if not 3 <= len(skills) <= 12 or not all(isinstance(s, str) and s.strip() for s in skills):
            problems.append(f"{where}: {len(skills)} skills, want 3-12 non-empty strings")
        langs = e.get("languages", [])
        if not langs or any(
            not LANG_RE.match(str(lg.get("code"))) or lg.get("level") not in LEVELS for lg in langs
        ):
            problems.append(f"{where}: bad languages {langs}")
        spoken = {lg["code"] for lg in langs if lg.get("level") != "basic"}
        if e.get("text_lang") not in spoken:
            problems.append(
                f"{where}: profile written in {e.get('text_lang')} which the expert does not list"
            )
        for field in ("origin_country", "residence_country"):
            if not ISO2_RE.match(str(e.get(field, ""))):
                problems.append(f"{where}: {field} {e.get(field)!r}")
        if e.get("origin_country") == e.get("residence_country"):
            problems.append(f"{where}: lives in the origin country, not in the diaspora")
        try:
            ZoneInfo(e.get("timezone", ""))
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{where}: unknown time zone {e.get('timezone')!r}")
        modes = e.get("modes", [])
        if not modes or not set(modes) <= MODES:
            problems.append(f"{where}: modes {modes}")
        if not isinstance(e.get("hours_per_month"), int) or not 4 <= e["hours_per_month"] <= 60:
            problems.append(f"{where}: hours_per_month {e.get('hours_per_month')!r}")
        if not e.get("sectors") or not set(e["sectors"]) <= SECTORS:
            problems.append(f"{where}: sectors {e.get('sectors')}")
        if not isinstance(e.get("years_experience"), int) or e["years_experience"] < 0:
            problems.append(f"{where}: years_experience {e.get('years_experience')!r}")
        if e.get("visibility") not in VISIBILITY:
            problems.append(f"{where}: visibility {e.get('visibility')!r}")
        if not isinstance(e.get("active", True), bool):
            problems.append(f"{where}: active must be a bool")
        start = _date(e.get("available_from"), f"{where} available_from", problems)
        until = _date(e.get("available_until"), f"{where} available_until", problems, nullable=True)
        for d, name in ((start, "available_from"), (until, "available_until")):
            if d and not date(2026, 12, 1) <= d <= date(2027, 12, 31):
                problems.append(f"{where}: {name} {d} outside 2026-12..2027-12")
        if start and until and until < start:
            problems.append(f"{where}: available_until before available_from")
        _date(e.get("availability_confirmed_at"), f"{where} availability_confirmed_at", problems)
    experts = w["experts"]
    if not any(e.get("active") is False for e in experts):
        problems.append("no inactive expert")
    if not any(e.get("availability_confirmed_at", "9999") < "2026-07-01" for e in experts):
        problems.append("no expert with stale availability")
    if not any(e["visibility"] == "coordinators" for e in experts):
        problems.append("no expert visible to coordinators only")
    return problems


def check_needs(w: dict) -> list[str]:
    problems = []
    inst = {i["external_id"]: i for i in w["institutions"]}
    for n in w["needs"]:
        where = f"need {n.get('external_id')}"
        if n.get("institution") not in inst:
            problems.append(f"{where}: unknown institution {n.get('institution')!r}")
        elif not inst[n["institution"]]["verified"] and n.get("status") != "draft":
            problems.append(f"{where}: unverified institution may only hold drafts")
        for field in ("title", "description", "city"):
            if not isinstance(n.get(field), str) or not n[field].strip():
                problems.append(f"{where}: {field} missing")
        if not n.get("required_skills") or not all(
            isinstance(s, str) and s for s in n["required_skills"]
        ):
            problems.append(f"{where}: required_skills {n.get('required_skills')}")
        if n.get("sector") not in SECTORS:
            problems.append(f"{where}: sector {n.get('sector')!r}")
        if n.get("mode") not in MODES:
            problems.append(f"{where}: mode {n.get('mode')!r}")
        for field in ("duration_weeks", "hours_per_week"):
            if not isinstance(n.get(field), int) or n[field] <= 0:
                problems.append(f"{where}: {field} {n.get(field)!r}")
        if not n.get("languages") or not all(LANG_RE.match(c) for c in n["languages"]):
            problems.append(f"{where}: languages {n.get('languages')}")
        if not set(n.get("support", [None])) <= SUPPORT:
            problems.append(f"{where}: support {n.get('support')}")
        if not isinstance(n.get("live_sessions"), bool):
            problems.append(f"{where}: live_sessions must be a bool")
        if n.get("status") not in NEED_STATUSES:
            problems.append(f"{where}: status {n.get('status')!r}")
        if n.get("text_lang") not in TEXT_LANGS:
            problems.append(f"{where}: text_lang {n.get('text_lang')!r}")
        start = _date(n.get("start_from"), f"{where} start_from", problems)
        until = _date(n.get("start_until"), f"{where} start_until", problems)
        if start and until and until < start:
            problems.append(f"{where}: start_until before start_from")
        posted = n.get("posted_at")
        if posted is None:
            if n.get("status") != "draft":
                problems.append(f"{where}: only drafts may lack posted_at")
        else:
            try:
                if datetime.fromisoformat(posted.replace("Z", "+00:00")).year != 2026:
                    problems.append(f"{where}: posted_at not in 2026")
            except ValueError:
                problems.append(f"{where}: posted_at {posted!r}")
    if sum(n["status"] == "open" for n in w["needs"]) < len(w["needs"]) // 2:
        problems.append("most needs should be open")
    return problems


def check_engagements(w: dict) -> list[str]:
    problems = []
    needs = {n["external_id"]: n for n in w["needs"]}
    experts = {e["external_id"]: e for e in w["experts"]}
    for lineno, g in enumerate(w["engagements"], 1):
        where = f"engagement line {lineno}"
        need, expert = needs.get(g.get("need")), experts.get(g.get("expert"))
        if need is None:
            problems.append(f"{where}: unknown need {g.get('need')!r}")
        if expert is None:
            problems.append(f"{where}: unknown expert {g.get('expert')!r}")
        stage = g.get("stage")
        if stage not in STAGES:
            problems.append(f"{where}: stage {stage!r}")
        if stage in {"rejected", "declined", "cancelled"} and not str(g.get("reason", "")).strip():
            problems.append(f"{where}: {stage} without a reason")
        start = _date(g.get("start_date"), f"{where} start_date", problems, nullable=True)
        end = _date(g.get("end_date"), f"{where} end_date", problems, nullable=True)
        if start and end and end < start:
            problems.append(f"{where}: ends before it starts")
        agreed = stage in {"offered", "accepted", "confirmed", "active", "completed"}
        if agreed and not (start and end and isinstance(g.get("agreed_hours"), int)):
            problems.append(f"{where}: {stage} needs start_date, end_date and agreed_hours")
        if stage == "completed":
            for side in ("expert_feedback", "institution_feedback"):
                fb = g.get(side) or {}
                if not (
                    isinstance(fb.get("rating"), int)
                    and 1 <= fb["rating"] <= 5
                    and fb.get("delivered")
                    and isinstance(fb.get("hours"), int)
                    and isinstance(fb.get("would_repeat"), bool)
                ):
                    problems.append(f"{where}: bad {side} {fb}")
            if not g.get("impact"):
                problems.append(f"{where}: completed without impact")
        if stage in {"confirmed", "active", "completed"} and need and need["status"] != "filled":
            problems.append(f"{where}: {stage} engagement on a need that is {need['status']}")
        if need and expert:
            levels = {lg["code"]: lg["level"] for lg in expert["languages"]}
            if stage not in {"rejected"} and any(
                levels.get(c) in {None, "basic"} for c in need["languages"]
            ):
                problems.append(
                    f"{where}: expert {expert['external_id']} does not speak {need['languages']}"
                )
    missing = STAGES - {g.get("stage") for g in w["engagements"]}
    if missing:
        problems.append(f"stages never reached: {sorted(missing)}")
    return problems


def check_accounts(w: dict) -> list[str]:
    problems = []
    expert_emails = {e["email"].lower() for e in w["experts"]}
    member_of = {m["email"].lower(): i for i in w["institutions"] for m in i["members"]}
    roles = Counter(a.get("role") for a in w["accounts"])
    if set(roles) != ROLES:
        problems.append(f"accounts cover roles {sorted(roles)}, want {sorted(ROLES)}")
    for a in w["accounts"]:
        email = str(a.get("email", "")).lower()
        if len(str(a.get("password", ""))) < 10:
            problems.append(f"account {email}: password shorter than 10 characters")
        if a.get("role") == "expert" and email not in expert_emails:
            problems.append(f"account {email}: no such expert")
        if a.get("role") == "institution":
            inst = member_of.get(email)
            if inst is None:
                problems.append(f"account {email}: not a member of any institution")
            elif not inst["verified"]:
                problems.append(f"account {email}: institution not verified")
            elif not any(
                n["institution"] == inst["external_id"] and n["status"] == "open"
                for n in w["needs"]
            ):
                problems.append(f"account {email}: institution has no open need")
    return problems


CHECKS = [
    check_counts,
    check_unique,
    check_institutions,
    check_experts,
    check_needs,
    check_engagements,
    check_accounts,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_world(world: dict, check) -> None:
    problems = check(world)
    assert not problems, "\n".join(problems[:30])


def test_demo_expert_story(world: dict) -> None:
    """The demo expert has something to act on and a history."""
    email = next(a["email"] for a in world["accounts"] if a["role"] == "expert")
    exp_id = next(e["external_id"] for e in world["experts"] if e["email"] == email)
    stages = {g["stage"] for g in world["engagements"] if g["expert"] == exp_id}
    assert "offered" in stages and "completed" in stages


# --- the checks must be able to fail ------------------------------------------------------
def _copy(w: dict) -> dict:
    return json.loads(json.dumps(w))


def test_checks_catch_broken_worlds(world: dict) -> None:
    w = _copy(world)
    w["needs"][0]["institution"] = "inst-nowhere"
    assert any("unknown institution" in p for p in check_needs(w))

    w = _copy(world)
    w["engagements"][0]["expert"] = "exp-9999"
    assert any("unknown expert" in p for p in check_engagements(w))

    w = _copy(world)
    w["experts"][1]["external_id"] = w["experts"][0]["external_id"]
    assert any("duplicate experts" in p for p in check_unique(w))

    w = _copy(world)
    w["experts"][0]["timezone"] = "Mars/Olympus_Mons"
    assert any("time zone" in p for p in check_experts(w))

    w = _copy(world)
    w["experts"] = w["experts"][:150]
    assert any("experts" in p for p in check_counts(w))

    w = _copy(world)
    w["engagements"] = [g for g in w["engagements"] if g["stage"] != "cancelled"]
    assert any("cancelled" in p for p in check_engagements(w))

    w = _copy(world)
    w["needs"] = [n for n in w["needs"] if n["text_lang"] != "pt"]
    assert any("pt" in p for p in check_counts(w))

    w = _copy(world)
    w["needs"][0]["start_from"] = "2027-02-30"
    assert any("not an ISO date" in p for p in check_needs(w))

    w = _copy(world)
    next(a for a in w["accounts"] if a["role"] == "expert")["email"] = "ghost@nowhere.example"
    assert any("no such expert" in p for p in check_accounts(w))


# --- docs/examples follow docs/import.md --------------------------------------------------
DOCS = Path(__file__).resolve().parents[2] / "docs"


def documented_fields() -> dict[str, dict[str, bool]]:
    """Fields per record kind, from the tables of docs/import.md: {kind: {field: required}}."""
    fields: dict[str, dict[str, bool]] = {}
    kind = None
    for line in (DOCS / "import.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            kind = line[3:].strip().lower()
        m = re.match(r"^\| `([a-z_]+)` \| [^|]+ \| (yes|no) \|", line)
        if m and kind:
            fields.setdefault(kind, {})[m.group(1)] = m.group(2) == "yes"
    return fields


def read_csv(name: str) -> list[dict[str, str]]:
    import csv

    text = (DOCS / "examples" / name).read_text(encoding="utf-8-sig")
    header = text.splitlines()[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    return list(csv.DictReader(text.splitlines(keepends=True), delimiter=delimiter))


@pytest.mark.parametrize(
    ("name", "kind"),
    [("institutions.csv", "institutions"), ("experts.csv", "experts"), ("needs.csv", "needs")],
)
def test_example_csv_matches_doc(name: str, kind: str) -> None:
    fields = documented_fields()[kind]
    rows = read_csv(name)
    assert 5 <= len(rows) <= 10
    assert set(rows[0]) <= set(fields), f"undocumented columns: {set(rows[0]) - set(fields)}"
    for lineno, row in enumerate(rows, 2):
        for field, required in fields.items():
            if required:
                assert row.get(field, "").strip(), f"{name} line {lineno}: {field} is required"


def test_examples_reference_each_other() -> None:
    institutions = {r["external_id"] for r in read_csv("institutions.csv")}
    assert {r["institution"] for r in read_csv("needs.csv")} <= institutions
    experts = [
        json.loads(line) for line in (DOCS / "examples" / "experts.jsonl").open(encoding="utf-8")
    ]
    fields = documented_fields()["experts"]
    for e in experts:
        assert set(e) <= set(fields)
    assert any(r["text_lang"] == "ar" for r in read_csv("experts.csv"))


def test_world_files_match_their_generator() -> None:
    """The committed JSONL is what build_world.py produces (edit the pieces, then rebuild)."""
    import subprocess
    import sys

    script = WORLD / "build_world.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr or result.stdout
