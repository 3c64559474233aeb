// The agent's workspace: keyboard shortcuts and focus (CSP: no inline scripts).
(function () {
  "use strict";
  // Keys shown as <kbd> answer the current question; N takes the next callback.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select")) return;
    var key = event.key.toLowerCase();
    var current = document.getElementById("current-question");
    var target = current ? current.querySelector('[data-shortcut="' + key + '"]') : document.querySelector('[data-shortcut-page="' + key + '"]');
    if (!current && key === "n") target = document.getElementById("next-callback");
    if (target) { event.preventDefault(); target.click(); return; }
    if (current && key === "enter") {
      var field = current.querySelector("input:not([type=hidden])");
      if (field) { event.preventDefault(); field.focus(); }
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    var current = document.getElementById("current-question");
    var field = current && current.querySelector("input:not([type=hidden])");
    if (field) field.focus();
    if (current) current.scrollIntoView({block: "nearest"});
  });
  document.addEventListener("change", function (event) {
    if (event.target.id !== "outcome") return;
    var appointment = document.getElementById("appointment-field");
    if (appointment) appointment.hidden = event.target.value !== "callback_requested";
  });
})();
