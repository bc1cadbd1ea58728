// 工作看板: draws the charts from the page's JSON block (#dashboard-data) with Apache
// ECharts, each bar and slice a link to the list behind it, and sorts the ranking table
// by a click on its header. The tables under the charts say the same without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof echarts === "undefined") return;
  var data;
  try {
    data = JSON.parse(source.textContent);
  } catch (e) {
    return;
  }
  var charts = [];
  var font = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif';

  function make(id, option, hrefs, names) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    option.textStyle = { fontFamily: font };
    option.animation = false;
    chart.setOption(option);
    if (hrefs) {
      chart.on("click", function (p) {
        // A bar or slice, or the category's label (the unit's or 一级指标's name).
        var i = p.dataIndex;
        if (p.componentType === "xAxis" || p.componentType === "yAxis") {
          i = names ? names.indexOf(p.value) : -1;
        }
        var href = hrefs[i];
        if (href) window.location.href = href;
      });
    }
    charts.push(chart);
  }

  function hrefs(list) {
    return list.map(function (d) { return d.href; });
  }

  function percentBar(id, list, horizontal) {
    if (!list || list.length === 0) return;
    var names = list.map(function (d) { return d.name; });
    var el = document.getElementById(id);
    var labelWidth = el && el.clientWidth < 600 ? 120 : 150;
    var values = list.map(function (d) { return d.value; });
    var category = {
      type: "category",
      data: names,
      inverse: horizontal,
      triggerEvent: true,
      axisLabel: horizontal
        ? { width: labelWidth, overflow: "truncate" }
        : { interval: 0, width: 70, overflow: "break", fontSize: 11 },
    };
    var value = { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } };
    make(id, {
      grid: horizontal
        ? { left: labelWidth + 10, right: 50, top: 10, bottom: 20 }
        : { left: 45, right: 10, top: 20, bottom: 70 },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          var d = list[p.dataIndex];
          return d.name + "<br>完成率 " + d.value + "%（" + d.approved + "/" + d.tasks + "）";
        },
      },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: [{
        type: "bar",
        data: values,
        itemStyle: { color: "#1565c0" },
        // A unit at 0% still shows a sliver to click.
        barMinHeight: 4,
        label: { show: true, position: horizontal ? "right" : "top", formatter: "{c}%" },
        cursor: "pointer",
      }],
    }, hrefs(list), names);
  }

  // On a phone the eight 一级指标 names do not fit under columns: bars lie down there.
  var h1 = document.getElementById("chart-heading1");
  if (h1 && data.heading1 && data.heading1.length) {
    var narrow = h1.clientWidth < 600;
    if (narrow) h1.style.height = Math.max(240, data.heading1.length * 34 + 40) + "px";
    percentBar("chart-heading1", data.heading1, narrow);
  }
  var units = document.getElementById("chart-units");
  if (units && data.units && data.units.length) {
    // One row per unit, tall enough to read every name.
    units.style.height = Math.max(240, data.units.length * 24 + 40) + "px";
    percentBar("chart-units", data.units, true);
  }
  if (data.lights) {
    make("chart-lights", {
      tooltip: { trigger: "item", formatter: "{b}：{c} 项（{d}%）" },
      series: [{
        type: "pie",
        radius: ["45%", "75%"],
        data: data.lights.map(function (d) {
          return { name: d.name, value: d.value, itemStyle: { color: d.color } };
        }),
        label: { formatter: "{b} {c}" },
        cursor: "pointer",
      }],
    }, hrefs(data.lights));
  }
  if (data.weeks && data.weeks.length) {
    make("chart-weeks", {
      tooltip: { trigger: "axis" },
      legend: { data: ["报送", "审核通过"], top: 0 },
      grid: { left: 40, right: 20, top: 30, bottom: 30 },
      xAxis: { type: "category", data: data.weeks.map(function (w) { return w.week; }) },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "报送", type: "line", data: data.weeks.map(function (w) { return w.submitted; }), itemStyle: { color: "#1565c0" } },
        { name: "审核通过", type: "line", data: data.weeks.map(function (w) { return w.approved; }), itemStyle: { color: "#2e7d32" } },
      ],
    });
  }

  function resizeAll() {
    charts.forEach(function (c) { c.resize(); });
  }
  window.addEventListener("resize", resizeAll);
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);

  // Sortable ranking: numbers by data-value, text by the Chinese collation.
  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    var heads = table.querySelectorAll("th[data-sort]");
    heads.forEach(function (th, col) {
      th.classList.add("sort-head");
      th.setAttribute("tabindex", "0");
      th.setAttribute("title", "点击排序");
      function sort() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var numeric = th.getAttribute("data-sort") === "num";
        rows.sort(function (a, b) {
          var x = a.cells[col], y = b.cells[col];
          var r;
          if (numeric) {
            var nx = parseFloat(x.getAttribute("data-value"));
            var ny = parseFloat(y.getAttribute("data-value"));
            r = (isNaN(nx) ? -1 : nx) - (isNaN(ny) ? -1 : ny);
          } else {
            r = x.textContent.trim().localeCompare(y.textContent.trim(), "zh-CN");
          }
          return asc ? r : -r;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          sort();
        }
      });
    });
  });
})();
