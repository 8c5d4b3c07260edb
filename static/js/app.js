// Row selection on the ERP connections list: a header checkbox selects all rows,
// a selected row is highlighted. Everything else is htmx.
(function () {
  "use strict";
  function syncRow(box) {
    var row = box.closest("tr");
    if (row) row.classList.toggle("selected", box.checked);
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.classList.contains("select-all")) {
      var table = target.closest("table");
      table.querySelectorAll('tbody input[name="ids"]').forEach(function (box) {
        box.checked = target.checked;
        syncRow(box);
      });
    } else if (target.name === "ids") {
      syncRow(target);
    }
  });
})();
