// The language switch takes effect on choosing (no inline handler: Content-Security-Policy).
document.addEventListener("change", function (event) {
  var select = event.target;
  if (select instanceof HTMLSelectElement && select.classList.contains("submit-on-change")) {
    select.form.requestSubmit();
  }
});
