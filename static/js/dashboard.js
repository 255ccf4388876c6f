// Researcher dashboard: re-read the CONSORT counts and preparation progress every 10 s
// without reloading the page. The counts URL comes from the table's data-counts-url.
(function () {
  "use strict";
  var table = document.getElementById("consort");
  if (!table || !table.dataset.countsUrl) { return; }
  var url = table.dataset.countsUrl;
  setInterval(function () {
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
      var rows = table.querySelectorAll("tbody tr");
      var names = Object.keys(data.counts.conditions);
      rows.forEach(function (tr, i) {
        var counts = data.counts.conditions[names[i]]; if (!counts) { return; }
        data.counts.statuses.forEach(function (status, j) { tr.children[j + 1].textContent = counts[status]; });
      });
      var prep = data.preparation;
      var line = document.getElementById("preparation");
      if (line) { line.firstChild.textContent = prep.state + " (" + prep.done + " / " + prep.total + " explanations)"; }
    }).catch(function () {});
  }, 10000);
})();
