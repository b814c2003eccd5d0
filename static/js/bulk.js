// A bulk send's page follows its progress: the server-rendered fragment is fetched again every
// 1.5 s and swapped in; when the bulk's state changes (checked, all queued) the whole page reloads
// for the report. Without JS a <noscript> refresh reloads the page instead.
// The progress bar's parts are sized here from data-percent: the Content-Security-Policy
// (style-src 'self') ignores style= attributes in the HTML, not styles set from a script.
(function () {
  document.documentElement.classList.add("js");
  function paint(root) {
    root.querySelectorAll(".bulk-bar [data-percent]").forEach(function (part) {
      part.style.width = part.dataset.percent + "%";
    });
  }
  var box = document.getElementById("bulk-progress");
  if (!box) return;
  paint(box);
  if (box.dataset.live !== "1") return;
  var state = box.dataset.state;
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var template = document.createElement("template");
        template.innerHTML = html.trim();
        var next = template.content.querySelector("#bulk-progress");
        if (!next) return;
        if (next.dataset.state !== state) {
          window.location.reload();
          return;
        }
        paint(next);
        box.replaceWith(next);
        box = next;
        if (box.dataset.live === "1") setTimeout(poll, 1500);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1500);
})();
