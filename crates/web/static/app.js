// Expand or collapse every section of the indicator tree.
document.addEventListener("click", function (e) {
  var b = e.target.closest("[data-tree]");
  if (!b) return;
  var open = b.getAttribute("data-tree") === "open";
  document.querySelectorAll(".tree details").forEach(function (d) { d.open = open; });
});
