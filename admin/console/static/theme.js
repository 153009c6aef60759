// Before the page paints: the theme chosen on this browser, else the system's.
(function () {
  var chosen = null;
  try { chosen = localStorage.getItem("hookstream-theme"); } catch (e) { /* storage refused */ }
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.setAttribute("data-theme", chosen || (dark ? "dark" : "light"));
})();
