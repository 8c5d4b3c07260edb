// Only what htmx cannot do: open and close the dialogs with the URL, keep Tab inside the top
// dialog, put the focus where the server says, mark invalid fields without re-rendering typed
// secrets, mark a test result outdated as soon as a tested value changes, select all rows.
(function () {
  "use strict";
  var opener = null, focusAfterClose = null;
  function $(selector, root) { return (root || document).querySelector(selector); }
  function focusOn(selector) { var t = (selector && $(selector)) || $("#results .messages"); if (t) t.focus(); }
  try { // dates in the history are shown in the browser's time zone
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; SameSite=Lax";
  } catch (e) { /* the server's time zone then */ }

  // --- the list -----------------------------------------------------------------------------
  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t.matches("[data-submit-on-change]")) t.form.submit();
    if (t.matches(".select-all")) {
      t.closest("table").querySelectorAll('tbody [name="ids"]').forEach(function (box) { box.checked = t.checked; });
    }
  });
  document.addEventListener("dblclick", function (event) {
    var row = event.target.closest("tr.connection-row");
    var link = row && !event.target.closest("input, a, button") && $("a.edit-link", row);
    if (link) link.click();
  });
  document.addEventListener("focusin", function (event) {
    if (!event.target.closest("dialog")) opener = event.target;
  });

  // --- dialogs: the server sends them with data-autoshow; closing removes them --------------
  function showDialogs() {
    document.querySelectorAll("#dialog-container dialog[data-autoshow]:not([open])").forEach(function (d) { d.showModal(); });
  }
  document.addEventListener("DOMContentLoaded", showDialogs);
  document.addEventListener("htmx:afterSettle", showDialogs);
  document.addEventListener("close", function (event) {
    var d = event.target;
    if (!d.matches("#dialog-container dialog[data-autoshow]")) return;
    var url = d.dataset.closeUrl, target = focusAfterClose;
    focusAfterClose = null;
    $("#dialog-container").innerHTML = "";
    if (url && location.pathname + location.search !== url) history.replaceState(history.state, "", url);
    if (target) focusOn(target);
    else if (opener && document.contains(opener)) opener.focus();
  }, true);
  // The server's word after a save, delete, restore or refused action: focus goes there.
  document.body.addEventListener("erp:focus", function (event) {
    var open = $("#dialog-container dialog[data-autoshow][open]");
    if (open) { focusAfterClose = event.detail.selector; open.close(); } else focusOn(event.detail.selector);
  });
  document.addEventListener("click", function (event) {
    var t = event.target, closer = t.closest("[data-close-dialog]"), remove = t.closest(".remove-pick");
    if (closer) closer.closest("dialog").close();
    if (t.closest("#open-access")) {
      event.preventDefault();
      $("#principal-search").value = "";
      $("#access-dialog").showModal();
    }
    if (t.closest("#access-ok")) $("#access-dialog").close();
    if (remove) {
      var pick = remove.closest(".pick"), next = pick.nextElementSibling || pick.previousElementSibling;
      pick.remove();
      (next ? $("button", next) : $("#open-access")).focus();
    }
  });

  // showModal() makes the page inert, but Tab past the last control would leave the document.
  var FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])";
  document.addEventListener("keydown", function (event) {
    var open = document.querySelectorAll("dialog.modal[open]"), top = open[open.length - 1];
    if (event.key !== "Tab" || !top) return;
    var items = Array.prototype.filter.call(top.querySelectorAll(FOCUSABLE), function (el) {
      return !el.disabled && el.type !== "hidden" && el.getClientRects().length > 0;
    });
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1], active = document.activeElement;
    if (event.shiftKey && (active === first || !top.contains(active))) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && (active === last || !top.contains(active))) { event.preventDefault(); first.focus(); }
  });

  // --- the connection dialog: a changed tested value makes the result outdated --------------
  function outdate(event) {
    var el = event.target, name = el.name || "";
    if (!el.closest("#connection-form") || !(name === "connector" || name === "sync_connection" || name.indexOf("config__") === 0)) return;
    var result = $("#test-result");
    $("#ok-button").disabled = true;
    if (result.classList.contains("has-result") && !result.classList.contains("outdated")) {
      result.classList.add("outdated");
      $("#test-live").textContent = $(".test-outdated", result).textContent;
    }
  }
  document.addEventListener("input", outdate);
  document.addEventListener("change", outdate);
  // No answer from the application itself: say so instead of an empty result.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt.id !== "test-button" || event.detail.successful) return;
    var result = $("#test-result"), body = $(".test-body", result) || result.appendChild(document.createElement("div"));
    result.className = "test-result has-result status-error";
    body.className = "test-body";
    body.textContent = $("#connection-dialog").dataset.failedText;
    $("#test-live").textContent = body.textContent;
    $("#ok-button").disabled = true;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var form = $("#connection-form");
    if (!form) return;
    form.querySelectorAll(".field-error").forEach(function (box) {
      var input = form.querySelector('[name="' + box.id.replace(/^error-/, "") + '"]');
      if (!input) return;
      if (!box.textContent.trim()) { input.removeAttribute("aria-invalid"); return; }
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (described.indexOf(box.id) < 0) described.push(box.id);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", described.join(" "));
    });
  });
})();
