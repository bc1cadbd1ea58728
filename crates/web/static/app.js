// Expand or collapse every section of the indicator tree.
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-tree]");
  if (!b) return;
  var open = b.getAttribute("data-tree") === "open";
  document.querySelectorAll(".tree details").forEach(function (d) { d.open = open; });
});

// Ask before an action that cannot be taken back: a form (or the button that sends it)
// with data-confirm="…". Kept out of inline handlers so the Content-Security-Policy can
// forbid inline scripts.
document.addEventListener("submit", function (e) {
  var by = e.submitter && e.submitter.getAttribute("data-confirm");
  var message = by || e.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) e.preventDefault();
});

// A copy button: data-copy="id of the field to copy".
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-copy]");
  if (!b) return;
  var field = document.getElementById(b.getAttribute("data-copy"));
  if (!field) return;
  field.focus();
  field.select();
  var done = function () { b.textContent = "已复制"; };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
  } else {
    document.execCommand("copy");
    done();
  }
});

// "返回上一页" on error pages: a link with data-back (no javascript: URL, which the
// Content-Security-Policy forbids); without history it goes to the home page.
document.addEventListener("click", function (e) {
  var a = e.target.closest("[data-back]");
  if (!a || window.history.length < 2) return;
  e.preventDefault();
  window.history.back();
});

// A read-only field whose text is selected when focused (for copying): data-select-on-focus.
document.addEventListener("focusin", function (e) {
  if (e.target.matches("[data-select-on-focus]")) e.target.select();
});

// A filter that applies as soon as it is chosen: <select data-autosubmit>.
document.addEventListener("change", function (e) {
  if (e.target.matches && e.target.matches("[data-autosubmit]") && e.target.form) e.target.form.submit();
});

// The 菜单 button on narrow screens opens and closes the navigation.
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-menu]");
  if (!b) return;
  var nav = b.closest("nav");
  var open = nav.classList.toggle("open");
  b.setAttribute("aria-expanded", open ? "true" : "false");
});

// 返回上一页 on the error page: back when there is somewhere to go back to, else home.
document.addEventListener("click", function (e) {
  var a = e.target.closest("[data-back]");
  if (!a || window.history.length < 2) return;
  e.preventDefault();
  window.history.back();
});

// 打印 buttons (the printable 督办单): the browser's print dialog.
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-print]");
  if (b) {
    e.preventDefault();
    window.print();
  }
});

// The task list's batch form: a box in the header ticks every row's box
// (data-select-all="name"), and the form says how many are ticked.
document.addEventListener("change", function (e) {
  var all = e.target.closest && e.target.closest("[data-select-all]");
  if (all) {
    var name = all.getAttribute("data-select-all");
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (b) { b.checked = all.checked; });
  }
  if (e.target.matches && e.target.matches('input[type=checkbox][name="task"], [data-select-all]')) {
    var n = document.querySelectorAll('input[type=checkbox][name="task"]:checked').length;
    document.querySelectorAll("[data-selected-count]").forEach(function (c) { c.textContent = String(n); });
  }
});
