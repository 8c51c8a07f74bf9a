// Run page log: follow the tail while the reader is at the bottom, pause when
// they scroll up (offering a jump back), filter to errors and warnings, and
// keep the live stream's cursor current so any reconnect resumes after the
// last line shown. Without EventSource, fall back to polling with a cursor.
(function () {
  "use strict";
  const live = document.getElementById("run-live");
  const log = document.getElementById("log");
  const lines = document.getElementById("log-lines");
  if (!live || !log || !lines) return;
  const jump = document.getElementById("log-jump");
  const problemsOnly = document.getElementById("log-problems-only");
  let following = true;

  const lastSeq = () => {
    const last = lines.lastElementChild;
    return last ? Number(last.dataset.seq) : 0;
  };
  const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const toBottom = () => { log.scrollTop = log.scrollHeight; };

  log.addEventListener("scroll", () => {
    following = atBottom();
    if (following) jump.hidden = true;
  });
  new MutationObserver((mutations) => {
    // A line already shown never shows twice, whatever a reconnect sends.
    for (const mutation of mutations) {
      for (const node of mutation.addedNodes) {
        if (node.id && document.querySelectorAll("#" + node.id).length > 1) node.remove();
      }
    }
    const connect = live.getAttribute("sse-connect");
    if (connect) live.setAttribute("sse-connect", connect.replace(/after=\d+/, "after=" + lastSeq()));
    const empty = document.getElementById("log-empty");
    if (empty && lines.children.length) empty.remove();
    if (following) toBottom(); else jump.hidden = false;
  }).observe(lines, { childList: true });
  jump.addEventListener("click", () => { following = true; jump.hidden = true; toBottom(); });
  problemsOnly.addEventListener("change", () => log.classList.toggle("problems-only", problemsOnly.checked));

  if (live.hasAttribute("sse-connect") && !("EventSource" in window)) {
    live.removeAttribute("sse-connect");
    const follower = document.getElementById("log-follower");
    follower.setAttribute("hx-get", live.dataset.pollUrl + "?after=" + lastSeq());
    follower.setAttribute("hx-trigger", "every 1s");
    follower.setAttribute("hx-swap", "outerHTML");
    htmx.process(follower);
  }
  toBottom();
})();
