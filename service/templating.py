"""The one Jinja environment: filters, globals, translations and flash messages."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import BuiltinFunctionType, FunctionType
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
import jinja2.runtime
import markupsafe
from babel.dates import format_datetime
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from jinja2.utils import _PassArg
from markupsafe import Markup, escape
from sqlmodel import Session

from service.core import policy
from service.core.accounts import user_for_session
from service.core.imports import ITEM, RowError
from service.core.privacy import ERASED
from service.i18n import (
    LOCALE_NAMES,
    RTL_LOCALES,
    UI_LOCALES,
    cldr_locale,
    country_name,
    country_names,
    current_locale,
    engagement_status_label,
    gettext_,
    label,
    lang_tag,
    language_name,
    language_names,
    ngettext_,
    plural_categories,
    plural_count,
    timezone_city,
    timezone_groups,
    timezone_name,
    translate_message,
    translations_for,
)
from service.models import User
from service.models.types import utcnow
from service.pages import audit_words, browsers, reasons
from service.pages.typed import isolated, shown
from service.security import CSRF_FIELD, SESSION_COOKIE, hash_session_token

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "web" / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
FLASH_COOKIE = "homeward_flash"
# The token of the page being rendered: imported form macros (no context) read it from here.
_page_csrf_token: ContextVar[str] = ContextVar("page_csrf_token", default="")

# What `d.name` finds on a dict that is a dict method (`d.items`, `d.get`): Jinja prefers it.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Context(jinja2.runtime.Context):
    """Jinja's context, with a shorter way to call a plain function from a template.

    Every call in a template (`_()`, `label()`, `country_name()`: some 350 a review page) goes
    through `Context.call`, which first asks whether the callable's `__call__` takes the
    context: on a function that is a method-wrapper, whose missing attribute raises and is
    caught each time. A plain function's or builtin's `__call__` never carries Jinja's marker, so
    for them the answer is known; what follows is `Context.call`'s own code.
    """

    def call(__self, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - as Jinja's
        kind = type(__obj)
        if kind is not FunctionType and kind is not BuiltinFunctionType:
            return super().call(__obj, *args, **kwargs)
        pass_arg = getattr(__obj, "jinja_pass_arg", None)
        if pass_arg is not None:
            if pass_arg is _PassArg.context:
                context: jinja2.runtime.Context = __self
                if kwargs.get("_loop_vars"):
                    context = context.derived(kwargs["_loop_vars"])
                if kwargs.get("_block_vars"):
                    context = context.derived(kwargs["_block_vars"])
                args = (context, *args)
            elif pass_arg is _PassArg.eval_context:
                args = (__self.eval_ctx, *args)
            elif pass_arg is _PassArg.environment:
                args = (__self.environment, *args)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


_new_str = str.__new__
# The text escaping markupsafe's `escape` calls (its C speedups where built); with another
# markupsafe that lacks it, `_escape` calls `escape` whole.
_escape_inner: Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)


def _escape(value: Any, /) -> Markup:
    """`{{ value }}` under autoescape: markupsafe's `escape`, the same string, made cheaper for
    what pages print most (some 900 values a review page). `Markup(text)` runs a Python
    `__new__` that asks for `__html__` again; here a str's escaped text becomes Markup directly,
    Markup is already safe (escape would copy it), and an int's digits need no escaping."""
    kind = type(value)
    if kind is str and _escape_inner is not None:
        if ERASED in value:
            value = shown(value)
        return _new_str(Markup, _escape_inner(value))
    if kind is Markup:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return _new_str(Markup, int.__repr__(value))
    return escape(value)


class _Template(jinja2.Template):
    """Jinja's template; its compiled code prints through `_escape` instead of markupsafe's."""

    @classmethod
    def _from_namespace(
        cls, environment: jinja2.Environment, namespace: Any, globals: Any
    ) -> jinja2.Template:
        # The compiled module imported jinja2.runtime's escape; its functions read it from here.
        namespace["escape"] = _escape
        return super()._from_namespace(environment, namespace, globals)


class _Environment(jinja2.Environment):
    """Jinja's environment, with `d.name` on a plain dict looked up as a key first.

    Jinja tries `getattr(d, "name")` and only then `d["name"]`: on a dict, every such lookup
    raised and caught an AttributeError (the review page makes some 500 of them a render). A
    plain dict has no attribute but its methods, so outside their names the key is what Jinja
    would have found anyway: the same value, or the same undefined.
    """

    context_class = _Context
    template_class = _Template

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        # jinja2.Environment.getattr's own code, written here: one call less per `x.name`.
        try:
            return getattr(obj, attribute)
        except AttributeError:
            pass
        try:
            return obj[attribute]
        except (TypeError, LookupError, AttributeError):
            return self.undefined(obj=obj, name=attribute)


templates = Jinja2Templates(
    env=_Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(),
    )
)
assert templates.env.autoescape, "templates must autoescape"
_env = templates.env
_env.add_extension("jinja2.ext.i18n")
_env.install_gettext_callables(gettext_, ngettext_, newstyle=True)  # type: ignore[attr-defined]


# (locale, message) -> the translated markup of a message that takes no variable. The
# catalogues are loaded once per process and never change under it.
_translated: dict[tuple[str, str], Markup] = {}
_TRANSLATED_MAX = 20_000


@pass_eval_context
def _gettext(eval_ctx: EvalContext, message: str, /, **variables: Any) -> str:
    """`_()` and `gettext()` in templates: what jinja2.ext's new-style gettext does (the
    translation marked safe under autoescape, then always %-formatted with the escaped
    variables), called directly instead of through its alias and two `Context.call`s: the
    review page translates about 200 strings a render."""
    if not variables and eval_ctx.autoescape:
        # Most strings take no variable: their markup, per language, is made once.
        key = (current_locale.get(), message)
        done = _translated.get(key)
        if done is None:
            done = Markup(translations_for(key[0]).gettext(message)) % variables  # noqa: S704
            if len(_translated) < _TRANSLATED_MAX:
                _translated[key] = done
        return done
    rv: str = translations_for(current_locale.get()).gettext(message)
    if eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - the catalogue is ours (as jinja2.ext trusts it)
    return rv % variables


@pass_eval_context
def _ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: float, /, **variables: Any
) -> str:
    """`ngettext()` in templates, as jinja2.ext's new-style ngettext (`num` is a variable,
    written as the locale writes numbers: 1 200 / 1,5); `num` may be a fraction (1.5 h)."""
    locale = current_locale.get()
    variables.setdefault("num", _format_number(num))
    rv: str = translations_for(locale).ngettext(singular, plural, plural_count(num, locale))
    if eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - the catalogue is ours (as jinja2.ext trusts it)
    return rv % variables


@pass_eval_context
def _pgettext(eval_ctx: EvalContext, context: str, message: str, /, **variables: Any) -> str:
    """`pgettext()` in templates: a message in its context ("To" of an email, of a period)."""
    rv: str = translations_for(current_locale.get()).pgettext(context, message)
    if eval_ctx.autoescape:
        rv = Markup(rv)  # noqa: S704 - the catalogue is ours (as jinja2.ext trusts it)
    return rv % variables


def _plural_templates(singular: str, plural: str) -> list[tuple[str, str]]:
    """Each CLDR plural category of the reader's language with its words, `{count}` left for a
    script to fill once `Intl.PluralRules` has picked the category (1 sélectionnée, 3 محددة)."""
    locale = current_locale.get()
    translations = translations_for(locale)
    return [
        (category, translations.ngettext(singular, plural, n) % {"num": "{count}"})
        for category, n in plural_categories(locale)
    ]


_env.globals.update(_=_gettext, gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext)
_env.globals["plural_templates"] = _plural_templates
# The BCP 47 tag of the conventions the reader's language follows (pt-PT), for Intl in scripts.
_env.globals["plural_locale"] = lang_tag
_env.globals["lang_tag"] = lang_tag


def _format_date(value: date | datetime | str | None) -> str:
    """Formats a date for the current locale with Babel (Dec 1, 2026 / 1 déc. 2026)."""
    if isinstance(value, datetime):
        value = value.date()
    return reasons.day(value)


def _format_moment(value: datetime | None) -> str:
    """Formats a date and time for the current locale with Babel, naming the zone it is told in
    (1 Dec 2026, 14:05 UTC / 1 déc. 2026, 14:05 TU): times are stored and shown in UTC."""
    if value is None:
        return ""
    return format_datetime(value, format="d MMM y, HH:mm z", tzinfo=UTC, locale=cldr_locale())


def _format_number(value: int | float | None) -> str:
    """Formats a number for the current locale with Babel (12,345.6 / 12 345,6)."""
    if value is None:
        return ""
    return reasons.formatted_decimal(value, "#,##0.##", cldr_locale())


def _format_percent(value: float | None) -> str:
    """Formats a share (0.85) as a percentage for the current locale (85% / 85 %)."""
    if value is None:
        return ""
    return reasons.formatted_percent(value, cldr_locale())


@dataclass(frozen=True)
class Pagination:
    """Where a list is: its page, how many pages, and links that keep the other filters."""

    page: int
    size: int
    total: int
    params: tuple[tuple[str, str], ...] = ()
    # The list's own address: a list drawn again after a refused form is at the form's (POST)
    # address, which a link must not lead to.
    path: str = ""

    @property
    def pages(self) -> int:
        """Counts the pages (at least one)."""
        return max(1, math.ceil(self.total / self.size)) if self.size else 1

    @property
    def offset(self) -> int:
        """Gets the index of the page's first row."""
        return (self.page - 1) * self.size

    def url(self, page: int) -> str:
        """Gets the address of another page of the same list."""
        return self.path + "?" + urlencode([*self.params, ("page", str(page))])


def paginate(
    request: Request, *, total: int, page: int, size: int, path: str | None = None
) -> Pagination:
    """Describes a page of a list, keeping the request's other query parameters in its links;
    `path`: the list's address, when the request's is not (a form's)."""
    params = tuple((k, v) for k, v in request.query_params.multi_items() if k != "page")
    return Pagination(
        page=page, size=size, total=total, params=params, path=path or request.url.path
    )


def _row_error(error: RowError) -> str:
    """Says an import row's problem in the reader's language."""
    params = error.params
    if params and current_locale.get() in RTL_LOCALES:
        # Each value (a cell as typed, a line number) isolated, so Latin keeps its order in Arabic.
        params = {k: f"\u2068{v}\u2069" for k, v in params.items()}
    said = translate_message(
        error.message, params, plural=error.plural, count=error.params.get("num", 0)
    )
    return gettext_(ITEM) % {"n": error.item, "problem": said} if error.item is not None else said


_env.filters["date"] = _format_date
_env.filters["row_error"] = _row_error
_env.filters["moment"] = _format_moment
_env.filters["number"] = _format_number
_env.filters["percent"] = _format_percent
_env.filters["message"] = translate_message
_env.filters["listing"] = reasons.listing
_env.filters["isolate"] = isolated
_env.globals["reasons"] = reasons.reasons
_env.globals["browser_words"] = browsers.browser_words
_env.globals["list_separator"] = reasons.list_separator
_env.globals["language_levels"] = reasons.language_levels
_env.globals["missing_skills"] = reasons.missing_skills
_env.globals["match_band"] = reasons.match_band
_env.globals["concern_sentences"] = reasons.concern_sentences
_env.globals["rank_summary"] = reasons.rank_summary
_env.globals["match_label"] = reasons.match_label
_env.globals["action_words"] = audit_words.action_words
_env.globals["event_words"] = audit_words.event_words
_env.globals["entity_words"] = audit_words.entity_words
_env.globals["state_words"] = audit_words.state_words
_env.globals["AUDIT_FILTERS"] = audit_words.FILTERABLE
_env.globals["MATCH_BASIS"] = reasons.MATCH_BASIS
_env.globals["UI_LOCALES"] = UI_LOCALES
_env.globals["LOCALE_NAMES"] = LOCALE_NAMES
_env.globals["CSRF_FIELD"] = CSRF_FIELD
_env.globals["label"] = label
_env.globals["engagement_status_label"] = engagement_status_label
_env.globals["country_name"] = country_name
_env.globals["language_name"] = language_name
_env.globals["countries"] = lambda: country_names(current_locale.get())
_env.globals["languages"] = lambda: language_names(current_locale.get())
_env.globals["timezone_groups"] = timezone_groups
_env.globals["timezone_city"] = timezone_city
_env.globals["timezone_name"] = timezone_name
_env.globals["page_csrf_token"] = _page_csrf_token.get


def _flash_serializer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.homeward.settings.secret_key, salt="homeward.flash")


def flash(response: Response, request: Request, message: str, category: str = "info") -> None:
    """Adds a message shown once on the next page."""
    # A second message of the same response adds to the first rather than replacing it.
    pending = getattr(request.state, "flash_pending", None)
    messages = (pending if pending is not None else _read_flash(request)) + [
        {"message": message, "category": category}
    ]
    request.state.flash_pending = messages
    response.set_cookie(
        FLASH_COOKIE,
        _flash_serializer(request).dumps(messages),
        httponly=True,
        samesite="lax",
        secure=request.app.state.homeward.settings.cookie_secure,
    )
    request.state.flash_consumed = False


def _read_flash(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        data = _flash_serializer(request).loads(raw)
    except BadSignature:
        return []
    return [m for m in data if isinstance(m, dict)] if isinstance(data, list) else []


def _user_of(request: Request) -> User | None:
    """Gets the logged-in user; error pages raised before any dependency ran look it up here."""
    if hasattr(request.state, "user"):
        user: User | None = request.state.user
        return user
    state = getattr(request.app.state, "homeward", None)
    cookie = request.cookies.get(SESSION_COOKIE)
    token = state.signer.loads(cookie) if state is not None and cookie else None
    if state is None or token is None:
        return None
    with Session(state.engine, expire_on_commit=False) as session:
        return user_for_session(session, session_id=hash_session_token(token), now=utcnow())


def _reader_of(request: Request) -> policy.Reader:
    """Gets the reader the access policy sees (cached by the pages' dependency)."""
    if hasattr(request.state, "reader"):
        reader: policy.Reader = request.state.reader
        return reader
    user = _user_of(request)
    state = getattr(request.app.state, "homeward", None)
    if user is None or state is None:
        return policy.ANONYMOUS
    with Session(state.engine, expire_on_commit=False) as session:
        return policy.reader_for(session, user)


def sent_from(request: Request) -> str:
    """Gets the page of this site a form was sent from (its Referer), or nothing."""
    referer = urlsplit(request.headers.get("referer", ""))
    path = referer.path
    if referer.netloc != request.url.netloc or not path.startswith("/") or path.startswith("//"):
        return ""
    return path + (f"?{referer.query}" if referer.query else "")


def form_page(request: Request) -> str:
    """Gets the page a form was sent from when the answer to it is shown at the address it was
    posted to (a form refused, shown again with its errors): that address answers no GET, so
    the page's script shows the form's page in the address bar instead. Nothing otherwise."""
    if request.method in ("GET", "HEAD"):
        return ""
    page = sent_from(request)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return page if page != here else ""


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Renders a page with the context every page needs; shown flash messages are cleared."""
    locale = current_locale.get()
    reader = _reader_of(request)
    full_context: dict[str, Any] = {
        "request": request,
        "user": _user_of(request),
        # What the access policy lets this reader do, for links and buttons: may("coordinate").
        "may": lambda action: policy.may(reader, policy.Action(action)),
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "locale": locale,
        "text_direction": "rtl" if locale in RTL_LOCALES else "ltr",
        "messages": _read_flash(request),
        "unread_count": getattr(request.state, "unread_count", 0),
        "form_page": form_page(request),
    }
    full_context.update(context or {})
    reset = _page_csrf_token.set(full_context["csrf_token"])
    try:
        response = templates.TemplateResponse(
            request, template, full_context, status_code=status_code
        )
    finally:
        _page_csrf_token.reset(reset)
    if full_context["messages"]:
        response.delete_cookie(FLASH_COOKIE)
    return response


def wants_fragment(request: Request) -> bool:
    """Tells whether htmx asked for a piece of a page (the HX-Request header), not a person for
    a page: an address opened directly, or restored from history by htmx, gets the whole page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page_or_fragment(
    request: Request,
    *,
    page: str,
    fragment: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Renders the fragment for htmx, or the page that holds it (layout, navigation) for a
    direct visit; the answer varies on HX-Request, so no cache serves one for the other."""
    template = fragment if wants_fragment(request) else page
    response = render(request, template, context, status_code=status_code)
    response.headers.append("Vary", "HX-Request")
    return response


def to_json(value: Any) -> str:
    """Serialises for embedding in a page's data attribute."""
    return json.dumps(value, default=str)


def svg(markup: str) -> Markup:
    """Marks SVG built (and escaped) by the chart module as safe to insert."""
    return Markup(markup)  # noqa: S704 - callers escape every text they put in the markup
