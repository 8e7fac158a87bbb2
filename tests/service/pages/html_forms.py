"""A page's form as a browser holds it: read what it shows, type into it, send what it sends.

Tests fill the real form of the page (its fields, options and checkboxes), so a field the
page forgets to show, an option it does not offer, or a value it shows wrongly fails them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

from fastapi.testclient import TestClient
from httpx import Response

TEXT_TYPES = {"text", "email", "password", "number", "date", "url", "tel", "search", "hidden"}


@dataclass
class Control:
    """One field: its name, kind, current value, and for a checkbox whether it is ticked."""

    name: str
    kind: str
    value: str
    checked: bool = False
    options: list[str] = field(default_factory=list)
    element_id: str = ""


@dataclass
class HtmlForm:
    """The controls of one form, in document order."""

    action: str
    controls: list[Control]

    @classmethod
    def of(cls, response: Response, action: str = "", *, marker: str = "") -> HtmlForm:
        """Reads the form posting to `action` (or bearing the attribute `marker`) on a page."""
        reader = _FormReader(action, marker)
        reader.feed(response.text)
        reader.close()
        assert reader.form is not None, f"no form {action or marker} on the page"
        return reader.form

    def named(self, name: str) -> list[Control]:
        """Gets the controls of a name."""
        return [c for c in self.controls if c.name == name]

    def value(self, name: str) -> str:
        """Gets what a single field shows."""
        (control,) = [c for c in self.named(name) if c.kind != "checkbox"]
        return control.value

    def ticked(self, name: str) -> list[str]:
        """Gets the values of the ticked checkboxes of a name."""
        return [c.value for c in self.named(name) if c.kind == "checkbox" and c.checked]

    def type(self, name: str, value: str) -> None:
        """Types into a text field, or chooses an option that the select offers."""
        (control,) = [c for c in self.named(name) if c.kind != "checkbox"]
        if control.kind == "select":
            assert value in control.options, f"{name}: the form offers no {value!r}"
        control.value = value

    def tick(self, name: str, values: list[str] | bool) -> None:
        """Ticks exactly these checkboxes of a name (or the lone one, for True/False)."""
        boxes = [c for c in self.named(name) if c.kind == "checkbox"]
        assert boxes or values == [], f"no checkbox {name}"
        if isinstance(values, bool):
            (box,) = boxes
            box.checked = values
            return
        offered = {box.value for box in boxes}
        assert set(values) <= offered, f"{name}: the form offers no {set(values) - offered}"
        for box in boxes:
            box.checked = box.value in values

    def add(self, name: str, value: str, kind: str = "text") -> None:
        """Adds a field, as the page's script does when a person adds a row."""
        self.controls.append(Control(name, kind, value))

    def pairs(self) -> list[tuple[str, str]]:
        """Gets what the browser sends, in order."""
        sent = []
        for control in self.controls:
            if control.kind == "checkbox":
                if control.checked:
                    sent.append((control.name, control.value))
            else:
                sent.append((control.name, control.value))
        return sent

    def submit(self, client: TestClient, action: str | None = None) -> Response:
        """Sends the form as a browser does (urlencoded, with the page's CSRF token)."""
        return client.post(
            action or self.action,
            content=urlencode(self.pairs()),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )


class _FormReader(HTMLParser):
    """Collects the controls of one form while the page streams by (fast on long pages)."""

    def __init__(self, action: str, marker: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action, self.marker = action, marker
        self.form: HtmlForm | None = None
        self.inside = False
        self.done = False
        self.select: Control | None = None
        self.chosen: str | None = None
        self.textarea: Control | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form" and not self.done and not self.inside:
            if (self.action and found.get("action") == self.action) or (
                self.marker and self.marker in found
            ):
                self.inside = True
                self.form = HtmlForm(found.get("action", ""), [])
            return
        if not self.inside or self.form is None:
            return
        name = found.get("name", "")
        if tag == "input" and name and "disabled" not in found:
            kind = found.get("type", "text")
            if kind == "checkbox":
                value = found.get("value") or "on"
                control = Control(
                    name, kind, value, "checked" in found, element_id=found.get("id", "")
                )
                self.form.controls.append(control)
            elif kind in TEXT_TYPES:
                control = Control(
                    name, kind, found.get("value", ""), element_id=found.get("id", "")
                )
                self.form.controls.append(control)
        elif tag == "select" and name:
            self.select = Control(name, "select", "", element_id=found.get("id", ""))
            self.chosen = None
        elif tag == "option" and self.select is not None:
            value = found.get("value", "")
            self.select.options.append(value)
            if "selected" in found:
                self.chosen = value
        elif tag == "textarea" and name:
            self.textarea = Control(name, "textarea", "", element_id=found.get("id", ""))

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if not self.inside or self.form is None:
            return
        if tag == "select" and self.select is not None:
            options = self.select.options
            self.select.value = (
                self.chosen if self.chosen is not None else (options[0] if options else "")
            )
            self.form.controls.append(self.select)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            # As browsers do: one newline right after <textarea> is not part of the value.
            self.textarea.value = self.textarea.value.removeprefix("\n")
            self.form.controls.append(self.textarea)
            self.textarea = None
        elif tag == "form":
            self.inside, self.done = False, True
