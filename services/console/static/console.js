// Draws each <canvas data-chart> with Chart.js: a bracket chart (net sales, open orders stacked on
// top, the next threshold as a line) or plain bars; the figures come from the page itself.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.Chart) return;
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var d = JSON.parse(canvas.dataset.chart);
    var num = function (xs) { return (xs || []).map(function (x) { return x === null ? null : Number(x); }); };
    var sets = [{ label: d.series[0], data: num(d.net), backgroundColor: "#1f6feb", stack: "s" }];
    if (d.pending) sets.push({ label: d.series[1], data: num(d.pending), backgroundColor: "#9ec1ff", stack: "s" });
    if (d.next) sets.push({ label: d.series[d.series.length - 1], data: num(d.next), type: "line",
      borderColor: "#d93025", backgroundColor: "#d93025", showLine: false, pointStyle: "line", pointRadius: 18, borderWidth: 3 });
    new Chart(canvas, { type: "bar", data: { labels: d.labels, datasets: sets },
      options: { indexAxis: canvas.dataset.kind === "bracket" ? "y" : "x", animation: false, responsive: true,
        scales: { x: { stacked: true }, y: { stacked: true } } } });
    canvas.dataset.drawn = "1";
  });
});
