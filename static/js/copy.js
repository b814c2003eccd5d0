// Copy buttons next to a <pre>: they stay hidden without JS, where the text can be selected by hand.
// Delegated, so buttons inside fragments swapped in later work too.
(function () {
  function reveal(root) {
    root.querySelectorAll("button.copy").forEach(function (button) { button.hidden = false; });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy");
    if (!button) return;
    var pre = button.parentElement.querySelector("pre");
    if (!pre) return;
    var done = function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(pre.textContent).then(done);
    } else {
      var range = document.createRange();
      range.selectNodeContents(pre);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      document.execCommand("copy");
      done();
    }
  });
  reveal(document);
  window.s2sRevealCopyButtons = reveal;
})();
