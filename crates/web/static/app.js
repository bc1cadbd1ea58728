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
// A file larger than one chunk goes in chunks (断点续传, form[data-resumable], see
// views/uploads.rs): a dropped connection is retried from where it stopped, and the upload's
// name is kept in localStorage, so picking the same file again after a reload continues it.
(function () {
  var RETRIES = 6;
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
  function csrfOf(form) {
    return new URL(form.action, window.location.href).searchParams.get("_csrf") || "";
  }
  // One request; calls back with (status, JSON answer or {}), status 0 when the network failed.
  function request(method, url, csrf, body, headers, onProgress, cb) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("X-Fazhi-Upload", "1");
    Object.keys(headers || {}).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
    xhr.responseType = "json";
    if (onProgress) xhr.upload.addEventListener("progress", onProgress);
    xhr.addEventListener("load", function () { cb(xhr.status, xhr.response || {}); });
    xhr.addEventListener("error", function () { cb(0, {}); });
    xhr.addEventListener("abort", function () { cb(0, {}); });
    xhr.send(body);
  }
  function sendWhole(form, ui) {
    request("POST", form.action, csrfOf(form), new FormData(form), null, function (p) {
      if (!p.lengthComputable) return;
      ui.progress(p.loaded, p.total);
      if (p.loaded === p.total) ui.say("已发送完毕，正在保存并计算校验值…");
    }, function (status, answer) {
      if (status === 200 && answer.location) {
        ui.say("上传完成");
        go(answer.location);
      } else if (status === 0) {
        ui.fail("网络中断，上传未完成。请检查网络后重新上传。");
      } else {
        ui.fail("上传未成功：" + (answer.error || "服务器返回 " + status));
      }
    });
  }
  function sendInChunks(form, file, ui) {
    var csrf = csrfOf(form);
    var key = "fazhi-upload:" + form.getAttribute("data-resumable") + ":" + file.name + ":" + file.size + ":" + file.lastModified;
    var store = window.localStorage;
    var token = null, chunk = 8388608, failures = 0, finishing = false;
    function remember(t) { try { if (t) store.setItem(key, t); else store.removeItem(key); } catch (e) { /* private mode */ } }
    function recalled() { try { return store.getItem(key); } catch (e) { return null; } }
    function retry(offset, why) {
      failures += 1;
      if (failures > RETRIES) {
        ui.fail("网络中断，已上传 " + size(offset) + " / " + size(file.size) + "。请检查网络后再次点击“上传”，将从中断处继续。");
        return;
      }
      var wait = Math.min(30, Math.pow(2, failures));
      ui.say(why + "，" + wait + " 秒后自动继续（已上传 " + size(offset) + "）…");
      // Without an upload yet (its announcement failed), announce again: the server hands
      // back the open upload of the same file, if it made one.
      setTimeout(token ? resume : start, wait * 1000);
    }
    function resume() {
      request("GET", "/uploads/" + token, csrf, null, null, null, function (status, answer) {
        if (status === 200 && answer.done) { remember(null); ui.say("上传完成"); go(answer.location); }
        else if (status === 200 && answer.size === file.size) { send(answer.offset); }
        else if (status === 404 && finishing) { remember(null); go(window.location.pathname + "#evidence"); }
        else if (status === 404) { remember(null); start(); }
        else if (status === 0 || status >= 500) { retry(0, "连接中断"); }
        else { ui.fail("上传未成功：" + (answer.error || "服务器返回 " + status)); }
      });
    }
    function start() {
      var fields = new URLSearchParams();
      fields.set("name", file.name);
      fields.set("size", String(file.size));
      ["title", "doc_number", "doc_date"].forEach(function (n) {
        var input = form.querySelector('[name="' + n + '"]');
        if (input && input.value) fields.set(n, input.value);
      });
      request("POST", form.getAttribute("data-resumable"), csrf, fields, { "Content-Type": "application/x-www-form-urlencoded" }, null, function (status, answer) {
        if (status === 200 && answer.done) {
          go(answer.location);
        } else if (status === 200 && answer.upload) {
          token = answer.upload;
          chunk = answer.chunk_bytes || chunk;
          remember(token);
          send(answer.offset || 0);
        } else if (status === 0) {
          retry(0, "连接中断");
        } else {
          ui.fail("上传未成功：" + (answer.error || "服务器返回 " + status));
        }
      });
    }
    function send(offset) {
      ui.progress(offset, file.size);
      if (offset >= file.size) { finish(); return; }
      var piece = file.slice(offset, Math.min(file.size, offset + chunk));
      request("PATCH", "/uploads/" + token, csrf, piece, { "Upload-Offset": String(offset), "Content-Type": "application/octet-stream" },
        function (p) { if (p.lengthComputable) ui.progress(offset + p.loaded, file.size); },
        function (status, answer) {
          if (status === 200 && answer.done) { remember(null); go(answer.location); }
          else if (status === 200) { failures = 0; send(answer.offset); }
          else if (status === 409 && typeof answer.offset === "number") { send(answer.offset); }
          else if (status === 0 || status === 503 || status >= 500) { retry(offset, "连接中断"); }
          else { ui.fail("上传未成功：" + (answer.error || "服务器返回 " + status)); }
        });
    }
    function finish() {
      finishing = true;
      ui.say("已发送完毕，正在合并保存并计算校验值（大文件需要一些时间）…");
      request("POST", "/uploads/" + token + "/finish", csrf, null, null, null, function (status, answer) {
        if (status === 200 && answer.location) {
          remember(null);
          ui.say("上传完成");
          go(answer.location);
        } else if (status === 0 || status === 409 || status >= 500) {
          // The answer was lost, not necessarily the work (or another request is saving
          // it): look again; a finished upload is gone (404), and its page shows the file.
          retry(file.size, status === 409 ? "正在保存" : "连接中断");
        } else {
          ui.fail("上传未成功：" + (answer.error || "服务器返回 " + status));
        }
      });
    }
    token = recalled();
    if (token) { ui.say("正在查找上次中断的上传…"); resume(); } else { start(); }
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
    var ui = {
      say: function (text) { status.className = "upload-status"; status.textContent = text; },
      progress: function (loaded, total) {
        bar.max = total;
        bar.value = loaded;
        var percent = total ? Math.floor((loaded * 100) / total) : 100;
        ui.say("正在上传：已发送 " + size(loaded) + " / " + size(total) + "（" + percent + "%），请不要关闭页面");
      },
      fail: function (message) {
        button.disabled = false;
        bar.hidden = true;
        status.textContent = message;
        status.className = "upload-status error";
      }
    };
    button.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    ui.say("正在上传…");
    if (file && file.size > 8388608 && form.hasAttribute("data-resumable") && file.slice) {
      sendInChunks(form, file, ui);
    } else {
      sendWhole(form, ui);
    }
  });
})();
