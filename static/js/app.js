// Starts GOV.UK Frontend's components. A module file, so the CSP needs no 'unsafe-inline'.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

document.body.classList.add("govuk-frontend-supported");
initAll();

// Any select marked data-autosubmit submits its form on change (the partnership switcher);
// the form keeps a submit button for people without JavaScript.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.dataset.autosubmit !== undefined && target.form) {
    target.form.requestSubmit();
  }
});

// Re-initialise components in content swapped in by htmx.
document.body.addEventListener("htmx:afterSettle", (event) => {
  initAll({ scope: event.target });
});
