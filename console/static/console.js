// The console's only script of its own (the Content-Security-Policy admits no inline script).
// - every htmx request carries the page's CSRF token;
// - an element with data-chart='{ECharts option}' is drawn with ECharts (when the page loads
//   it), and a data-map="<name>" with data-geojson="<url>" registers that map first;
// - a <select data-streets-for="<district select id>"> shows only the chosen district's streets.
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });

  var maps = {};

  function loadMap(name, url) {
    if (!maps[name]) {
      maps[name] = fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (geojson) { window.echarts.registerMap(name, geojson); });
    }
    return maps[name];
  }

  function draw(el) {
    if (!window.echarts || el.dataset.drawn) return;
    el.dataset.drawn = "1";
    var option = JSON.parse(el.dataset.chart);
    var ready = el.dataset.map ? loadMap(el.dataset.map, el.dataset.geojson) : Promise.resolve();
    ready.then(function () {
      var chart = window.echarts.init(el, null, { renderer: el.dataset.renderer || "canvas" });
      chart.setOption(option);
      if (el.dataset.drill) {
        chart.on("click", function (params) {
          var target = (params.data && params.data.href) || null;
          if (target) window.location.href = target;
        });
      }
      window.addEventListener("resize", function () { chart.resize(); });
      el.dataset.drawn = "2";
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(draw);
  }

  function filterStreets(root) {
    (root || document).querySelectorAll("select[data-streets-for]").forEach(function (streets) {
      var district = document.getElementById(streets.dataset.streetsFor);
      if (!district) return;
      function apply() {
        var chosen = district.value;
        streets.querySelectorAll("option[data-district]").forEach(function (o) {
          var show = !chosen || o.dataset.district === chosen;
          o.hidden = !show;
          o.disabled = !show;
        });
        var current = streets.selectedOptions[0];
        if (current && current.disabled) streets.value = "";
      }
      district.addEventListener("change", apply);
      apply();
    });
  }

  function init(root) {
    drawAll(root);
    filterStreets(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
})();
