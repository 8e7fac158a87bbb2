"""Browser tests: the real app under uvicorn on a loopback port, driven by Debian's Chromium.

Run them with `pytest -m browser tests/browser`. They need `/usr/bin/chromium`
(`apt-get install -y chromium fonts-noto-core`); Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import Session, select

from service.config import Settings
from service.core.accounts import create_user
from service.db import make_engine, migrate
from service.main import create_app
from service.models import Engagement, MatchProposal, Role, User
from service.models.types import utcnow
from tests.factories import PASSWORD, make_expert, make_member, make_need

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
HOW_TO_RUN = (
    "browser tests need Debian's Chromium at /usr/bin/chromium: "
    "`apt-get install -y chromium fonts-noto-core`, then `pytest -m browser tests/browser`"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test here `browser`, and skips them all where Chromium is absent."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason=HOW_TO_RUN))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveSite:
    base_url: str
    settings: Settings
    coordinator_email: str = "coordinator@homeward.test"
    password: str = PASSWORD
    ids: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def new_user(self, email: str, role: Role, *, locale: str = "en") -> str:
        """Creates an account (with the factories' password) and gives its email."""
        with self.session() as session:
            create_user(
                session,
                email=email,
                password=PASSWORD,
                role=role,
                display_name=email,
                locale=locale,
            )
            session.commit()
        return email

    def set_locale(self, email: str, locale: str) -> None:
        """Sets the language an account reads the site in (as its account page does)."""
        with self.session() as session:
            user = session.exec(select(User).where(User.email == email)).one()
            user.locale = locale
            session.add(user)
            session.commit()

    def session(self) -> Session:
        """Opens a session on the site's database (to arrange data or check it)."""
        return Session(make_engine(self.settings.database_url), expire_on_commit=False)


def _arrange(site: LiveSite) -> None:
    """Gives the site a coordinator, an expert, an institution with a need and engagements."""
    with site.session() as session:
        create_user(
            session,
            email=site.coordinator_email,
            password=PASSWORD,
            role=Role.COORDINATOR,
            display_name="Fatou Coordinator",
        )
        session.commit()
        member, institution = make_member(session, verified=True, name="Hôpital de Fann")
        expert = make_expert(session)
        need = make_need(session, institution=institution)
        for status in ("completed", "active"):
            other = make_need(session, institution=institution, title=f"Mission {status}")
            proposal = MatchProposal(
                need_id=other.id or 0, expert_id=expert.id or 0, status="approved"
            )
            session.add(proposal)
            session.commit()
            session.add(
                Engagement(
                    proposal_id=proposal.id or 0,
                    need_id=other.id or 0,
                    expert_id=expert.id,
                    status=status,
                    mode="remote",
                    offered_at=utcnow() - timedelta(days=40),
                )
            )
            session.commit()
        site.ids.update(expert=expert.id or 0, institution=institution.id or 0, need=need.id or 0)
        expert_user = session.get(User, expert.user_id)
        site.emails.update(expert=expert_user.email if expert_user else "", member=member.email)


@contextmanager
def serve_site(data_dir: Path) -> Iterator[LiveSite]:
    """Serves the real app with uvicorn in a thread, on a fresh migrated SQLite database."""
    port = _free_port()
    settings = Settings(
        environment="test",
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'homeward.sqlite3'}",
        secret_key="browser-test-secret-key-0123456789-abcdefghij",
        public_base_url=f"http://127.0.0.1:{port}",
        load_encoder=False,
    )
    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    site = LiveSite(base_url=f"http://127.0.0.1:{port}", settings=settings)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the site did not start")
        time.sleep(0.05)
    try:
        yield site
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def arranged_site(data_dir: Path) -> Iterator[LiveSite]:
    """Serves a fresh site with a coordinator, an expert and an institution (see `_arrange`)."""
    if not CHROMIUM.exists():
        pytest.skip(HOW_TO_RUN)
    with serve_site(data_dir) as site:
        _arrange(site)
        yield site


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """The site most browser tests share, with a coordinator, an expert and an institution.

    What a test adds stays for the tests after it: a test whose outcome depends on everything
    the database holds (the matcher ranks the whole roster) overrides `live_site` in its module
    with a site of its own (`arranged_site`)."""
    with arranged_site(tmp_path_factory.mktemp("site")) as site:
        yield site


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        pytest.skip(HOW_TO_RUN)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visitor:
    """One person's browser: a fresh context, with every console error and CSP report kept."""

    def __init__(
        self, browser: Any, site: LiveSite, *, locale: str = "en-GB", **options: Any
    ) -> None:
        self.site = site
        self.context = browser.new_context(base_url=site.base_url, locale=locale, **options)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.errors: list[str] = []
        self.expert_id: int | None = None  # the profile `signed_in` made, for an expert
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def screenshot(self, name: str, *, full_page: bool = True, of: str = "") -> Path:
        """Saves a screenshot of the page, or of the element `of` selects, under
        test-output/screenshots/ (`name` may hold folders)."""
        path = SCREENSHOTS / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if of:
            self.page.locator(of).screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def log_in(self, email: str, password: str = PASSWORD) -> None:
        """Logs in through the form."""
        self.page.goto("/login")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state()

    def flash(self) -> list[str]:
        """Gets the messages shown after the last redirect."""
        return [
            " ".join(t.split()) for t in self.page.locator(".messages .message").all_inner_texts()
        ]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visitor_factory(browser: Any, live_site: LiveSite) -> Iterator[Any]:
    """Makes browsers for the people of a journey; they are closed afterwards."""
    made: list[Visitor] = []

    def make(**options: Any) -> Visitor:
        visitor = Visitor(browser, live_site, **options)
        made.append(visitor)
        return visitor

    yield make
    for visitor in made:
        visitor.close()


@pytest.fixture
def signed_in(visitor_factory: Any, live_site: LiveSite) -> Any:
    """Makes a new account and its browser, logged in: the account reads the site in `locale`,
    and so does its browser (`options`: a viewport, say). An expert's account comes with a
    profile, as registering gives one (its id in `visitor.expert_id`)."""

    def sign_in(
        email: str, role: Role = Role.COORDINATOR, *, locale: str = "en", **options: Any
    ) -> Visitor:
        live_site.new_user(email, role, locale=locale)
        expert_id = None
        if role == Role.EXPERT:
            with live_site.session() as session:
                user = session.exec(select(User).where(User.email == email)).one()
                expert_id = make_expert(session, user=user, display_name=email.split("@")[0]).id
        visitor: Visitor = visitor_factory(locale=locale, **options)
        visitor.expert_id = expert_id
        visitor.log_in(email)
        return visitor

    return sign_in
