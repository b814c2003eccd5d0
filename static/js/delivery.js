// The delivery page polls its status fragment every 1.5 s until the delivery is final. Attempts a
// reader opened stay open across updates; without JS a <noscript> refresh does the same.
(function () {
  var region = document.getElementById("status-region");
  if (!region) return;
  function current() { return region.querySelector("#delivery-status"); }
  function poll() {
    var status = current();
    if (!status || status.dataset.final === "true") return;
    fetch(status.dataset.url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && html !== region.dataset.last) {
          var open = Array.prototype.map.call(region.querySelectorAll("details[open][id]"), function (el) { return el.id; });
          region.dataset.last = html;
          region.innerHTML = html;
          open.forEach(function (id) { var el = document.getElementById(id); if (el) el.open = true; });
          if (window.s2sRevealCopyButtons) window.s2sRevealCopyButtons(region);
        }
        setTimeout(poll, 1500);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
