/* Homeward: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  function debounce(fn, ms) {
    let timer = null;
    return function () {
      const args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  /* Skills as tags: typing a skill and pressing Enter (or a comma) makes a checked chip;
     suggestions come from /api/skills into the same <datalist> the page renders without JS. */
  function enhanceTags(box) {
    const input = box.querySelector("[data-tag-input]");
    const list = box.querySelector("[data-tag-list]");
    const datalist = document.getElementById(input.getAttribute("list"));
    const name = box.getAttribute("data-tags");
    if (!input || !list) { return; }

    function existing() {
      return Array.from(list.querySelectorAll("input[type=checkbox]")).map(function (c) {
        return c.value.toLowerCase();
      });
    }

    function addTag(text) {
      const value = text.trim();
      if (!value || existing().indexOf(value.toLowerCase()) !== -1) { return; }
      const li = document.createElement("li");
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = name;
      box.value = value;
      box.checked = true;
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + value));
      li.appendChild(label);
      list.appendChild(li);
    }

    function commit() {
      input.value.split(/[,،;؛\n]/).forEach(addTag);
      input.value = "";
    }

    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === "," || event.key === "،") {
        if (input.value.trim()) {
          event.preventDefault();
          commit();
        } else if (event.key === "Enter") {
          event.preventDefault();
        }
      }
    });
    input.addEventListener("change", function () {
      /* Picking a suggestion from the list fires change: take it as a tag at once. */
      if (datalist && Array.from(datalist.options).some(function (o) { return o.value === input.value; })) {
        commit();
      }
    });
    if (datalist && input.getAttribute("data-suggest")) {
      const url = input.getAttribute("data-suggest");
      input.addEventListener("input", debounce(function () {
        const q = input.value.split(/[,،;؛]/).pop().trim();
        if (q.length < 1) { return; }
        fetch(url + "?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (data) {
            datalist.textContent = "";
            (data.items || []).forEach(function (item) {
              const option = document.createElement("option");
              option.value = item.skill;
              datalist.appendChild(option);
            });
          })
          .catch(function () { /* suggestions are a convenience */ });
      }, 150));
    }
    const form = input.form;
    if (form) { form.addEventListener("submit", commit); }
    box.homewardAddTag = addTag;
  }

  /* Repeated rows (languages with their level): an "Add" button clones the last row. */
  function enhanceRepeat(box) {
    const add = box.querySelector("[data-repeat-add]");
    if (!add) { return; }
    add.hidden = false;
    add.addEventListener("click", function () {
      const rows = box.querySelectorAll("[data-repeat-row]");
      const last = rows[rows.length - 1];
      const index = rows.length;
      const copy = last.cloneNode(true);
      copy.querySelectorAll("[id]").forEach(function (el) { el.id = el.id.replace(/\d+$/, String(index)); });
      copy.querySelectorAll("[for]").forEach(function (el) { el.setAttribute("for", el.getAttribute("for").replace(/\d+$/, String(index))); });
      copy.querySelectorAll("[name]").forEach(function (el) {
        el.name = el.name.replace(/\d+$/, String(index));
        if (el.tagName === "SELECT") {
          if (el.dataset.default) { el.value = el.dataset.default; } else { el.selectedIndex = 0; }
        } else {
          el.value = "";
        }
      });
      copy.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
      last.parentNode.insertBefore(copy, last.nextSibling);
      const first = copy.querySelector("select, input");
      if (first) { first.focus(); }
    });
  }

  /* Forms that ask before doing something that cannot be undone. A form whose server asks
     again when the question was not answered (no script) carries a [data-confirmed] field:
     answered here, it says so. */
  function enhanceConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); return; }
      const answered = form.querySelector("input[data-confirmed]");
      if (answered) { answered.value = "yes"; }
    });
  }

  /* A form that changes something is sent once: a second click while the next page loads
     (a double click, an impatient one) is ignored, so it cannot post a need twice. The form
     shows it is on its way; it may be sent again once the page is shown anew (the back button
     brings it from the cache) or after a while without an answer. Registered after the other
     submit handlers, so a confirmation declined leaves it free. */
  function guardResubmit(form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      if (form.hasAttribute("data-sending")) { event.preventDefault(); return; }
      form.setAttribute("data-sending", "");
      form.setAttribute("aria-busy", "true");
      window.setTimeout(function () { release(form); }, 15000);
      noteSent(form, event.submitter);
    });
  }
  function release(form) {
    form.removeAttribute("data-sending");
    form.removeAttribute("aria-busy");
  }
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(release);
  });

  /* Review page: "select all" ticks every candidate; the bar counts what is ticked. */
  function enhanceBulk(form) {
    const all = form.querySelector("[data-select-all]");
    const count = form.querySelector("[data-selected-count]");
    function picks() { return Array.from(document.querySelectorAll("input[data-pick][form='" + form.id + "']")); }
    function update() {
      const ticked = picks().filter(function (c) { return c.checked; }).length;
      if (count) {
        // The words agree with the number: Intl names its plural category (Arabic has six).
        const category = new Intl.PluralRules(count.getAttribute("data-plural-locale") || undefined).select(ticked);
        const words = count.getAttribute("data-template-" + category) || count.getAttribute("data-template-other");
        count.textContent = words.replace("{count}", String(ticked));
      }
      if (all) { all.checked = ticked > 0 && ticked === picks().length; }
    }
    if (all) {
      all.addEventListener("change", function () {
        picks().forEach(function (c) { c.checked = all.checked; });
        update();
      });
    }
    document.addEventListener("change", function (event) {
      if (event.target.matches && event.target.matches("input[data-pick]")) { update(); }
    });
    document.body.addEventListener("htmx:afterSwap", update);
    update();
  }

  /* Phones: the navigation folds behind a menu button (shown only when this script runs). */
  function enhanceMenu(button) {
    const nav = document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      const open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("open", open);
    });
  }

  /* Tells whether a form of the page holds something typed or chosen that is not sent yet. */
  function typedSomething() {
    return Array.prototype.some.call(document.querySelectorAll("main form"), function (form) {
      return Array.prototype.some.call(form.elements, function (el) {
        if (el.type === "hidden" || el.type === "submit" || el.type === "button") { return false; }
        if (el.type === "checkbox" || el.type === "radio") { return el.checked !== el.defaultChecked; }
        if (el.tagName === "SELECT") {
          const options = Array.prototype.slice.call(el.options);
          /* A list with no option marked selected shows its first: that is not a choice. */
          if (!options.some(function (o) { return o.defaultSelected; })) {
            return el.multiple ? options.some(function (o) { return o.selected; }) : el.selectedIndex > 0;
          }
          return options.some(function (o) { return o.selected !== o.defaultSelected; });
        }
        return el.value !== el.defaultValue;
      });
    });
  }

  /* The language switch applies on change; its button is only needed without this script.
     Switching reloads the page: half-way through a form, it asks first rather than lose it. */
  function enhanceLanguage(button) {
    const form = button.form;
    const select = form && form.querySelector("select");
    if (!select) { return; }
    button.classList.add("visually-hidden");
    select.addEventListener("change", function () {
      const warning = form.getAttribute("data-unsaved-warning");
      if (warning && typedSomething() && !window.confirm(warning)) {
        Array.prototype.forEach.call(select.options, function (o) { o.selected = o.defaultSelected; });
        return;
      }
      form.submit();
    });
  }

  /* Search filters apply as they change: ticking a facet submits the search form. */
  function enhanceAutosubmit(form) {
    form.addEventListener("change", function (event) {
      if (event.target.matches("input[type=checkbox]")) { form.submit(); }
    });
  }

  /* Search filters on a phone: folded under their "Filters" line, so the results come first;
     opened again when the window grows wide enough to show both. */
  function enhanceFoldNarrow(details) {
    const narrow = window.matchMedia("(max-width: 48rem)");
    if (narrow.matches) { details.open = false; }
    narrow.addEventListener("change", function () { if (!narrow.matches) { details.open = true; } });
  }

  /* Wide tables: tells the CSS whether a table overflows its box and which edges hide columns
     (scrollLeft is 0 then negative right to left, 0 then positive left to right). */
  function enhanceWideTable(wrap) {
    const box = wrap.querySelector(".table-scroll");
    if (!box) { return; }
    function mark(name, on) {
      if (on) { wrap.setAttribute(name, ""); } else { wrap.removeAttribute(name); }
    }
    function update() {
      const room = box.scrollWidth - box.clientWidth;
      const over = room > 1;
      const moved = Math.abs(box.scrollLeft);
      mark("data-overflow", over);
      mark("data-at-start", !over || moved < 2);
      mark("data-at-end", !over || moved > room - 2);
    }
    box.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", debounce(update, 100));
    update();
  }


  /* What a person typed survives a session that ended meanwhile. Each form sent by a logged-in
     person is noted in this tab's sessionStorage (never a password, a file or the CSRF token;
     hidden fields are, so a need's version still refuses an edit overtaken meanwhile).
     The next page decides: the log-in page that says the session had ended keeps the note;
     any other answer (saved, or the form shown again with its errors) drops it. Back on the
     form's page, logged in as the same person, the form is filled again and says so; nothing
     is sent until they send it. A note is used once, and never for another account. */
  const SENT = "homeward.form.sent";
  const KEPT = "homeward.form.kept";
  const KEPT_FOR_MS = 12 * 3600 * 1000;
  const NOT_KEPT = ["password", "file", "submit", "button", "reset", "image"];

  function store() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }
  function readNote(storage, key) {
    try { return JSON.parse(storage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function reader() { return document.body.getAttribute("data-reader") || ""; }
  function here() { return window.location.pathname + window.location.search; }
  function target(form) {
    const url = new URL(form.getAttribute("action") || here(), window.location.href);
    return url.pathname + url.search;
  }
  function sameTarget(form) {
    const forms = Array.prototype.slice.call(document.querySelectorAll("main form[method=post]"));
    return forms.filter(function (f) { return target(f) === target(form); });
  }
  function keepable(el) {
    return el.name && !el.disabled && el.name !== "csrf_token" &&
      NOT_KEPT.indexOf((el.type || "").toLowerCase()) === -1 && !el.hasAttribute("data-tag-input");
  }

  function noteSent(form, submitter) {
    const storage = store();
    if (!storage || !reader() || !form.closest("main")) { return; }
    /* A button that htmx sends (the need's preview) stays on the page. */
    if (submitter && submitter.hasAttribute("hx-post")) { return; }
    const fields = [];
    let typed = false;
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!keepable(el)) { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        fields.push({ name: el.name, value: el.value, checked: el.checked });
      } else if (el.tagName === "SELECT") {
        fields.push({ name: el.name, values: Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; }) });
      } else {
        fields.push({ name: el.name, value: el.value });
        typed = typed || (el.type !== "hidden" && el.value !== "");
      }
    });
    if (!typed && !fields.some(function (f) { return f.checked || (f.values && f.values.some(Boolean)); })) { return; }
    try {
      storage.setItem(SENT, JSON.stringify({
        reader: reader(), page: here(), action: target(form),
        index: sameTarget(form).indexOf(form), at: Date.now(), fields: fields
      }));
    } catch (e) { /* storage full or refused: the form is sent all the same */ }
  }

  /* The answer to a form sent: keep its note only when the session had ended. */
  function settleSent(storage) {
    const sent = readNote(storage, SENT);
    storage.removeItem(SENT);
    if (sent && document.querySelector("[data-session-ended]")) {
      try { storage.setItem(KEPT, JSON.stringify(sent)); } catch (e) { /* not kept, as before */ }
    }
  }

  function controls(form, name) {
    return Array.prototype.filter.call(form.elements, function (el) { return el.name === name && keepable(el); });
  }
  /* A field the page does not show yet: one more repeated row (languages), or a new skill. */
  function grow(form, field) {
    const add = form.querySelector("[data-repeat-add]");
    for (let tries = 0; add && /_\d+$/.test(field.name) && !controls(form, field.name).length && tries < 20; tries++) {
      add.click();
    }
    const tags = form.querySelector("[data-tags='" + field.name + "']");
    if (field.checked && tags && tags.homewardAddTag) { tags.homewardAddTag(field.value); }
  }
  function fill(form, fields) {
    const used = {};
    function boxes(name, value) {
      return controls(form, name).filter(function (el) {
        return (el.type === "checkbox" || el.type === "radio") && el.value === value;
      });
    }
    fields.forEach(function (field) {
      if ("checked" in field) {
        if (!boxes(field.name, field.value).length) { grow(form, field); }
        boxes(field.name, field.value).forEach(function (el) { el.checked = field.checked; });
        return;
      }
      if (!controls(form, field.name).length) { grow(form, field); }
      const els = controls(form, field.name);
      const kind = field.values ? "select" : "text";
      const key = kind + ":" + field.name;
      const same = els.filter(function (el) { return (el.tagName === "SELECT") === (kind === "select") && el.type !== "checkbox" && el.type !== "radio"; });
      const el = same[used[key] || 0];
      used[key] = (used[key] || 0) + 1;
      if (!el) { return; }
      if (kind === "select") {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = field.values.indexOf(o.value) !== -1; });
      } else {
        el.value = field.value;
      }
    });
  }

  /* Back on the form's page after logging in again: the form is filled as it was sent. */
  function restoreKept(storage) {
    const kept = readNote(storage, KEPT);
    if (!kept) { return; }
    const stale = Date.now() - (kept.at || 0) > KEPT_FOR_MS;
    const who = reader();
    if (stale || (who && who !== kept.reader)) { storage.removeItem(KEPT); return; }
    if (!who || kept.page !== here()) { return; }
    storage.removeItem(KEPT);
    const forms = Array.prototype.filter.call(document.querySelectorAll("main form[method=post]"), function (f) {
      return target(f) === kept.action;
    });
    const form = forms[kept.index || 0];
    if (!form) { return; }
    /* Adding rows moves the focus to them: the page stays where it opened, at the notice. */
    const active = document.activeElement;
    const top = window.scrollY;
    fill(form, kept.fields || []);
    if (document.activeElement !== active && document.activeElement) { document.activeElement.blur(); }
    window.scrollTo(window.scrollX, top);
    const notice = document.createElement("p");
    notice.className = "message message-info";
    notice.setAttribute("role", "status");
    notice.setAttribute("data-form-restored", "");
    notice.textContent = document.body.getAttribute("data-restored-notice") || "";
    form.parentNode.insertBefore(notice, form);
  }

  /* A page shown in answer to a form sent (refused and shown again with its errors, say) has
     the address the form was posted to, which answers no GET. The address bar shows the form's
     page instead (data-form-page, from the site): a form sent again from here says it came from
     that page, so a session that ended meanwhile leads back to it after logging in, where the
     form is filled again; a reload or a bookmark opens the form, not a "not used this way". */
  function showFormPage() {
    const page = document.body.getAttribute("data-form-page") || "";
    if (page.charAt(0) !== "/" || page.charAt(1) === "/" || !window.history.replaceState) { return; }
    try {
      window.history.replaceState(window.history.state, "", page + window.location.hash);
    } catch (e) { /* the address stays the one posted to, as before */ }
  }

  function keepTyped() {
    showFormPage();
    const storage = store();
    if (!storage) { return; }
    settleSent(storage);
    restoreKept(storage);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-table-wrap]").forEach(enhanceWideTable);
    document.querySelectorAll("[data-menu-button]").forEach(enhanceMenu);
    document.querySelectorAll("[data-language-submit]").forEach(enhanceLanguage);
    document.querySelectorAll("form[data-bulk]").forEach(enhanceBulk);
    document.querySelectorAll("form[data-autosubmit]").forEach(enhanceAutosubmit);
    document.querySelectorAll("details[data-fold-narrow]").forEach(enhanceFoldNarrow);
    document.querySelectorAll("[data-tags]").forEach(enhanceTags);
    document.querySelectorAll("[data-repeat]").forEach(enhanceRepeat);
    document.querySelectorAll("form[data-confirm]").forEach(enhanceConfirm);
    /* Forms htmx sends on submit stay on the page and are re-drawn: they are not guarded
       (the need form, whose htmx preview runs on change, is). */
    document.querySelectorAll("form[method=post]:not([hx-post]:not([hx-trigger]))").forEach(guardResubmit);
    keepTyped();
    document.documentElement.classList.add("js");
  });
})();
