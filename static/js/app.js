// The little behaviour htmx does not cover: row selection, the connection dialog (open,
// focus, Esc, OK enabled only after a successful test of the current values) and the
// access dialog (pick users and groups).
(function () {
  "use strict";

  // --- list: selection, Edit on the selection, double-click to edit --------------------
  function syncRow(box) {
    var row = box.closest("tr");
    if (row) row.classList.toggle("selected", box.checked);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.classList.contains("select-all")) {
      target.closest("table").querySelectorAll('tbody input[name="ids"]').forEach(function (box) {
        box.checked = target.checked;
        syncRow(box);
      });
    } else if (target.name === "ids") {
      syncRow(target);
    }
  });

  function openEdit(row) {
    var link = row && row.querySelector("a.edit-link");
    if (link) link.click();
  }

  document.addEventListener("dblclick", function (event) {
    var row = event.target.closest && event.target.closest("tr.connection-row");
    if (row && !event.target.closest("input, a, button")) openEdit(row);
  });

  document.addEventListener("click", function (event) {
    var edit = event.target.closest && event.target.closest("#edit-button");
    if (!edit) return;
    var box = document.querySelector('#connection-table input[name="ids"]:checked');
    if (box) {
      openEdit(box.closest("tr"));
    } else {
      var firstRow = document.querySelector("#connection-table tr.connection-row");
      alert(edit.dataset.noSelection || "Select a connection first.");
      if (firstRow) firstRow.querySelector("input").focus();
    }
  });

  // --- the connection dialog -------------------------------------------------------------
  var opener = null;
  var testedSnapshot = null; // the values of the last successful test
  var pendingSnapshot = null; // the values sent with the running test
  var baseline = null; // edit: the saved values (no new test needed while unchanged)

  function dialog() { return document.getElementById("connection-dialog"); }

  function snapshot(form) {
    var parts = [];
    form.querySelectorAll("[name=connector], [name=sync_connection], [name^=config__]").forEach(function (el) {
      var value = el.type === "checkbox" ? String(el.checked) : el.value;
      parts.push(el.name + "=" + value);
    });
    return parts.sort().join("\n");
  }

  function updateOk() {
    var d = dialog();
    if (!d) return;
    var form = d.querySelector("form");
    var current = snapshot(form);
    var ok = (testedSnapshot !== null && current === testedSnapshot) ||
             (baseline !== null && current === baseline);
    form.querySelector("#ok-button").disabled = !ok;
  }

  function updateScope() {
    var d = dialog();
    if (!d) return;
    var specific = d.querySelector('input[name=scope][value=specific]');
    d.querySelector("#scope-specific").hidden = !(specific && specific.checked);
  }

  function closeDialog(options) {
    var d = dialog();
    if (!d) return;
    var closeUrl = d.dataset.closeUrl;
    // A test of a saved connection changed its row's last test: show it.
    var refresh = d.dataset.mode === "edit" && d.dataset.tested === "true" &&
                  !(options && options.saved);
    if (d.open) d.close();
    d.nextElementSibling && d.nextElementSibling.id === "access-dialog" && d.nextElementSibling.remove();
    d.remove();
    if (closeUrl && window.location.pathname + window.location.search !== closeUrl) {
      history.replaceState(history.state, "", closeUrl);
    }
    var back = opener;
    opener = null;
    if (back && document.contains(back)) back.focus();
    if (refresh && document.getElementById("results")) {
      var selector = back && back.id ? "#" + back.id :
        back && back.getAttribute("href") ? 'a[href="' + back.getAttribute("href") + '"]' : null;
      htmx.ajax("GET", closeUrl, { target: "#results", swap: "outerHTML" }).then(function () {
        var again = selector && document.querySelector(selector);
        if (again) again.focus();
      });
    }
  }

  function openDialog() {
    var d = dialog();
    if (!d || d.open) return;
    testedSnapshot = null;
    pendingSnapshot = null;
    var form = d.querySelector("form");
    baseline = d.dataset.mode === "edit" ? snapshot(form) : null;
    d.showModal();
    var first = form.querySelector("#id_name");
    if (first) first.focus();
    updateOk();
    updateScope();
    d.addEventListener("cancel", function (event) {
      event.preventDefault(); // Esc: close and clean up like Cancel
      closeDialog();
    });
  }

  // showModal() makes the page inert, but Tab past the last control would leave the
  // document (focus on <body>); wrap around inside the top dialog instead.
  var FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab") return;
    var open = document.querySelectorAll("dialog.modal[open]");
    var top = open[open.length - 1];
    if (!top) return;
    var items = Array.prototype.filter.call(top.querySelectorAll(FOCUSABLE), function (el) {
      return !el.disabled && el.getClientRects().length > 0; // visible and enabled
    });
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1];
    var active = document.activeElement;
    if (event.shiftKey && (active === first || !top.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !top.contains(active))) {
      event.preventDefault();
      first.focus();
    }
  });

  document.addEventListener("focusin", function (event) {
    var t = event.target;
    if (t && t.closest && (t.closest("#connection-table") || t.closest(".toolbar"))) opener = t;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === "dialog-container") openDialog();
  });
  document.addEventListener("DOMContentLoaded", function () { openDialog(); });

  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("#connection-form")) updateOk();
  });
  document.addEventListener("change", function (event) {
    if (!event.target.closest || !event.target.closest("#connection-form")) return;
    if (event.target.name === "scope") updateScope();
    updateOk();
  });
  // A new connector brings new configuration fields: they need a new test.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "config-fields") updateOk();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("#cancel-button")) closeDialog();
  });

  // Test: show progress, remember which values were tested.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "connection-form") return;
    var submitter = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent &&
                    event.detail.requestConfig.triggeringEvent.submitter;
    if (submitter && submitter.id === "test-button") {
      pendingSnapshot = snapshot(form);
      var result = document.getElementById("test-result");
      result.className = "test-result testing";
      result.textContent = dialog().dataset.testingText;
      form.querySelector("#test-button").disabled = true;
      form.querySelector("#ok-button").disabled = true;
    } else {
      pendingSnapshot = null;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "connection-form") return;
    var testButton = form.querySelector("#test-button");
    if (testButton) testButton.disabled = false;
    if (!event.detail.successful && pendingSnapshot !== null) {
      // No answer from the application itself: say so instead of "Testing..." forever.
      var result = document.getElementById("test-result");
      result.className = "test-result status-error";
      result.textContent = dialog().dataset.failedText || "The test could not be run.";
      pendingSnapshot = null;
    }
    updateOk();
  });

  // The test's answer has settled in the page: remember the tested values on success.
  document.body.addEventListener("erp:tested", function (event) {
    if (dialog()) dialog().dataset.tested = "true";
    testedSnapshot = event.detail && event.detail.succeeded ? pendingSnapshot : null;
    pendingSnapshot = null;
    updateOk();
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var form = document.getElementById("connection-form");
    if (form && event.target && (event.target === form || form.contains(event.target) ||
        event.target.classList && event.target.classList.contains("field-error"))) {
      markInvalid(form);
    }
  });

  function markInvalid(form) {
    var firstInvalid = null;
    form.querySelectorAll(".field-error").forEach(function (box) {
      var name = box.id.replace(/^error-/, "");
      var input = form.querySelector('[name="' + name + '"]');
      var hasError = box.textContent.trim() !== "";
      if (!input) return;
      if (hasError) {
        input.setAttribute("aria-invalid", "true");
        var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        if (described.indexOf(box.id) < 0) described.push(box.id);
        input.setAttribute("aria-describedby", described.join(" "));
        if (!firstInvalid) firstInvalid = input;
      } else {
        input.removeAttribute("aria-invalid");
      }
    });
    return firstInvalid;
  }

  // Saved: the list was swapped in; close the dialog.
  document.body.addEventListener("erp:saved", function () {
    closeDialog({ saved: true });
  });

  // --- the access dialog -----------------------------------------------------------------
  var pending = null; // Map "kind:id" -> label

  function accessDialog() { return document.getElementById("access-dialog"); }

  function applyPending() {
    var a = accessDialog();
    if (!a || !pending) return;
    a.querySelectorAll("#principal-results input[type=checkbox]").forEach(function (box) {
      box.checked = pending.has(box.dataset.kind + ":" + box.dataset.id);
    });
  }

  document.addEventListener("click", function (event) {
    var t = event.target;
    if (!t.closest) return;
    if (t.closest("#open-access")) {
      event.preventDefault();
      pending = new Map();
      document.querySelectorAll("#picked .pick").forEach(function (pick) {
        pending.set(pick.dataset.kind + ":" + pick.dataset.id, pick.querySelector("span").textContent);
      });
      var a = accessDialog();
      a.showModal();
      var search = a.querySelector("#principal-search");
      search.focus();
      htmx.trigger("#principal-results", "load-principals");
    } else if (t.closest("#access-ok")) {
      var picked = document.getElementById("picked");
      picked.innerHTML = "";
      pending.forEach(function (label, key) {
        var kind = key.split(":")[0], id = key.split(":")[1];
        var li = document.createElement("li");
        li.className = "pick";
        li.dataset.kind = kind;
        li.dataset.id = id;
        var span = document.createElement("span");
        span.textContent = label;
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "remove-pick";
        // The translated "Remove %(label)s" (word order differs per language).
        remove.setAttribute("aria-label", (picked.dataset.removeLabel || "Remove __LABEL__")
          .replace("__LABEL__", function () { return label; }));
        remove.textContent = "×";
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = kind;
        input.value = id;
        li.append(span, " ", remove, input);
        picked.appendChild(li);
      });
      accessDialog().close();
      document.getElementById("open-access").focus();
    } else if (t.closest("#access-cancel")) {
      accessDialog().close();
      document.getElementById("open-access").focus();
    } else if (t.closest(".remove-pick")) {
      var pick = t.closest(".pick");
      var next = pick.nextElementSibling || pick.previousElementSibling;
      pick.remove();
      (next ? next.querySelector("button") : document.getElementById("open-access")).focus();
    }
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!pending || !box.closest || !box.closest("#principal-results")) return;
    var key = box.dataset.kind + ":" + box.dataset.id;
    if (box.checked) pending.set(key, box.dataset.label); else pending.delete(key);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "principal-results") applyPending();
  });
  document.addEventListener("htmx:afterSettle", function () { applyPending(); });
})();
