// Asked once: offer the browser's own time zone to a user who has not chosen one. Without JS the
// banner offers the time zone page instead.
(function () {
  var banner = document.getElementById("time-zone-ask");
  if (!banner || !window.Intl) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  var input = banner.querySelector("input[name=time_zone]");
  var button = banner.querySelector("button.use-browser");
  if (!zone || !input || !button) return;
  input.value = zone;
  button.textContent = "Use " + zone;
  button.hidden = false;
})();
