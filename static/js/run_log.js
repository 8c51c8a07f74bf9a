// Run page log: follow the tail while the reader is at the bottom, pause when
// they scroll up (offering a jump back), and filter to errors and warnings.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const lines = document.getElementById("log-lines");
  if (!log || !lines) return;
  const jump = document.getElementById("log-jump");
  const problemsOnly = document.getElementById("log-problems-only");
  let following = true;

  const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const toBottom = () => { log.scrollTop = log.scrollHeight; };

  log.addEventListener("scroll", () => {
    following = atBottom();
    if (following) jump.hidden = true;
  });
  new MutationObserver(() => {
    const empty = document.getElementById("log-empty");
    if (empty && lines.children.length) empty.remove();
    if (following) toBottom(); else jump.hidden = false;
  }).observe(lines, { childList: true });
  jump.addEventListener("click", () => { following = true; jump.hidden = true; toBottom(); });
  problemsOnly.addEventListener("change", () => log.classList.toggle("problems-only", problemsOnly.checked));
  toBottom();
})();
