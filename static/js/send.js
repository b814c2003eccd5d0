// The test form: a live preview (a server-rendered fragment), the production warning, the expected
// format of the chosen device id type, more key/value rows, and Tenjin's purchase fields.
// Everything works without it: the Preview button posts the whole form.
(function () {
  var picker = document.getElementById("app-picker");
  if (picker) {
    picker.querySelector("select").addEventListener("change", function () { picker.submit(); });
  }
  var form = document.getElementById("send-form");
  if (!form) return;
  var preview = document.getElementById("preview");

  var timer = null;
  function refreshPreview() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var data = new FormData(form);
      data.delete("action");
      fetch(form.dataset.previewUrl, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null) return;
          preview.innerHTML = html;
          if (window.s2sRevealCopyButtons) window.s2sRevealCopyButtons(preview);
        });
    }, 350);
  }

  var environment = form.querySelector("[name=environment]");
  var warning = document.getElementById("production-warning");
  function showWarning() {
    if (environment && warning) warning.hidden = environment.value !== "production";
  }

  function showIdHint(select) {
    var option = select.selectedOptions[0];
    var row = select.closest(".id-row");
    if (!option || !row) return;
    var input = row.querySelector("input");
    var hint = row.querySelector(".id-hint");
    if (input) input.placeholder = option.dataset.example || "";
    if (hint) hint.textContent = option.value + ": " + (option.dataset.rule || "") + ", like " + (option.dataset.example || "");
  }

  var event = form.querySelector("[name=event_token]");
  function showKind() {
    var option = event && event.selectedOptions[0];
    if (!option || !option.dataset.kind) return;
    form.querySelectorAll("fieldset[data-kind]").forEach(function (fieldset) {
      fieldset.hidden = fieldset.dataset.kind !== option.dataset.kind;
    });
  }

  form.querySelectorAll("fieldset.rows").forEach(function (fieldset) {
    var button = fieldset.querySelector(".add-row");
    var list = fieldset.querySelector(".row-list");
    if (!button || !list) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var rows = list.children;
      var copy = rows[rows.length - 1].cloneNode(true);
      var index = rows.length;
      copy.querySelectorAll("input, select, label").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(/_\d+$/, "_" + index));
        });
        if (el.tagName === "INPUT") el.value = "";
      });
      copy.querySelectorAll(".error").forEach(function (el) { el.remove(); });
      copy.classList.remove("has-error");
      list.appendChild(copy);
      var first = copy.querySelector("input, select");
      if (first) first.focus();
    });
  });

  form.addEventListener("input", refreshPreview);
  form.addEventListener("change", function (e) {
    if (e.target === environment) showWarning();
    if (e.target === event) showKind();
    if (e.target.matches(".id-row select")) showIdHint(e.target);
    refreshPreview();
  });
  showWarning();
  showKind();
  // A fresh form waits for input; a cloned or re-shown one is previewed at once.
  if (form.dataset.previewNow === "true") refreshPreview();
})();
