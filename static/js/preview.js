// Preview as user: open the dialog htmx brought in, close it with Close or Esc (the URL
// goes back to the list's), and give focus back to the button that opened it.
(function () {
  "use strict";

  function dialog() { return document.getElementById("preview-dialog"); }

  function open() {
    var d = dialog();
    if (!d || d.open) return;
    d.showModal();
    var search = d.querySelector("#preview-search");
    if (search) search.focus();
    d.addEventListener("cancel", function (event) {
      event.preventDefault();
      close();
    });
  }

  function close() {
    var d = dialog();
    if (!d) return;
    var url = d.dataset.closeUrl;
    if (d.open) d.close();
    d.remove();
    if (url) history.replaceState(history.state, "", url);
    var button = document.getElementById("preview-button");
    if (button) button.focus();
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "dialog-container") open();
  });
  document.addEventListener("DOMContentLoaded", open);
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#preview-close")) close();
  });
})();
