// Behaviour of every page, without inline scripts (the Content-Security-Policy forbids them).
// Markup asks for it with data attributes:
//   <select data-autosubmit>            submits its form when changed
//   <form data-confirm="Sure?">         asks before submitting
//   <input type="checkbox" data-select-all="flag">  ticks every input[name=flag]
//   <div data-progress="42">            a bar as wide as 42 %
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target.closest("[data-autosubmit]");
    if (field && field.form) field.form.submit();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  }, true);
  document.addEventListener("click", function (event) {
    var box = event.target.closest("[data-select-all]");
    if (!box) return;
    document.querySelectorAll('input[name="' + box.dataset.selectAll + '"]').forEach(function (input) {
      input.checked = box.checked;
    });
  });
  function drawProgress(root) {
    (root || document).querySelectorAll("[data-progress]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.progress) || 0)) + "%";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawProgress(document); });
  document.addEventListener("htmx:load", function (event) { drawProgress(event.target); });
})();
