// The operator's pages (no inline script: the Content-Security-Policy admits none).
// - the new order shows only the fields its decision and channel need
//   ([data-for-decision], [data-for-channel]); everything shows without this script;
// - choosing a street first fills in its district;
// - Enter saves the order from any field (a choice too), Ctrl+Enter from a text area;
// - a form is sent once: its button is disabled while the answer comes (the Idempotency-Key
//   makes a second send record nothing new anyway);
// - a [data-copy="<selector>"] button copies that field's value.
(function () {
  "use strict";

  function showFor(select, attribute) {
    if (!select) return;
    function apply() {
      document.querySelectorAll("[" + attribute + "]").forEach(function (el) {
        el.hidden = el.getAttribute(attribute) !== select.value;
      });
    }
    select.addEventListener("change", apply);
    apply();
  }

  function streetSetsDistrict(street, district) {
    if (!street || !district) return;
    street.addEventListener("change", function () {
      var chosen = street.selectedOptions[0];
      if (chosen && chosen.dataset.district && district.value !== chosen.dataset.district) {
        district.value = chosen.dataset.district;
        district.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  }

  function init() {
    var form = document.getElementById("intake-form");
    if (form) {
      showFor(document.getElementById("decision"), "data-for-decision");
      showFor(document.getElementById("channel"), "data-for-channel");
      streetSetsDistrict(document.getElementById("location-street"), document.getElementById("location-district"));
      form.addEventListener("keydown", function (event) {
        if (event.key !== "Enter" || event.isComposing) return;
        var tag = event.target.tagName;
        // Enter in a text field submits by itself; in a choice too, and Ctrl+Enter in a text area
        if (tag === "SELECT" || (tag === "TEXTAREA" && (event.ctrlKey || event.metaKey))) {
          event.preventDefault();
          form.requestSubmit();
        }
      });
      form.addEventListener("submit", function () {
        var button = document.getElementById("intake-submit");
        if (button) window.setTimeout(function () { button.disabled = true; }, 0);
      });
      var firstError = form.querySelector(".has-error input, .has-error select, .has-error textarea");
      if (firstError) firstError.focus();
    }
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var field = document.querySelector(button.dataset.copy);
        if (!field) return;
        field.select();
        var done = function () { button.textContent = button.dataset.copied || button.textContent; };
        if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, function () {});
        else done();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
