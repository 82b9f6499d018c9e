/* Accord's progressive enhancement. Every page works without this file: it only adds
   conveniences (a folding menu on narrow screens, "are you sure?" before risky buttons, copy
   buttons). Served by Accord itself; no inline script anywhere (Content-Security-Policy). */
(function () {
  "use strict";

  /* Narrow screens: the main navigation folds behind a Menu button. Without JavaScript the
     links simply wrap; the button exists only where it can work. */
  function foldingMenu() {
    var header = document.querySelector(".site-header");
    var nav = header && header.querySelector("nav[aria-label='Main']");
    var list = nav && nav.querySelector("ul");
    if (!list) { return; }
    list.id = list.id || "main-nav-list";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "nav-toggle";
    button.setAttribute("aria-expanded", "false");
    button.setAttribute("aria-controls", list.id);
    button.textContent = "Menu";
    nav.insertBefore(button, list);
    header.classList.add("has-menu");
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) {
        header.classList.remove("menu-open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  /* <button data-confirm="Send to 7 people now?">: asks before the form goes. Pages that must
     confirm without JavaScript have a confirmation step on the server as well. */
  function confirmations() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var submitter = event.submitter;
      var text = (submitter && submitter.getAttribute("data-confirm")) ||
        form.getAttribute("data-confirm");
      if (text && !window.confirm(text)) { event.preventDefault(); }
    });
  }

  /* <button data-copy="id-of-element">Copy</button>, hidden until JavaScript can copy. */
  function copyButtons() {
    var buttons = document.querySelectorAll("[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      if (!source || !navigator.clipboard) { return; }
      button.hidden = false;
      var status = document.getElementById(button.getAttribute("aria-describedby") || "");
      button.addEventListener("click", function () {
        var text = source.value !== undefined ? source.value : source.textContent;
        navigator.clipboard.writeText(text.trim()).then(function () {
          if (status) { status.textContent = "Copied."; }
        }, function () {
          if (status) { status.textContent = "Could not copy: select the text and copy it."; }
        });
      });
    });
  }

  foldingMenu();
  confirmations();
  copyButtons();
}());

/* The composer's merge-field menu: inserts the chosen field where the cursor was in the last
   text box used (the list of fields stays on the page for those without JavaScript). */
(function () {
  "use strict";
  var menu = document.querySelector(".merge-menu");
  var button = document.getElementById("merge-insert");
  var choice = document.getElementById("merge-field");
  var status = document.getElementById("merge-status");
  if (!menu || !button || !choice) { return; }
  var last = document.getElementById("f-text");
  ["f-subject", "f-text", "f-html"].forEach(function (id) {
    var box = document.getElementById(id);
    if (box) { box.addEventListener("focus", function () { last = box; }); }
  });
  menu.hidden = false;
  button.addEventListener("click", function () {
    if (!last) { return; }
    var start = last.selectionStart || 0;
    var end = last.selectionEnd || start;
    last.value = last.value.slice(0, start) + choice.value + last.value.slice(end);
    last.focus();
    last.selectionStart = last.selectionEnd = start + choice.value.length;
    if (status) { status.textContent = choice.value + " inserted."; }
  });
}());

/* The preference matrix: a topic's cells say at once whether it would reach the person on each
   channel (the server says the same after Save; without JavaScript the cells show what is saved). */
(function () {
  "use strict";
  var form = document.getElementById("preferences");
  if (!form || !form.querySelector(".matrix")) { return; }
  function on(name) {
    var box = form.querySelector("input[name='" + name + "']");
    return !!box && box.checked;
  }
  function update() {
    Array.prototype.forEach.call(form.querySelectorAll(".purpose-group"), function (group) {
      var purpose = group.querySelector(".purpose-switch");
      var allowed = !purpose || purpose.checked;
      Array.prototype.forEach.call(group.querySelectorAll(".topic-row"), function (row) {
        var topic = row.querySelector(".topic-switch");
        var topicOn = !topic || topic.checked;
        var name = row.querySelector(".topic-name");
        Array.prototype.forEach.call(row.querySelectorAll("td.reach"), function (cell) {
          var yes = allowed && topicOn && on(cell.getAttribute("data-follows"));
          var mark = cell.querySelector(".reach-mark");
          var said = cell.querySelector(".visually-hidden");
          mark.textContent = yes ? "\u2713" : "\u2013";
          mark.className = "reach-mark " + (yes ? "on" : "off");
          if (said && name) {
            said.textContent = said.textContent.replace(/: (yes|no)$/, yes ? ": yes" : ": no");
          }
        });
      });
    });
  }
  form.addEventListener("change", update);
}());

/* Pickers (<select data-picker>): a search box that narrows the list as one types, and on a
   fresh form the browser's own time zone or language when the list has it. */
(function () {
  "use strict";
  var pickers = document.querySelectorAll("select[data-picker]");
  function browserValue(kind) {
    try {
      if (kind === "time_zone") { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; }
      if (kind === "locale") { return navigator.language || ""; }
    } catch (e) { return ""; }
    return "";
  }
  function pick(select, value) {
    var options = Array.prototype.slice.call(select.options);
    var exact = options.filter(function (o) { return o.value === value; })[0] ||
      options.filter(function (o) { return o.value === value.split("-")[0]; })[0];
    if (exact) { select.value = exact.value; }
  }
  Array.prototype.forEach.call(pickers, function (select) {
    var form = select.form;
    var kind = select.getAttribute("data-browser");
    if (kind && form && form.hasAttribute("data-fresh")) { pick(select, browserValue(kind)); }
    var search = document.createElement("input");
    search.type = "search";
    search.id = select.id + "-search";
    search.className = "picker-search";
    search.setAttribute("aria-controls", select.id);
    search.setAttribute("autocomplete", "off");
    var label = document.createElement("label");
    label.htmlFor = search.id;
    label.className = "picker-search-label";
    label.textContent = "Search " + select.getAttribute("data-picker").toLowerCase();
    var status = document.createElement("p");
    status.className = "hint";
    status.id = select.id + "-found";
    status.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(label, select);
    select.parentNode.insertBefore(search, select);
    select.parentNode.insertBefore(status, select);
    var all = Array.prototype.slice.call(select.options).map(function (o) {
      return { value: o.value, text: o.text };
    });
    search.addEventListener("input", function () {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      var matches = all.filter(function (o) {
        var text = (o.text + " " + o.value).toLowerCase();
        return words.every(function (w) { return text.indexOf(w) !== -1; });
      });
      var kept = select.value;
      if (matches.length && !matches.some(function (o) { return o.value === kept; })) {
        kept = matches[0].value;
      }
      var shown = matches.length ? matches : all;
      select.options.length = 0;
      shown.forEach(function (o) { select.add(new Option(o.text, o.value, o.value === kept, o.value === kept)); });
      status.textContent = words.length ? (matches.length ? matches.length + " found" : "Nothing found: the whole list is shown") : "";
    });
  });
}());

/* Wide tables scroll in their own box, not the page: every table in the main area not already
   in one is put in a .table-scroll box, which takes the keyboard focus (to scroll with the
   arrow keys) and is named after the table. */
(function () {
  "use strict";
  function nameOf(table) {
    var caption = table.querySelector("caption");
    if (caption && caption.textContent.trim()) { return caption.textContent.trim(); }
    var section = table.closest("section");
    var heading = section && section.querySelector("h1, h2, h3");
    return heading ? heading.textContent.trim() : "Table";
  }
  Array.prototype.forEach.call(document.querySelectorAll("main table"), function (table) {
    if (table.closest(".table-scroll")) { return; }
    var box = document.createElement("div");
    box.className = "table-scroll";
    box.setAttribute("tabindex", "0");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", nameOf(table));
    table.parentNode.insertBefore(box, table);
    box.appendChild(table);
  });
}());
