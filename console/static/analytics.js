// The analyst's pages (console/pages/analytics.py): a filter form marked data-autosubmit shows
// the new figures as soon as a choice changes (a select or the month), without a click.
(function () {
  "use strict";

  function autosubmit(root) {
    (root || document).querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      if (form.dataset.autosubmitReady) return;
      form.dataset.autosubmitReady = "1";
      form.querySelectorAll("select, input[type=month]").forEach(function (field) {
        field.addEventListener("change", function () {
          if (field.type === "month" && !field.value) return;
          if (form.reportValidity()) form.submit();
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { autosubmit(document); });
})();
