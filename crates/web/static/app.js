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

// Uploads with a progress bar (form[data-upload]): sent by XMLHttpRequest so the bytes
// sent can be shown; the button is disabled while sending. The server answers such a
// request (header X-Fazhi-Upload) in JSON: where to go next, or the error to show on the
// form, which keeps what was entered. Without script the form posts as usual.
(function () {
  function size(n) {
    if (n >= 1073741824) return (n / 1073741824).toFixed(2) + " GB";
    if (n >= 1048576) return (n / 1048576).toFixed(1) + " MB";
    if (n >= 1024) return Math.round(n / 1024) + " KB";
    return n + " 字节";
  }
  function go(to) {
    var url = new URL(to, window.location.href);
    if (url.pathname === window.location.pathname && url.search === window.location.search) {
      // Only the #section differs: the browser would scroll, not load the saved page.
      window.location.hash = url.hash;
      window.location.reload();
    } else {
      window.location.assign(url.href);
    }
  }
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.matches("form[data-upload]") || !window.FormData) return;
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    var status = form.querySelector("[data-upload-status]");
    var bar = form.querySelector("progress");
    var button = form.querySelector("button[type=submit]");
    var max = Number(form.getAttribute("data-max-bytes") || 0);
    e.preventDefault();
    if (file && max && file.size > max) {
      status.textContent = "文件超过大小上限（" + size(max) + "），请压缩或拆分后再上传";
      status.className = "upload-status error";
      return;
    }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Fazhi-Upload", "1");
    xhr.responseType = "json";
    var done = function (message) {
      button.disabled = false;
      bar.hidden = true;
      status.textContent = message;
      status.className = "upload-status error";
    };
    xhr.upload.addEventListener("progress", function (p) {
      if (!p.lengthComputable) return;
      bar.max = p.total;
      bar.value = p.loaded;
      var percent = Math.floor((p.loaded * 100) / p.total);
      status.textContent = "正在上传：已发送 " + size(p.loaded) + " / " + size(p.total) + "（" + percent + "%），请不要关闭页面";
    });
    xhr.upload.addEventListener("load", function () {
      status.textContent = "已发送完毕，正在保存并计算校验值…";
    });
    xhr.addEventListener("load", function () {
      var answer = xhr.response || {};
      if (xhr.status === 200 && answer.location) {
        status.textContent = "上传完成";
        go(answer.location);
      } else {
        done("上传未成功：" + (answer.error || "服务器返回 " + xhr.status));
      }
    });
    xhr.addEventListener("error", function () { done("网络中断，上传未完成。请检查网络后重新上传。"); });
    xhr.addEventListener("abort", function () { done("上传已取消"); });
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    status.className = "upload-status";
    status.textContent = "正在上传…";
    xhr.send(new FormData(form));
  });
})();
