// The console's own script: the schema check as you type, live updates, revealing secrets.
// No framework, no build step; every page works without it, only less conveniently.
"use strict";

const body = document.body;
const csrf = body.dataset.csrf;

function post(url, fields) {
  const form = new FormData();
  form.append("csrf_token", csrf);
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  return fetch(url, { method: "POST", body: form, headers: { "X-CSRF-Token": csrf } });
}

// As you type: is it JSON, an object, and does it pass the schema? (Checked again on save.)
const editor = document.getElementById("value");
const check = document.getElementById("check");
if (editor && check && !editor.readOnly) {
  const url = editor.dataset.check;
  let timer = null;
  editor.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const answer = await (await post(url, { value: editor.value })).json();
      check.textContent = answer.ok ? "Valid JSON, passes the schema." : answer.error;
      check.className = answer.ok ? "check ok" : "check error";
    }, 250);
  });
}

// Live: the store's changes, as they happen (server-sent events).
if (body.dataset.ns) {
  const events = new EventSource(`/ns/${encodeURIComponent(body.dataset.ns)}/events`);
  const live = document.getElementById("live");
  events.onopen = () => live && live.classList.add("on");
  events.onerror = () => live && live.classList.remove("on");
  events.addEventListener("change", (message) => {
    const change = JSON.parse(message.data);
    if (body.dataset.page === "namespace") showInTable(change);
    if (body.dataset.page === "editor" && change.config === body.dataset.config
        && change.revision !== body.dataset.base) {
      document.getElementById("stale").hidden = false;
    }
  });
}

function showInTable(change) {
  const table = document.querySelector("#configs tbody");
  let row = table.querySelector(`tr[data-config="${CSS.escape(change.config)}"]`);
  if (change.kind === "delete") {
    if (row) row.remove();
    return;
  }
  if (!row) {
    row = document.createElement("tr");
    row.dataset.config = change.config;
    const link = document.createElement("a");
    link.href = `/ns/${encodeURIComponent(body.dataset.ns)}/c/${encodeURIComponent(change.config)}`;
    link.textContent = change.config;
    const name = row.insertCell();
    name.append(link);
    row.insertCell().className = "value";
    row.insertCell().className = "revision";
    table.append(row);
  }
  if (change.kind === "rejected") {
    row.classList.add("rejected");
    return;
  }
  row.classList.remove("rejected");
  const code = document.createElement("code");
  code.textContent = change.value;
  row.querySelector(".value").replaceChildren(code);
  row.querySelector(".revision").textContent = change.revision;
  row.classList.add("changed");
  setTimeout(() => row.classList.remove("changed"), 1500);
}

// Reveal a secret field's value, on request only.
for (const button of document.querySelectorAll("button.reveal")) {
  button.addEventListener("click", async () => {
    const answer = await (await fetch(button.dataset.url)).json();
    button.nextElementSibling.textContent =
      "value" in answer ? JSON.stringify(answer.value) : answer.error;
  });
}

// The "new configuration" form goes straight to its editor.
const newForm = document.getElementById("new-form");
if (newForm) {
  newForm.addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    const name = document.getElementById("new-name").value;
    location.href = `/ns/${encodeURIComponent(body.dataset.ns)}/c/${encodeURIComponent(name)}`;
  });
}
