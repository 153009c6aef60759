// The lists' comfort, on top of pages that work without it: filters that name the browser's time
// zone and leave empty fields out of the address, buttons that ask before deleting, and tabs that
// switch in place (without this script they are links the server answers).
(function () {
  "use strict";

  // Filters: the days mean days in this browser's zone; empty fields stay out of the address.
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { /* old browser */ }
  document.querySelectorAll("form[data-filters]").forEach(function (form) {
    var tz = form.querySelector("[data-tz-field]");
    form.addEventListener("submit", function () {
      var dated = form.querySelector('input[name="since"]').value || form.querySelector('input[name="until"]').value;
      if (tz && zone && dated) { tz.value = zone; tz.disabled = false; }
      form.querySelectorAll("input, select").forEach(function (field) {
        if (field.name && field.value === "" && field.type !== "submit") { field.disabled = true; }
      });
      // Coming back to this page (the back button) shows the fields as they were.
      window.addEventListener("pageshow", function () {
        form.querySelectorAll("input, select").forEach(function (field) { if (field !== tz) { field.disabled = false; } });
      }, { once: true });
    });
  });

  // A submit button that destroys something asks first (form[data-confirm] is console.js's).
  document.querySelectorAll("button[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // Tabs: links become an ARIA tablist; arrows, Home and End move between them.
  document.querySelectorAll("[data-tabs]").forEach(function (list) {
    var tabs = Array.prototype.slice.call(list.querySelectorAll("a[data-tab]"));
    var panel = function (tab) { return document.getElementById(tab.getAttribute("data-tab")); };
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-label", list.getAttribute("data-tabs"));
    var select = function (chosen, focus) {
      tabs.forEach(function (tab) {
        var on = tab === chosen;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        panel(tab).hidden = !on;
      });
      if (focus) { chosen.focus(); }
      try { history.replaceState(null, "", chosen.getAttribute("href")); } catch (e) { /* file: or old browser */ }
    };
    tabs.forEach(function (tab) {
      var shown = panel(tab);
      tab.setAttribute("role", "tab");
      tab.setAttribute("aria-controls", shown.id);
      tab.removeAttribute("aria-current");
      shown.setAttribute("role", "tabpanel");
      shown.setAttribute("aria-labelledby", tab.id);
      shown.tabIndex = 0;
      tab.addEventListener("click", function (event) { event.preventDefault(); select(tab, false); });
      tab.addEventListener("keydown", function (event) {
        var at = tabs.indexOf(tab);
        var to = null;
        if (event.key === "ArrowRight") { to = tabs[(at + 1) % tabs.length]; }
        if (event.key === "ArrowLeft") { to = tabs[(at - 1 + tabs.length) % tabs.length]; }
        if (event.key === "Home") { to = tabs[0]; }
        if (event.key === "End") { to = tabs[tabs.length - 1]; }
        if (to) { event.preventDefault(); select(to, true); }
      });
    });
    var current = tabs.filter(function (tab) { return !panel(tab).hidden; })[0] || tabs[0];
    tabs.forEach(function (tab) {
      var on = tab === current;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
    });
  });
})();
