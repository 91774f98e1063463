// The dashboard reads the same API as any client: JSON state every two seconds and the live event stream.
// The token, when the monitor asks for one, stays in this tab's session storage.
"use strict";

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("cq-token") || "";
const maxEvents = 200;

function headers() {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function getJson(path) {
  const response = await fetch(path, { headers: headers() });
  if (response.status === 401) {
    $("token-form").hidden = false;
    throw new Error("the monitor wants a token");
  }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  if (className) td.className = className;
  return td;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    tr.append(...cells);
    return tr;
  }));
}

function renderWorkers(workers) {
  fill($("workers").tBodies[0], workers.map((w) => [
    cell(w.hostname),
    cell(w.alive ? "alive" : "offline", w.alive ? "alive" : "dead"),
    cell(w.aliveBy),
    cell(w.active),
    cell(w.processed),
    cell(w.loadavg ? w.loadavg.join(" ") : ""),
    cell(w.swIdent ? `${w.swIdent} ${w.swVer}` : ""),
  ]));
}

function renderTypes(types) {
  $("types").replaceChildren(...types.map((t) => {
    const bar = document.createElement("div");
    bar.className = "bar";
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = `${t.name} (${t.total})`;
    const track = document.createElement("span");
    track.className = "track";
    const inState = Object.values(t.states).reduce((a, b) => a + b, 0) || 1;
    for (const [state, count] of Object.entries(t.states)) {
      const seg = document.createElement("span");
      seg.className = `seg-${state}`;
      seg.style.width = `${(100 * count) / inState}%`;
      seg.title = `${state}: ${count}`;
      track.append(seg);
    }
    const runtime = document.createElement("span");
    runtime.textContent = t.runtimeP50 == null ? "" : `p50 ${t.runtimeP50.toFixed(3)} s, p99 ${t.runtimeP99.toFixed(3)} s`;
    bar.append(name, track, runtime);
    return bar;
  }));
}

function renderTasks(tasks) {
  const needle = $("search").value.trim().toLowerCase();
  const shown = needle
    ? tasks.filter((t) => [t.uuid, t.name, t.worker, t.args].some((v) => (v || "").toLowerCase().includes(needle)))
    : tasks;
  fill($("tasks").tBodies[0], shown.map((t) => [
    cell(t.uuid, "mono"),
    cell(t.name),
    cell(t.state, `state-${t.state}`),
    cell(t.worker),
    cell(t.args, "mono"),
    cell(t.result ?? t.exception, "mono"),
    cell(t.runtime == null ? "" : `${t.runtime.toFixed(3)} s`),
  ]));
}

async function refresh() {
  try {
    const state = $("state").value;
    const [workers, types, tasks] = await Promise.all([
      getJson("/api/workers"),
      getJson("/api/types"),
      getJson(`/api/tasks?limit=500${state ? `&state=${encodeURIComponent(state)}` : ""}`),
    ]);
    renderWorkers(workers);
    renderTypes(types);
    renderTasks(tasks);
    $("status").textContent = `${workers.filter((w) => w.alive).length} of ${workers.length} workers alive, ${tasks.length} tasks shown`;
  } catch (error) {
    $("status").textContent = error.message;
  }
}

function addEvent(id, type, data) {
  const li = document.createElement("li");
  const who = data.uuid ? ` ${data.uuid}` : "";
  li.textContent = `#${id} ${type} ${data.hostname}${who}`;
  const list = $("events");
  list.prepend(li);
  while (list.children.length > maxEvents) list.lastChild.remove();
}

// Server-sent events over fetch, so the Authorization header can go with them; resumes after the last id.
async function stream() {
  let last = "";
  for (;;) {
    try {
      const response = await fetch("/api/events", { headers: { ...headers(), ...(last ? { "Last-Event-ID": last } : {}) } });
      if (!response.ok) throw new Error(`event stream: HTTP ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = {};
          for (const line of block.split("\n")) {
            const colon = line.indexOf(": ");
            if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 2);
          }
          if (fields.id) last = fields.id;
          if (fields.data && fields.event && fields.event !== "close" && fields.event !== "gap") {
            addEvent(fields.id, fields.event, JSON.parse(fields.data));
          }
        }
      }
    } catch (error) {
      $("status").textContent = error.message;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

$("token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value;
  sessionStorage.setItem("cq-token", token);
  $("token-form").hidden = true;
  refresh();
});
$("search").addEventListener("input", refresh);
$("state").addEventListener("change", refresh);
refresh();
setInterval(refresh, 2000);
stream();
