// The app form names its key field after the chosen provider: Adjust calls it an app token,
// Tenjin an SDK key. Without JS the label reads "App token / SDK key".
(function () {
  var key = document.getElementById("id_app_key");
  var provider = document.getElementById("id_provider");
  var label = document.querySelector('label[for="id_app_key"]');
  if (!key || !provider || !label || !key.dataset.labels) return;
  var labels = {};
  key.dataset.labels.split("|").forEach(function (pair) {
    var parts = pair.split("=");
    labels[parts[0]] = parts[1];
  });
  function update() {
    var text = label.firstChild;
    // Keep the space before "(optional)", if the label has one.
    if (labels[provider.value]) text.textContent = labels[provider.value] + (/\s$/.test(text.textContent) ? " " : "");
  }
  provider.addEventListener("change", update);
  update();
})();
