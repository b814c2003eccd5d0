// The request log's auto-refresh: when switched on, the first page's results are fetched again
// every 5 s (a server-rendered fragment), leaving the filter form as it is. Remembered per tab.
(function () {
  var box = document.getElementById("auto-refresh");
  var label = document.getElementById("auto-refresh-label");
  var results = document.getElementById("log-results");
  if (!box || !results) return;
  box.hidden = false;
  label.hidden = false;
  var firstPage = results.dataset.firstPage === "true";
  box.checked = sessionStorage.getItem("s2s-log-refresh") === "on";
  var timer = null;
  function tick() {
    fetch(results.dataset.url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) results.innerHTML = html; });
  }
  function apply() {
    sessionStorage.setItem("s2s-log-refresh", box.checked ? "on" : "off");
    clearInterval(timer);
    if (!box.checked) return;
    if (!firstPage) {
      // Refreshing an older page would jump: go to the newest rows with the same filters.
      window.location = results.dataset.url.replace(/[?&]fragment=results$/, "");
      return;
    }
    timer = setInterval(function () { if (!document.hidden) tick(); }, 5000);
  }
  box.addEventListener("change", apply);
  if (box.checked && firstPage) apply();
})();
