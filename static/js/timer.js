// Progressive enhancement: count down to the server's deadline. The server enforces the limit;
// this only keeps the trainee informed. Announces at 5 and 1 minutes left for screen readers.
(() => {
  const el = document.querySelector(".timer[data-deadline]");
  if (!el) return;
  const deadline = Date.parse(el.dataset.deadline);
  const strong = el.querySelector("strong");
  let announced = new Set();
  const tick = () => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    strong.textContent = `${Math.floor(left / 60)} min ${left % 60} s`;
    for (const mark of [300, 60]) {
      if (left <= mark && !announced.has(mark)) { announced.add(mark); el.setAttribute("aria-live", "assertive"); }
    }
    if (left === 0) { window.location.reload(); return; }
    window.setTimeout(tick, 1000);
  };
  tick();
})();
