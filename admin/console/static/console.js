// Comfort only: every page works without it (times then read in UTC, forms post as they are).
(function () {
  "use strict";
  var root = document.documentElement;

  // Times in the browser's zone, which the top bar names.
  var zone = "UTC";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { /* old browser */ }
  // 2026-12-03 14:05:09 in every locale: a date no reader can take for another.
  var format = new Intl.DateTimeFormat("en-GB", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
  });
  var local = function (at) {
    var part = {};
    format.formatToParts(at).forEach(function (p) { part[p.type] = p.value; });
    return part.year + "-" + part.month + "-" + part.day + " " + part.hour + ":" + part.minute + ":" + part.second;
  };
  document.querySelectorAll("time[datetime]").forEach(function (node) {
    var at = new Date(node.getAttribute("datetime"));
    if (!isNaN(at)) { node.title = node.textContent; node.textContent = local(at); }
  });
  document.querySelectorAll("[data-tz]").forEach(function (node) { node.textContent = zone; });

  // The theme switch.
  var toggle = document.querySelector("[data-theme-toggle]");
  if (toggle) {
    var label = function () {
      toggle.setAttribute("aria-label", root.getAttribute("data-theme") === "dark" ? "Switch to the light theme" : "Switch to the dark theme");
    };
    label();
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var next = root.getAttribute("data-theme") === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem("hookstream-theme", next); } catch (e) { /* storage refused */ }
      label();
    });
  }

  // Forms that destroy something ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // "Select all" boxes, and buttons that need a selection.
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var name = all.getAttribute("data-select-all");
    var boxes = function () { return document.querySelectorAll('input[type="checkbox"][name="' + name + '"]'); };
    var sync = function () {
      var chosen = Array.prototype.filter.call(boxes(), function (b) { return b.checked; }).length;
      all.checked = chosen > 0 && chosen === boxes().length;
      all.indeterminate = chosen > 0 && chosen < boxes().length;
      document.querySelectorAll('[data-needs-selection="' + name + '"]').forEach(function (b) { b.disabled = chosen === 0; });
      document.querySelectorAll('[data-selection-count="' + name + '"]').forEach(function (n) { n.textContent = chosen ? chosen + " selected" : ""; });
    };
    all.addEventListener("change", function () { boxes().forEach(function (b) { b.checked = all.checked; }); sync(); });
    boxes().forEach(function (b) { b.addEventListener("change", sync); });
    sync();
  });

  // Close an open three-dot menu on Escape or a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    document.querySelectorAll("details.menu[open]").forEach(function (menu) { menu.open = false; menu.querySelector("summary").focus(); });
  });
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) { if (!menu.contains(event.target)) { menu.open = false; } });
  });
})();
