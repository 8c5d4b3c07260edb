// The dialog's configuration fields: conditional fields (data-visible-when) are shown or
// hidden as the fields they depend on change, and hidden ones are disabled so they are not
// posted; Escape dismisses a help tooltip without moving the focus.
(function () {
  "use strict";

  function valueOf(form, name) {
    var element = form.elements[name];
    if (!element) return "";
    if (element.type === "checkbox") return element.checked ? "true" : "false";
    return element.value;
  }

  function update(root) {
    root.querySelectorAll("[data-visible-when]").forEach(function (wrapper) {
      var form = wrapper.closest("form");
      if (!form) return;
      var rules = JSON.parse(wrapper.dataset.visibleWhen);
      var shown = Object.keys(rules).every(function (name) {
        return rules[name].indexOf(valueOf(form, name)) !== -1;
      });
      wrapper.hidden = !shown;
      wrapper.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !shown;
      });
    });
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form");
    if (form && form.querySelector("[data-visible-when]")) update(form);
  });
  document.addEventListener("htmx:load", function (event) {
    update(event.target);
  });
  document.addEventListener("keydown", function (event) {
    var tip = event.key === "Escape" && event.target.closest && event.target.closest(".info-tip");
    if (tip && !tip.classList.contains("dismissed")) {
      tip.classList.add("dismissed");
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
  document.addEventListener("focusout", function (event) {
    var tip = event.target.closest && event.target.closest(".info-tip");
    if (tip) tip.classList.remove("dismissed");
  });
})();
