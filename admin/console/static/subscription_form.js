// The subscription form, one step at a time. Comfort only: without this script every step shows,
// the server greys out what another trigger chose on each round trip, and the form posts as it is.
(function () {
  "use strict";
  var form = document.querySelector("form[data-subscription-form]");
  if (!form) { return; }
  var each = function (nodes, fn) { Array.prototype.forEach.call(nodes, fn); };
  var editing = form.hasAttribute("data-editing");

  // --- triggers: the chosen event type's components, greyed-out values, channels on the first ---
  var slots = function () { return form.querySelectorAll("section.trigger"); };
  var eventType = function (slot) {
    var select = slot.querySelector("select[data-event-type-select]");
    return select ? select.value : "";
  };

  var refresh = function () {
    var all = Array.prototype.slice.call(slots());
    var types = all.map(eventType);
    all.forEach(function (slot, i) {
      each(slot.querySelectorAll(".panel"), function (panel) {
        var et = panel.getAttribute("data-event-type");
        panel.classList.toggle("current", et === types[i]);
        each(panel.querySelectorAll("fieldset[data-component]"), function (group) {
          var component = group.getAttribute("data-component");
          if (group.hasAttribute("data-once")) {
            var first = types.indexOf(et);
            var ticked = group.querySelector('input[type="checkbox"]:checked');
            var locked = first >= 0 && first < i && !ticked;
            group.disabled = locked;
            var note = group.querySelector("[data-once-note]");
            if (note) {
              note.hidden = !locked;
              var where = note.querySelector("[data-once-first]");
              if (where) { where.textContent = String(first + 1); }
            }
          }
          if (group.hasAttribute("data-unique")) {
            each(group.querySelectorAll('input[type="checkbox"]'), function (box) {
              var by = -1;
              all.forEach(function (other, j) {
                if (by >= 0 || j === i || types[j] !== et) { return; }
                var twin = other.querySelector(
                  '.panel[data-event-type="' + CSS.escape(et) + '"] fieldset[data-component="' + CSS.escape(component) +
                  '"] input[value="' + CSS.escape(box.value) + '"]'
                );
                if (twin && twin.checked) { by = j; }
              });
              var taken = by >= 0 && !box.checked;
              box.disabled = taken;
              if (taken) { box.setAttribute("aria-disabled", "true"); } else { box.removeAttribute("aria-disabled"); }
              var hint = box.parentNode.querySelector("[data-taken]");
              if (hint) {
                hint.hidden = !taken;
                var number = hint.querySelector("[data-taken-by]");
                if (number) { number.textContent = String(by + 1); }
              }
            });
          }
        });
      });
    });
  };

  // --- webhook type and authentication: the chosen one's fields ---
  var showChosen = function () {
    var soap = form.querySelector('input[data-endpoint-type][value="soap"]');
    each(form.querySelectorAll('[data-endpoint-panel="soap"]'), function (panel) { panel.hidden = !(soap && soap.checked); });
    var chosen = form.querySelector("input[data-auth-type-choice]:checked");
    each(form.querySelectorAll("[data-auth-type]"), function (panel) {
      panel.hidden = !chosen || panel.getAttribute("data-auth-type") !== chosen.value;
    });
  };

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("select[data-entity-select]")) {
      // Another entity has other triggers: the server draws them (the hint beside the list says so).
      var apply = form.querySelector("[data-entity-apply]");
      if (apply) { form.requestSubmit(apply); }
      return;
    }
    refresh();
    showChosen();
  });

  // --- one step at a time ---
  var steps = Array.prototype.slice.call(form.querySelectorAll("fieldset.step"));
  var links = document.querySelectorAll("[data-step-link]");
  var back = form.querySelector("[data-back]");
  var next = form.querySelector("[data-next]");
  var save = form.querySelector("[data-save]");
  var legendText = function (step) {
    var legend = step.querySelector("legend");
    return legend ? legend.textContent.replace(/^\s*\d+\s*/, "").trim() : "";
  };
  var current = 0;
  var show = function (n, focus) {
    current = Math.max(0, Math.min(steps.length - 1, n));
    steps.forEach(function (step, k) { step.hidden = k !== current; });
    each(links, function (link) {
      if (Number(link.getAttribute("data-step-link")) === current) { link.setAttribute("aria-current", "step"); }
      else { link.removeAttribute("aria-current"); }
    });
    back.hidden = current === 0;
    next.hidden = current === steps.length - 1;
    if (!next.hidden) { next.textContent = "Next: " + legendText(steps[current + 1]); }
    save.hidden = !editing && current !== steps.length - 1;
    if (focus) { steps[current].focus(); }
  };
  var stepOf = function (node) {
    var step = node.closest("fieldset.step");
    return step ? steps.indexOf(step) : -1;
  };

  form.setAttribute("data-enhanced", "");
  steps.forEach(function (step) { step.setAttribute("tabindex", "-1"); });
  back.addEventListener("click", function () { show(current - 1, true); });
  next.addEventListener("click", function () { show(current + 1, true); });
  each(links, function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      show(Number(link.getAttribute("data-step-link")), true);
    });
  });
  // The error summary's links open the step of their field.
  each(document.querySelectorAll("a[data-goto]"), function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      show(stepOf(target), false);
      var control = target.matches("input, select, textarea") ? target : target.querySelector("input:not([disabled]), select, textarea");
      (control || target).focus();
    });
  });
  // Enter in a field goes to the next step; on the last one it saves.
  form.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || !target.matches("input:not([type=checkbox]):not([type=radio]), select")) { return; }
    if (current < steps.length - 1) {
      event.preventDefault();
      show(current + 1, true);
    }
  });

  refresh();
  showChosen();
  show(Number(form.getAttribute("data-open-step")) || 0, false);
  var focusId = form.getAttribute("data-focus");
  var focused = focusId && document.getElementById(focusId);
  if (focused) { focused.focus(); }
})();
