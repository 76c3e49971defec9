// Live progress of a background job (a large announcement or draw): polls the element's data-progress-url
// every 2 seconds and reloads the page when the job is done, so nobody has to press 刷新.
(function () {
  const box = document.querySelector("[data-progress-url]");
  if (!box) return;
  const url = box.getAttribute("data-progress-url");
  const bar = document.getElementById("job-bar");
  const elapsed = document.getElementById("job-elapsed");
  const started = Date.now();
  let failures = 0;
  async function poll() {
    const seconds = Math.round((Date.now() - started) / 1000);
    if (elapsed) elapsed.textContent = "已用时 " + seconds + " 秒";
    // No percentage is known: the bar creeps towards 95% so that it shows the work is alive.
    if (bar) bar.style.width = Math.min(95, 5 + 90 * (1 - Math.exp(-seconds / 60))) + "%";
    try {
      const answer = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (answer.ok) {
        failures = 0;
        const state = await answer.json();
        if (!state.running) {
          if (bar) bar.style.width = "100%";
          if (elapsed) elapsed.textContent = "已完成：" + state.label + "，正在显示结果…";
          window.location.reload();
          return;
        }
      } else {
        failures += 1;
      }
    } catch (e) {
      failures += 1;
    }
    if (failures >= 5 && elapsed) elapsed.textContent = "暂时无法获取进度，稍后将自动重试";
    setTimeout(poll, 2000);
  }
  setTimeout(poll, 1000);
})();
