// wholejob dashboard: progressive enhancement only; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Ask before destructive forms (e.g. removing a user).
  document.querySelectorAll("form.confirm").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm || "Are you sure?")) event.preventDefault();
    });
  });
  // Follow a running import without reloading the page.
  const job = document.getElementById("job");
  if (job && (job.dataset.status === "running" || job.dataset.status === "queued")) {
    const poll = async () => {
      try {
        const response = await fetch(job.dataset.jobUrl, { credentials: "same-origin" });
        if (!response.ok) return;
        const data = await response.json();
        document.getElementById("job-status").textContent = data.status;
        document.getElementById("job-step").textContent = data.step || "";
        document.getElementById("job-progress").value = data.progress || 0;
        if (data.status === "done" || data.status === "failed") { window.location.reload(); return; }
      } catch (e) { /* the meta refresh still reloads the page */ }
      window.setTimeout(poll, 700);
    };
    window.setTimeout(poll, 300);
  }
});
