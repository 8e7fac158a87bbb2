"""Each role's decisions in a real browser, in English, French and Arabic.

An institution posts a need with every field filled (start dates typed into the date inputs),
the worker matches it, a coordinator refuses a rejection without a reason and approves three
candidates at once, an expert reads the whole need on the offer and accepts, the institution
confirms. The review, offer and profile pages are checked at 390 px; axe runs on every page
the journey touches. Screenshots: test-output/screenshots/roles/<locale>/<step>.png.

The module has its own site and worker (one per module), so the experts it adds never change
the rankings the other browser tests expect.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import pytest
from babel.messages.pofile import read_po
from sqlmodel import col, select

from service.core.changes import expert_changed
from service.core.needs import NeedSaved
from service.i18n import TRANSLATIONS_DIR, translations_for
from service.main import build_state
from service.models import Engagement, ExpertProfile, MatchProposal, Need, Role, User
from service.models.types import utcnow
from service.pages.institution import NEED_SAVED
from service.worker import Worker
from tests.browser.conftest import AXE, CHROMIUM, HOW_TO_RUN, LiveSite, Visitor, serve_site
from tests.browser.test_accessibility import page_problems
from tests.factories import make_expert, make_institution, make_user


@dataclass(frozen=True)
class Script:
    """What the people of one language's journey type and expect to read."""

    locale: str
    browser_locale: str
    title: str
    description: str
    skills: tuple[str, str]
    city: str
    names: tuple[str, ...]
    posted: str  # the flash after posting
    accepted: str  # the flash after accepting


SCRIPTS = {
    "en": Script(
        locale="en",
        browser_locale="en-GB",
        title="Co-teach field epidemiology in Saint-Louis",
        description=(
            "Our medical faculty looks for an epidemiologist to co-teach a field epidemiology "
            "module with biostatistics practicals, partly on site in Saint-Louis."
        ),
        skills=("epidemiology", "biostatistics"),
        city="Saint-Louis",
        names=("Ama Owusu", "Kwame Boateng", "Efua Mensah", "Yaw Asante", "Abena Osei"),
        posted=(
            "Your need is published. Within minutes the matcher ranks the experts who fit it; "
            "a coordinator reviews them and offers the engagement to the best ones."
        ),
        accepted="You accepted the offer.",
    ),
    "fr": Script(
        locale="fr",
        browser_locale="fr-FR",
        title="Co-enseigner l'épidémiologie de terrain à Saint-Louis",
        description=(
            "Notre faculté de médecine cherche un épidémiologiste pour co-enseigner un module "
            "d'épidémiologie de terrain, avec des travaux pratiques de biostatistique, en "
            "partie sur place à Saint-Louis."
        ),
        skills=("épidémiologie", "biostatistique"),
        city="Saint-Louis (Sénégal)",
        names=("Aïssatou Diop", "Mamadou Faye", "Ndèye Sène", "Chérif Kane", "Rokhaya Thiam"),
        posted=(
            "Votre besoin est publié. En quelques minutes, le classement retient les experts qui "
            "lui correspondent ; un coordinateur les examine et propose l'engagement aux meilleurs."
        ),
        accepted="Vous avez accepté l'offre.",
    ),
    "ar": Script(
        locale="ar",
        browser_locale="ar",
        title="تدريس وحدة علم الأوبئة الميداني في سان لويس",
        description=(
            "تبحث كلية الطب عن خبير في علم الأوبئة للمشاركة في تدريس وحدة علم الأوبئة "
            "الميداني مع تمارين في الإحصاء الحيوي، جزئيًا في الموقع في سان لويس."
        ),
        skills=("علم الأوبئة", "الإحصاء الحيوي"),
        city="سان لويس",
        names=("فاطمة الزهراء", "يوسف بن علي", "مريم حداد", "عمر الفاسي", "ليلى منصور"),
        posted="",  # read from the catalogue below
        accepted="",
    ),
}
LOCALES = list(SCRIPTS)

# Chromium orders a date input's fields by the browser's locale; a person types them in order.
DATE_FIELDS = """() => new Intl.DateTimeFormat(navigator.language,
    {year: "numeric", month: "2-digit", day: "2-digit"})
  .formatToParts(new Date(2030, 0, 2)).map(p => p.type)
  .filter(t => t === "year" || t === "month" || t === "day")"""
# The worker drains the search outbox once per slot of this many seconds.
DRAIN_EVERY_S = 5
OVERFLOW = "document.scrollingElement.scrollWidth"
# Every piece of text a person reads on the page: text nodes and the words of controls.
TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (parent && !parent.closest("script, style, [hidden]")) out.push(node.textContent);
  }
  for (const el of document.querySelectorAll("[placeholder], [aria-label], [title]"))
    for (const name of ["placeholder", "aria-label", "title"])
      if (el.getAttribute(name)) out.push(el.getAttribute(name));
  out.push(document.title);
  return out.map(t => t.replace(/\\s+/g, " ").trim()).filter(Boolean);
}"""
# The innermost elements that reach past the viewport's edges: what makes a page scroll sideways.
OVERFLOWING = """() => Array.from(document.querySelectorAll("body *"))
  .filter(el => !el.matches(".skip-link, .visually-hidden"))
  .filter(el => { const r = el.getBoundingClientRect();
                  return r.width && (r.right > innerWidth + 0.5 || r.left < -0.5); })
  .filter((el, _, all) => !all.some(other => other !== el && el.contains(other)))
  .slice(0, 5)
  .map(el => el.outerHTML.slice(0, 100) + " " + Math.round(el.getBoundingClientRect().width))"""


@dataclass
class World:
    site: LiveSite
    worker: Worker
    slots: int = 0

    def work(self) -> None:
        """Lets the worker run as it would over a few seconds: each tick in a new slot of the
        periodic jobs (the search outbox drains every 5 s), so every change is indexed and
        re-matched."""
        for _ in range(2):
            self.slots += 1
            self.worker.tick(now=utcnow() + timedelta(seconds=DRAIN_EVERY_S * self.slots))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One site and one worker for the module's journeys (the hashing encoder: fast)."""
    if not CHROMIUM.exists():
        pytest.skip(HOW_TO_RUN)
    with serve_site(tmp_path_factory.mktemp("roles")) as site:
        state = build_state(site.settings.model_copy(update={"embedding_model": "hashing"}))
        try:
            yield World(site=site, worker=Worker(state))
        finally:
            state.search.close()
            state.engine.dispose()


@dataclass(frozen=True)
class People:
    member: str
    coordinator: str
    experts: dict[str, str]  # display name -> email


def _arrange(site: LiveSite, script: Script) -> People:
    """A verified institution with a member, a coordinator and five experts who fit the need;
    every account starts in English, so each person switches language as they would."""
    tag = script.locale
    with site.session() as session:
        member = make_user(session, role=Role.INSTITUTION, email=f"member-{tag}@roles.example")
        make_institution(
            session,
            member=member,
            name=f"Faculté de médecine ({tag})",
            country="SN",
            city="Saint-Louis",
            timezone="Africa/Dakar",
        )
        coordinator = make_user(
            session, role=Role.COORDINATOR, email=f"coordinator-{tag}@roles.example"
        )
        experts = {}
        for i, name in enumerate(script.names):
            user = make_user(session, role=Role.EXPERT, email=f"expert{i}-{tag}@roles.example")
            expert = make_expert(
                session,
                user=user,
                display_name=name,
                headline=f"{script.skills[0]} · {script.skills[1]}",
                bio=script.description,
                skills=[*script.skills, "teaching"],
                languages=[
                    {"code": "fr", "level": "native"},
                    {"code": "en", "level": "fluent"},
                    {"code": "ar", "level": "professional"},
                ],
                modes=["remote", "mission", "hybrid"],
                timezone="Africa/Dakar",
                hours_per_month=60,
                available_from=utcnow().date(),
                available_until=utcnow().date() + timedelta(days=365),
            )
            expert_changed(session, expert)  # indexed and matched, as a saved profile is
            experts[name] = user.email
        session.commit()
    return People(member=member.email, coordinator=coordinator.email, experts=experts)


def _visitor(browser: Any, world: World, script: Script, *, width: int = 1280) -> Visitor:
    visitor = Visitor(
        browser, world.site, locale=script.browser_locale, viewport={"width": width, "height": 900}
    )
    # An init script is injected by the browser itself, so the strict CSP of the pages stays on.
    visitor.context.add_init_script(path=str(AXE))
    return visitor


def _switch_language(visitor: Visitor, locale: str) -> None:
    """Chooses the language in the header, as a person does (it applies on change)."""
    page = visitor.page
    if page.locator("html").get_attribute("lang") == locale:
        return
    with page.expect_navigation():
        page.select_option("#language-select", locale)
    page.wait_for_load_state()


class Journey:
    """One language's journey: screenshots named by step, every page checked."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.problems: list[str] = []
        self.steps = 0

    def check(self, visitor: Visitor, step: str) -> None:
        """Checks the page a visitor is on: language, direction, axe; keeps a screenshot."""
        self.steps += 1
        name = f"roles/{self.script.locale}/{self.steps:02d}-{step}"
        page = visitor.page
        html = page.locator("html")
        lang, direction = html.get_attribute("lang"), html.get_attribute("dir")
        expected_dir = "rtl" if self.script.locale == "ar" else "ltr"
        if lang != self.script.locale or (direction or "ltr") != expected_dir:
            self.problems.append(f"{name}: lang={lang} dir={direction}")
        self.problems += page_problems(visitor, name)
        if self.script.locale != "en":
            english = _english(self.script.locale)
            left = sorted(
                {t for t in page.evaluate(TEXTS) if t.rstrip(".:") in english or t in english}
            )
            self.problems += [f"{name}: English left on the page: {t!r}" for t in left]

    def narrow(self, visitor: Visitor, step: str) -> None:
        """Looks at the page at 390 px: no sideways scrolling, and the menu button opens the
        navigation."""
        page = visitor.page
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        width = page.evaluate(OVERFLOW)
        if width > 390:
            wide = page.evaluate(OVERFLOWING)
            self.problems.append(f"{step}-390: the page is {width} px wide: {wide}")
        self.check(visitor, f"{step}-390")
        menu = page.locator("[data-menu-button]")
        if not menu.is_visible() or page.is_visible("#main-nav"):
            self.problems.append(f"{step}-390: no menu button, or the navigation is not folded")
        else:
            menu.click()
            if not page.is_visible("#main-nav") or menu.get_attribute("aria-expanded") != "true":
                self.problems.append(f"{step}-390: the menu button does not open the navigation")
            visitor.screenshot(f"roles/{self.script.locale}/{self.steps:02d}-{step}-390-menu")
            menu.click()
        page.set_viewport_size({"width": 1280, "height": 900})


def _type_date(visitor: Visitor, selector: str, day: date) -> None:
    """Types a date into an <input type=date> field by field, as a person does, in the order
    the browser shows the fields (which follows its own language, not always the page's)."""
    page = visitor.page
    parts = {"year": f"{day.year:04d}", "month": f"{day.month:02d}", "day": f"{day.day:02d}"}
    orders = [page.evaluate(DATE_FIELDS), ["month", "day", "year"], ["day", "month", "year"]]
    for order in orders + [["year", "month", "day"]]:
        page.fill(selector, "")
        page.locator(selector).blur()
        page.focus(selector)  # as with Tab: the first field of the input has the focus
        page.keyboard.type("".join(parts[name] for name in order))
        if page.input_value(selector) == day.isoformat():
            return
    raise AssertionError(f"{selector}: typing {day} gave {page.input_value(selector)!r}")


def _catalogue(locale: str, english: str) -> str:
    return translations_for(locale).gettext(english)


@cache
def _english(locale: str) -> frozenset[str]:
    """The catalogue's English messages that read differently in `locale`: seen as they are on
    a page in that language, they were left untranslated."""
    path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    return frozenset(
        message.id
        for message in catalog
        if isinstance(message.id, str)
        and message.string
        and message.string != message.id
        and "%(" not in message.id
        and sum(c.isalpha() for c in message.id) >= 4
    )


def _post_need(member: Visitor, journey: Journey, start: date, until: date) -> int:
    script = journey.script
    page = member.page
    page.click("main a[href='/institution/needs/new']")
    page.wait_for_url("**/institution/needs/new")
    journey.check(member, "need-form")
    page.fill("#title", script.title)
    page.fill("#description", script.description)
    page.fill("#required_skills", ", ".join(script.skills))
    page.select_option("#sector", "health")
    page.select_option("#mode", "hybrid")
    page.fill("#duration_weeks", "6")
    page.fill("#hours_per_week", "4")
    page.fill("#experts_wanted", "3")
    _type_date(member, "#start_from", start)
    _type_date(member, "#start_until", until)
    page.fill("#city", script.city)
    page.check("#live_sessions")
    page.check(f"#language-{script.locale}")
    page.select_option("#language-other", "wo")
    for box in page.locator("input[name=support]").all():
        box.check()
    # The preview (htmx, on change) counts the five experts, the start dates included.
    page.wait_for_timeout(600)  # the last change's own preview is sent after 500 ms
    with page.expect_response("**/institution/needs/preview"):
        page.click("[data-preview-button]")
    preview = page.locator(
        "#need-preview [data-preview-count], #need-preview [data-preview-problem]"
    )
    assert int(preview.get_attribute("data-preview-count") or 0) >= 5, preview.inner_text()
    journey.check(member, "need-form-filled")
    page.click("main form button[type=submit]:not([data-preview-button])")
    page.wait_for_url(re.compile(r"/institution/needs/\d+$"))
    posted = script.posted or _catalogue(script.locale, NEED_SAVED[NeedSaved.PUBLISHED])
    assert member.flash() == [posted]
    assert page.locator("h1").inner_text() == script.title
    journey.check(member, "need-posted")
    return int(page.url.rsplit("/", 1)[1])


def _review(coordinator: Visitor, journey: Journey, need_id: int, names: list[str]) -> list[int]:
    """Finds the need in the queue, refuses a rejection without a reason, approves three at
    once; gives the approved proposals' ids."""
    script = journey.script
    page = coordinator.page
    page.goto("/coordinator/needs")
    page.fill("#queue-q", script.title[:20])
    with page.expect_navigation():
        page.click("form[data-queue-filters] button[type=submit]")
    journey.check(coordinator, "queue")
    page.click(f"tr[data-need='{need_id}'] a")
    page.wait_for_url(f"**/coordinator/needs/{need_id}")
    journey.check(coordinator, "review")
    cards = {
        page.locator(f"#{card_id} h3").inner_text(): int(card_id.split("-")[1])
        for card_id in page.locator("ol.candidates > li").evaluate_all(
            "cards => cards.map(c => c.id)"
        )
    }
    assert set(names) <= set(cards), (names, cards)
    # A rejection without a reason: the error shows beside the control, nothing changes.
    refused = cards[names[3]]
    card = page.locator(f"#candidate-{refused}")
    card.scroll_into_view_if_needed()
    status_before = card.locator("[data-proposal-status]").inner_text()
    card.locator("form[data-reject] button").click()
    error = page.locator(f"#reason-{refused}-error")
    error.wait_for()
    assert page.locator(f"#reason-{refused}").get_attribute("aria-invalid") == "true"
    assert page.locator(f"#reason-{refused}").get_attribute(
        "aria-describedby"
    ) == error.get_attribute("id")
    reject_box = card.locator("form[data-reject]").bounding_box()
    error_box = error.bounding_box()
    assert reject_box and error_box
    assert reject_box["y"] <= error_box["y"] <= reject_box["y"] + reject_box["height"]
    assert card.locator("[data-proposal-status]").inner_text() == status_before
    journey.check(coordinator, "reject-without-reason")
    # Three approved at once from the bulk bar.
    chosen = [cards[name] for name in names[:3]]
    for proposal_id in chosen:
        page.check(f"#pick-{proposal_id}")
    count = page.locator("[data-selected-count]").inner_text()
    assert "3" in count, count
    journey.check(coordinator, "bulk-ticked")
    with page.expect_navigation():
        page.click("form[data-bulk] button[value=approve]")
    assert coordinator.flash() == [_catalogue(script.locale, "Proposals approved.")]
    approved = translations_for(script.locale).pgettext("proposal_status", "Approved")
    for proposal_id in chosen:
        status = page.locator(f"#candidate-{proposal_id} [data-proposal-status]").inner_text()
        assert status == approved, (proposal_id, status)
    journey.check(coordinator, "bulk-approved")
    # The candidate's profile, from the name on the card.
    page.click(f"#candidate-{chosen[0]} h3 a")
    page.wait_for_url("**/coordinator/experts/*")
    journey.check(coordinator, "expert-profile-coordinator")
    page.go_back()
    page.wait_for_url(f"**/coordinator/needs/{need_id}")
    journey.narrow(coordinator, "review")
    return chosen


@pytest.fixture
def people(world: World, locale: str) -> Iterator[People]:
    """The people of one language's journey; its experts retire afterwards, so that the next
    journey's need is matched with its own experts only."""
    people = _arrange(world.site, SCRIPTS[locale])
    world.work()  # the experts are indexed, as they would be long before the need
    yield people
    with world.site.session() as session:
        emails = list(people.experts.values())
        users = session.exec(select(User).where(col(User.email).in_(emails))).all()
        for expert in session.exec(
            select(ExpertProfile).where(col(ExpertProfile.user_id).in_([u.id for u in users]))
        ):
            expert.active = False
            expert_changed(session, expert)
        session.commit()
    world.work()


@pytest.mark.parametrize("locale", LOCALES)
def test_roles_decide_in_their_language(
    locale: str, world: World, people: People, browser: Any
) -> None:
    script = SCRIPTS[locale]
    site = world.site
    journey = Journey(script)
    start = utcnow().date() + timedelta(days=30)
    until = start + timedelta(days=21)

    # 1. The institution posts the need, every field filled.
    member = _visitor(browser, world, script)
    member.log_in(people.member)
    member.page.wait_for_url("**/institution")
    _switch_language(member, locale)
    journey.check(member, "institution-home")
    need_id = _post_need(member, journey, start, until)
    with site.session() as session:
        need = session.get(Need, need_id)
    assert need is not None
    assert (need.start_from, need.start_until) == (start, until)
    assert need.city == script.city and need.live_sessions and need.experts_wanted == 3
    assert need.languages == [locale, "wo"] and need.mode == "hybrid"
    assert need.required_skills == list(script.skills) and len(need.support) >= 2

    # 2. The worker matches it.
    world.work()
    with site.session() as session:
        proposed = session.exec(
            select(MatchProposal).where(
                MatchProposal.need_id == need_id, MatchProposal.status == "proposed"
            )
        ).all()
    assert len(proposed) >= 5, "the worker proposed too few of the five experts"

    # 3. The coordinator reviews, in their language.
    coordinator = _visitor(browser, world, script)
    coordinator.log_in(people.coordinator)
    _switch_language(coordinator, locale)
    names = list(script.names)
    approved = _review(coordinator, journey, need_id, names)
    with site.session() as session:
        statuses = {
            p.id: p.status
            for p in session.exec(
                select(MatchProposal).where(col(MatchProposal.need_id) == need_id)
            )
        }
    assert [statuses[i] for i in approved] == ["approved"] * 3
    assert list(statuses.values()).count("rejected") == 0

    # 4. The first approved expert reads the offer (the whole need) and accepts it.
    expert = _visitor(browser, world, script)
    expert.log_in(people.experts[names[0]])
    _switch_language(expert, locale)
    journey.check(expert, "expert-home")
    page = expert.page
    page.goto("/expert/proposals")
    with site.session() as session:
        engagement = session.exec(
            select(Engagement).where(Engagement.proposal_id == approved[0])
        ).one()
    offer = page.locator(f"li[data-engagement='{engagement.id}']")
    text = offer.inner_text()
    for shown in (script.title, script.description, script.city, *script.skills):
        assert shown in text, shown
    summary = offer.locator("[data-need-summary]").inner_text()
    assert str(start.year) in summary or _digits(start.year, locale) in summary, summary
    journey.check(expert, "offer")
    journey.narrow(expert, "offer")
    page.goto(f"/expert/engagements/{engagement.id}")
    journey.check(expert, "offer-detail")
    journey.narrow(expert, "offer-detail")
    page.goto("/expert/proposals")
    with page.expect_navigation():
        page.locator(f"li[data-engagement='{engagement.id}'] form.move-accept button").click()
    accepted = script.accepted or _catalogue(locale, "You accepted the offer.")
    assert expert.flash() == [accepted]
    journey.check(expert, "offer-accepted")
    page.goto("/expert/profile")
    journey.check(expert, "expert-profile")
    journey.narrow(expert, "expert-profile")

    # 5. The institution confirms.
    page = member.page
    page.goto("/institution/proposals")
    card = page.locator(f"li[data-engagement='{engagement.id}']")
    assert names[0] in card.inner_text()
    journey.check(member, "institution-proposals")
    with page.expect_navigation():
        card.locator("form.move-confirm button").click()
    assert len(member.flash()) == 1
    journey.check(member, "institution-confirmed")
    page.goto(f"/institution/engagements/{engagement.id}")
    assert page.locator("[data-contact]").count() == 1
    journey.check(member, "engagement-confirmed")
    with site.session() as session:
        confirmed = session.get(Engagement, engagement.id)
    assert confirmed is not None and confirmed.status == "confirmed"

    errors = [
        e
        for v in (member, coordinator, expert)
        for e in v.errors
        if "422" not in e  # the refused rejection
    ]
    for visitor in (member, coordinator, expert):
        visitor.close()
    assert not journey.problems, "\n".join(journey.problems)
    assert errors == []


def _digits(number: int, locale: str) -> str:
    if locale != "ar":
        return str(number)
    return str(number).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
