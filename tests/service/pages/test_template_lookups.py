"""The templates' environment finds `d.name` on a dict as Jinja's own does (it only looks the key
up first)."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import (
    Environment,
    StrictUndefined,
    UndefinedError,
    pass_context,
    pass_environment,
    pass_eval_context,
    select_autoescape,
)
from markupsafe import Markup, escape

from service.templating import _env, _escape

# Keys that are also dict methods, beside ordinary ones: there Jinja prefers the method.
NAMES = st.sampled_from(["id", "name", "items", "get", "keys", "values", "copy", "missing"])
VALUES = st.one_of(st.none(), st.integers(), st.text(max_size=8), st.lists(st.integers()))


def _reference() -> Environment:
    env = Environment(autoescape=select_autoescape())  # noqa: S701 - autoescape as ours
    env.globals.update(_env.globals)
    return env


def _render(env: Environment, source: str, **context: Any) -> str:
    return env.from_string(source).render(**context)


@given(data=st.dictionaries(NAMES, VALUES, max_size=6), name=NAMES)
def test_dict_lookup_same_as_jinja(data: dict[str, Any], name: str) -> None:
    source = f"{{{{ d.{name} is defined }}}}|{{{{ d.{name} }}}}"
    assert _render(_env, source, d=data) == _render(_reference(), source, d=data)


@given(data=st.dictionaries(NAMES, st.integers(), max_size=6))
def test_dict_methods_still_callable(data: dict[str, Any]) -> None:
    source = "{% for k, v in d.items()|sort %}{{ k }}={{ v }};{% endfor %}{{ d.get('id', '-') }}"
    assert _render(_env, source, d=data) == _render(_reference(), source, d=data)


class Row:
    name = "attribute"

    def __getitem__(self, key: str) -> str:
        return "item"


@pytest.mark.parametrize("value", [Row(), {"name": "key"}, ["x"], None])
def test_other_objects_unchanged(value: object) -> None:
    source = "{{ v.name }}"
    assert _render(_env, source, v=value) == _render(_reference(), source, v=value)


def test_missing_key_is_undefined() -> None:
    strict = _env.overlay(undefined=StrictUndefined)
    with pytest.raises(UndefinedError):
        _render(strict, "{{ d.nowhere }}", d={"id": 1})


# Calls: every kind of callable a template meets, called at the top, in a loop, in a block and
# inside a macro, must get the same arguments as under Jinja's own `Context.call`.
@pass_context
def _with_context(context: Any, value: object) -> str:
    return f"ctx:{context.get('who')}:{value}"


@pass_eval_context
def _with_eval_context(eval_ctx: Any, value: object) -> str:
    return f"eval:{eval_ctx.autoescape}:{value}"


@pass_environment
def _with_environment(environment: Any, value: object) -> str:
    return f"env:{environment.autoescape is not None}:{value}"


class _Callable:
    def __call__(self, value: object) -> str:
        return f"obj:{value}"


def _stops(value: object) -> str:
    raise StopIteration


CALLABLES = {
    "plain": lambda value, sep="-": f"plain{sep}{value}",
    "builtin": len,
    "ctx": _with_context,
    "eval": _with_eval_context,
    "with_env": _with_environment,
    "obj": _Callable(),
    "stops": _stops,
}


@pytest.mark.parametrize("name", sorted(CALLABLES))
@given(value=st.text(alphabet="ab<&>", max_size=4))
def test_calls_same_as_jinja(name: str, value: str) -> None:
    call = f"{name}(v)" if name != "plain" else f"{name}(v, sep='+')"
    source = (
        "{% macro m(x) %}[{{ " + call.replace("(v", "(x") + " }}]{% endmacro %}"
        "{{ " + call + " }}|{% for i in [1] %}{% set who = 'loop' %}{{ " + call + " }}{% endfor %}"
        "|{% block b %}{{ " + call + " }}{% endblock %}|{{ m(v) }}|{{ " + call + " is defined }}"
    )
    context = {**CALLABLES, "v": value, "who": "top"}
    assert _render(_env, source, **context) == _render(_reference(), source, **context)


class _Html:
    def __html__(self) -> str:
        return "<b>safe</b>"


class _Status(StrEnum):
    OPEN = "open <now>"


class _Rank(IntEnum):
    FIRST = 1


PRINTED = st.one_of(
    st.text(),
    st.text().map(Markup),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.none(),
    st.just(_Html()),
    st.sampled_from([_Status.OPEN, _Rank.FIRST]),
)


@given(value=PRINTED)
def test_printed_values_escaped_as_markupsafe(value: object) -> None:
    printed = _escape(value)
    assert type(printed) is Markup
    assert printed == escape(value)
    # And through a template, as Jinja's own environment prints it.
    source = "{{ v }}|{{ [v]|first }}|{% set s %}{{ v }}{% endset %}{{ s }}"
    assert _render(_env, source, v=value) == _render(_reference(), source, v=value)
