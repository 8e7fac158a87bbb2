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
      input.value.split(/[,;\n]/).forEach(addTag);
      input.value = "";
    }

    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === ",") {
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
        const q = input.value.split(/[,;]/).pop().trim();
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

  /* Forms that ask before doing something that cannot be undone. */
  function enhanceConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
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
      if (count) { count.textContent = count.getAttribute("data-template").replace("{count}", String(ticked)); }
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
    document.documentElement.classList.add("js");
  });
})();
