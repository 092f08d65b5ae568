// Draws the charts of a logstorm report with uPlot, from the JSON that
// harness/report/charts.py made (the <script id="report-data"> block).
// Overlay: every run's lines in one chart. Side: one chart per run, in
// columns, sharing the y range so that heights compare honestly.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                 "#7f7f7f", "#bcbd22"];

  function percentLabel(v) {
    // x on a percentile chart is 1/(1-p): 10 -> 90%, 1000 -> 99.9%.
    var p = 100 * (1 - 1 / v);
    return p.toFixed(Math.max(0, Math.round(Math.log10(v)) - 2)) + "%";
  }

  function unitLabel(unit, v) {
    if (v == null) return "";
    if (unit === "lines/s" || unit === "lines") return Math.abs(v) >= 1e6 ? (v / 1e6).toFixed(1) + "M" :
      Math.abs(v) >= 1e3 ? (v / 1e3).toFixed(1) + "k" : String(+v.toFixed(2));
    return String(+v.toPrecision(4));
  }

  var METRIC_DASH = [undefined, [10, 3], [2, 3], [12, 3, 3, 3]];

  function styles(lines) {
    // One line group (a run, or a repetition or shard of one): a colour per
    // metric. Several: a colour per group, so that base and new, or the
    // shards, read apart; the metrics differ by dash.
    var groups = [], metrics = [];
    var keys = lines.map(function (line) {
      var cut = line.label.lastIndexOf(" · ");
      var key = {group: line.run + "/" + (cut < 0 ? "" : line.label.slice(0, cut)),
                 metric: cut < 0 ? line.label : line.label.slice(cut + 3)};
      if (groups.indexOf(key.group) < 0) groups.push(key.group);
      if (metrics.indexOf(key.metric) < 0) metrics.push(key.metric);
      return key;
    });
    return lines.map(function (line, i) {
      var g = groups.indexOf(keys[i].group), m = metrics.indexOf(keys[i].metric);
      if (groups.length < 2) return {color: PALETTE[m % PALETTE.length], dash: line.dash ? [6, 4] : undefined};
      return {color: PALETTE[g % PALETTE.length], dash: line.dash ? [6, 4] : METRIC_DASH[m % METRIC_DASH.length]};
    });
  }

  function lineLabel(line) {
    // Side by side, each chart's caption names its run; overlaid, the legend does.
    if (data.layout === "side" || data.runs.length < 2) return line.label;
    return data.runs[line.run].label + " · " + line.label;
  }

  function xAxis(chart) {
    if (chart.kind === "percentile") return {label: "percentile", values: function (u, vals) { return vals.map(percentLabel); },
      splits: function (u) {
        var out = [];
        for (var v = 1; v <= u.scales.x.max * 1.0001; v *= 10) out.push(v);
        return out;
      }};
    if (chart.kind === "bars") return {label: "kind", values: function (u, vals) {
      return vals.map(function (v) { return Number.isInteger(v) && chart.categories[v] != null ? chart.categories[v] : ""; });
    }, splits: function () { return chart.categories.map(function (_, i) { return i; }); }};
    if (chart.kind === "rate") return {label: "rate asked (lines/s)", values: function (u, vals) {
      return vals.map(function (v) { return unitLabel("lines/s", v); });
    }};
    return {label: "seconds"};
  }

  function xScale(chart, lines) {
    if (chart.kind === "percentile") {
      var most = 10;
      lines.forEach(function (line) { most = Math.max(most, line.x[line.x.length - 1]); });
      return {time: false, distr: 3, log: 10, range: [1, Math.pow(10, Math.ceil(Math.log10(most)))]};
    }
    if (chart.kind === "bars") return {time: false, range: [-0.6, Math.max(chart.categories.length - 1, 0) + 0.6]};
    return {time: false};
  }

  function yRange(lines, axis) {
    var hi = 0;
    lines.forEach(function (line) {
      if (line.axis !== axis) return;
      line.y.forEach(function (v) { if (v != null && v > hi) hi = v; });
    });
    return [0, hi > 0 ? hi * 1.05 : 1];
  }

  function draw(chart, lines, box, ranges) {
    var runs = {};
    lines.forEach(function (line) { runs[line.run] = true; });
    var n = Object.keys(runs).length;
    var runIndex = Object.keys(runs).map(Number).sort();
    var tables = lines.map(function (line) {
      var x = line.x;
      if (chart.kind === "bars" && n > 1) {
        var shift = (runIndex.indexOf(line.run) - (n - 1) / 2) * 0.8 / n;
        x = x.map(function (v) { return v + shift; });
      }
      return [x, line.y];
    });
    var aligned = uPlot.join(tables);
    var looks = styles(lines);
    var series = [{label: xAxis(chart).label}].concat(lines.map(function (line, i) {
      var s = {label: lineLabel(line), stroke: looks[i].color, width: 1.5, spanGaps: true,
               scale: line.axis === 2 ? "y2" : "y", dash: looks[i].dash,
               value: function (u, v) { return v == null ? "–" : unitLabel(line.axis === 2 ? chart.y2 : chart.y, v); }};
      if (chart.kind === "bars") {
        s.paths = uPlot.paths.bars({size: [0.8 / Math.max(n, 1), 80]});
        s.fill = looks[i].color;
        s.points = {show: false};
      } else if (chart.kind === "rate") {
        s.points = {show: true, size: 6};
      }
      return s;
    }));
    var axes = [xAxis(chart), {label: chart.y, scale: "y", values: function (u, vals) {
      return vals.map(function (v) { return unitLabel(chart.y, v); });
    }}];
    var scales = {x: xScale(chart, lines), y: {range: ranges.y}};
    if (chart.y2) {
      axes.push({label: chart.y2, scale: "y2", side: 1, grid: {show: false},
                 values: function (u, vals) { return vals.map(function (v) { return unitLabel(chart.y2, v); }); }});
      scales.y2 = {range: ranges.y2};
    }
    var width = Math.max(320, box.clientWidth - 8);
    return new uPlot({width: width, height: 260, series: series, axes: axes, scales: scales,
                      legend: {live: true}, cursor: {drag: {x: true, y: false}}}, aligned, box);
  }

  function ranges(lines) {
    return {y: yRange(lines, 1), y2: yRange(lines, 2)};
  }

  var root = document.getElementById("charts");
  var drawn = 0;
  data.charts.forEach(function (chart) {
    var section = document.createElement("section");
    section.className = "chart-row" + (data.layout === "side" ? " side" : "");
    var heading = document.createElement("h3");
    heading.textContent = chart.title;
    section.appendChild(heading);
    var row = document.createElement("div");
    row.className = "chart-cells";
    section.appendChild(row);
    root.appendChild(section);
    var shared = ranges(chart.lines);
    var groups = data.layout === "side" ?
      data.runs.map(function (_, run) { return chart.lines.filter(function (l) { return l.run === run; }); }) :
      [chart.lines];
    // Every box first, then the charts: each takes its box's width.
    var boxes = groups.map(function (lines, i) {
      var box = document.createElement("div");
      box.className = "chart";
      box.dataset.chart = chart.title;
      if (data.layout === "side") {
        var caption = document.createElement("div");
        caption.className = "run-caption";
        caption.textContent = data.runs[i].label;
        box.appendChild(caption);
      }
      row.appendChild(box);
      return box;
    });
    groups.forEach(function (lines, i) {
      var box = boxes[i];
      if (lines.length) {
        draw(chart, lines, box, shared);
        drawn += 1;
      } else {
        box.appendChild(document.createTextNode("not in this run"));
        box.classList.add("empty");
      }
    });
  });
  document.body.dataset.chartsDrawn = String(drawn);
})();
