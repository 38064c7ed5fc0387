/* infolinia: the interactive report chart and the print button. No inline script is needed: the figures come from
   the chart element's data-chart attribute (the same figures as the table under it), and the chart is drawn as SVG
   elements with classes (the CSP forbids inline styles). Hovering or focusing a point shows its interval and value. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var W = 800, H = 320, LEFT = 64, RIGHT = 16, TOP = 24, BOTTOM = 56;

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, String(attrs[key])); });
    if (parent) parent.appendChild(node);
    return node;
  }

  function number(value, lang) {
    return new Intl.NumberFormat(lang, { maximumFractionDigits: 1 }).format(value);
  }

  function text(series, value, lang, empty) {
    if (value === null || value === undefined) return empty;
    return series.rate ? number(value * 100, lang) + " %" : number(value, lang);
  }

  function draw(box, data, kpi) {
    var series = data.kpis[kpi];
    if (!series) return;
    var lang = document.documentElement.lang || "en";
    var empty = box.getAttribute("data-empty") || "-";
    var tip = document.getElementById(box.id + "-tip");
    var values = series.values;
    var known = values.filter(function (v) { return v !== null; });
    var high = known.length ? Math.max.apply(null, known) : 1;
    if (!(high > 0)) high = 1;
    var n = Math.max(values.length, 1);
    var plotW = W - LEFT - RIGHT, plotH = H - TOP - BOTTOM;
    var x = function (i) { return LEFT + plotW * (i + 0.5) / n; };
    var y = function (v) { return TOP + plotH - plotH * v / high; };
    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, class: "ichart", role: "group",
                          "aria-label": series.label });
    el("line", { x1: LEFT, y1: TOP + plotH, x2: LEFT + plotW, y2: TOP + plotH, class: "axis" }, svg);
    el("line", { x1: LEFT, y1: TOP, x2: LEFT, y2: TOP + plotH, class: "axis" }, svg);
    for (var step = 0; step <= 4; step++) {
      var v = high * step / 4;
      var label = el("text", { x: LEFT - 6, y: (y(v) + 4).toFixed(1), class: "tick", "text-anchor": "end" }, svg);
      label.textContent = text(series, v, lang, empty);
    }
    var every = Math.max(1, Math.floor(n / 8));
    data.labels.forEach(function (name, i) {
      if (i % every === 0) {
        var t = el("text", { x: x(i).toFixed(1), y: TOP + plotH + 16, class: "tick", "text-anchor": "middle" }, svg);
        t.textContent = name.slice(5);
      }
    });
    var path = [];
    values.forEach(function (value, i) {
      if (value === null) {
        if (path.length > 1) el("polyline", { points: path.join(" "), class: "line" }, svg);
        path = [];
        return;
      }
      path.push(x(i).toFixed(1) + "," + y(value).toFixed(1));
    });
    if (path.length > 1) el("polyline", { points: path.join(" "), class: "line" }, svg);
    values.forEach(function (value, i) {
      if (value === null) return;
      var said = data.labels[i] + ": " + text(series, value, lang, empty);
      var dot = el("circle", { cx: x(i).toFixed(1), cy: y(value).toFixed(1), r: 4, class: "point", tabindex: 0,
                               role: "img", "aria-label": said }, svg);
      var show = function () {
        svg.querySelectorAll(".point.on").forEach(function (p) { p.classList.remove("on"); });
        dot.classList.add("on");
        if (tip) tip.textContent = said;
      };
      dot.addEventListener("mouseenter", show);
      dot.addEventListener("focus", show);
    });
    box.replaceChildren(svg);
  }

  function init() {
    document.querySelectorAll("[data-chart]").forEach(function (box) {
      var data;
      try { data = JSON.parse(box.getAttribute("data-chart")); } catch (e) { return; }
      if (!data || !data.kpis) return;
      draw(box, data, box.getAttribute("data-kpi"));
      var select = document.querySelector('[data-chart-kpi="' + box.id + '"]');
      if (select) {
        select.addEventListener("change", function () {
          box.setAttribute("data-kpi", select.value);
          draw(box, data, select.value);
        });
      }
    });
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
