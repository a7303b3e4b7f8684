/* numberdesk dashboard: dialogs, row expansion, the release form's checkbox. Pages read
   correctly without this file; it only makes the HTMX fragments feel like one app. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var dlg = function () { return document.getElementById("dlg"); };

  // A fragment swapped into the dialog opens it (and focuses its first field).
  var closing = false;
  document.addEventListener("htmx:afterSwap", function (e) {
    var d = dlg();
    // Only the swap into the dialog itself (htmx also reports the out-of-band swaps).
    if (!d || e.target.id !== "dlg-body" || e.detail.target.id !== "dlg-body") return;
    // The action succeeded (HX-Trigger: closeDialog came first): stay closed.
    if (closing) return;
    if (!d.open) d.showModal();
    var first = d.querySelector("[autofocus]") || d.querySelector("input:not([type=hidden]), select, textarea, button");
    if (first) first.focus();
  });
  document.addEventListener("closeDialog", function () {
    var d = dlg();
    closing = true;
    if (d && d.open) d.close();
  });
  document.addEventListener("htmx:afterRequest", function () { setTimeout(function () { closing = false; }, 0); });
  document.addEventListener("close", function (e) {
    if (e.target.id === "dlg") document.getElementById("dlg-body").innerHTML = "";
  }, true);

  document.addEventListener("click", function (e) {
    var closer = e.target.closest("[data-close]");
    if (closer) { var d = closer.closest("dialog"); if (d) d.close(); return; }
    // A click on the backdrop (the dialog element itself) closes it.
    if (e.target.id === "dlg") { dlg().close(); return; }
    var exp = e.target.closest("[data-expand]");
    if (exp) {
      var row = document.getElementById(exp.getAttribute("aria-controls"));
      var open = exp.getAttribute("aria-expanded") !== "true";
      exp.setAttribute("aria-expanded", String(open));
      row.hidden = !open;
      if (open && window.htmx) {
        htmx.ajax("GET", exp.getAttribute("data-expand"), { target: row.querySelector("td"), swap: "innerHTML" });
      }
    }
  });

  document.addEventListener("change", function (e) {
    var t = e.target;
    // "I understand this number will be disconnected" enables the release button.
    if (t.matches("[data-enables]")) {
      var b = document.getElementById(t.getAttribute("data-enables"));
      if (b) b.disabled = !t.checked;
    }
    // The reason text field appears for "other".
    if (t.matches("[data-reason]")) {
      var other = t.form.querySelector("[data-other]");
      if (other) {
        if (t.value === "other") other.removeAttribute("data-hidden-js"); else other.setAttribute("data-hidden-js", "");
        var input = other.querySelector("input");
        if (input) input.required = t.value === "other";
      }
    }
  });

  // Buttons gated by a checkbox start disabled once scripts run (without scripts the
  // checkbox is simply required).
  function syncGates(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("[data-enables]").forEach(function (box) {
      var b = document.getElementById(box.getAttribute("data-enables"));
      if (b) b.disabled = !box.checked;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { syncGates(document); });
  document.addEventListener("htmx:load", function (e) { syncGates(e.detail.elt); });

  // Forms that destroy something ask first.
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  }, true);
})();
