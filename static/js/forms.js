// Progressive enhancement: a form marked data-once disables its submit button after the first
// submit, so a double click sends one request. The server is idempotent anyway.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-once")) return;
  if (form.dataset.submitted === "1") { event.preventDefault(); return; }
  form.dataset.submitted = "1";
  for (const button of form.querySelectorAll("button, input[type=submit]")) {
    button.setAttribute("aria-disabled", "true");
    window.setTimeout(() => { button.disabled = true; }, 0);
  }
});

// A form marked data-confirm asks before it submits (destructive actions such as resetting a sandbox).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (!window.confirm(form.dataset.confirm)) event.preventDefault();
}, true);
