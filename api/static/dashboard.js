// The dashboard's script: reads the API with the key the user typed (kept in the browser session),
// shows every panel in the chosen language (words from the server's message catalogues, numbers and
// dates by the browser's Intl in that locale, dates and hours in the organisation's time zone) and
// draws the charts with the vendored Apache ECharts (its built-in zh-CN locale for the chart chrome).
"use strict";

const LANGUAGES = ["zh-CN", "en"];
const state = {
  key: sessionStorage.getItem("servicetrail-key") || "", board: [], sortBy: "score", stream: null,
  lang: chooseLanguage(), zone: "UTC", messages: {}, loaded: false,
};
// ?as_of=T shows the page as of a past moment (e.g. a replayed data set): every panel asks for it
// (the read side answers any moment from indexed state), and ranges end there.
const pageAsOf = new URLSearchParams(location.search).get("as_of");
const pageNow = () => pageAsOf ? new Date(pageAsOf) : new Date();
const asOfParam = pageAsOf ? `&as_of=${encodeURIComponent(new Date(pageAsOf).toISOString())}` : "";
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c]));

// ------------------------------------------------------------------------------------ language
// The language: the user's choice (the switch, remembered), else the browser's first of ours.
function chooseLanguage() {
  const chosen = localStorage.getItem("servicetrail-lang");
  if (LANGUAGES.includes(chosen)) return chosen;
  for (const tag of navigator.languages || [navigator.language]) {
    if (/^zh\b/i.test(tag) && !/^zh-(TW|HK|MO|Hant)/i.test(tag)) return "zh-CN";
    if (/^en\b/i.test(tag)) return "en";
  }
  return "en";
}

// A message of the catalogue (its id is the English text), with {name} placeholders filled.
function t(message, values) {
  const text = state.messages[message] ?? message;
  return values ? text.replace(/\{(\w+)\}/g, (whole, name) => name in values ? values[name] : whole) : text;
}

async function loadLanguage(lang) {
  const response = await fetch(`/dashboard/i18n.json?lang=${encodeURIComponent(lang)}`);
  const body = await response.json();
  Object.assign(state, { lang: body.lang, zone: body.timezone, messages: body.messages });
  document.documentElement.lang = state.lang;
  $("lang").value = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of document.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  $("zone").textContent = t("Time zone: {zone}", { zone: state.zone });
  if (!state.stream) setStatus("idle");
  if (pageAsOf) $("page-as-of").textContent = t("as of {moment}", { moment: when(pageAsOf) });
}

// --------------------------------------------------------------------------- numbers and dates
const numberFormat = (digits) => new Intl.NumberFormat(state.lang, { minimumFractionDigits: digits, maximumFractionDigits: digits });
const num = (x, d = 0) => x == null ? "–" : numberFormat(d).format(x);
const pct = (x, d = 1) => x == null ? "–" : new Intl.NumberFormat(state.lang, {
  style: "percent", minimumFractionDigits: d, maximumFractionDigits: d }).format(x);
const dur = (s) => s == null ? "–" : s < 3600 ? t("{value} min", { value: num(s / 60) }) : t("{value} h", { value: num(s / 3600, 1) });
const when = (instant) => new Intl.DateTimeFormat(state.lang, {
  timeZone: state.zone, dateStyle: "medium", timeStyle: "short" }).format(new Date(instant));
const dayLabel = (instant) => new Intl.DateTimeFormat(state.lang, { timeZone: state.zone, month: "short", day: "numeric" })
  .format(new Date(instant));
const hourLabel = (instant) => new Intl.DateTimeFormat(state.lang, { timeZone: state.zone, hour: "2-digit", minute: "2-digit",
  hourCycle: "h23" }).format(new Date(instant));
// The calendar date (YYYY-MM-DD) of an instant in the organisation's time zone.
function zonedDate(instant) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: state.zone, year: "numeric",
    month: "2-digit", day: "2-digit" }).formatToParts(instant).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

// --------------------------------------------------------------------------------------- charts
// One ECharts instance per chart element, made again when the language changes (the locale of
// ECharts' own words is fixed when an instance is made). No animation: a chart is drawn at once.
function drawChart(id, option, description) {
  const el = $(id);
  let chart = echarts.getInstanceByDom(el);
  if (chart && el.dataset.lang !== state.lang) { chart.dispose(); chart = null; }
  if (!chart) {
    chart = echarts.init(el, null, { locale: state.lang === "zh-CN" ? "ZH" : "EN", renderer: "canvas" });
    el.dataset.lang = state.lang;
  }
  chart.setOption({ animation: false, aria: { enabled: true, label: { description } },
                    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily }, ...option }, true);
  el.setAttribute("role", "img");
}
function clearChart(id) {
  const chart = echarts.getInstanceByDom($(id));
  if (chart) chart.dispose();
  $(id).removeAttribute("role");
  $(id).removeAttribute("aria-label");
}
window.addEventListener("resize", () => document.querySelectorAll("[data-panel]").forEach((el) => {
  const chart = echarts.getInstanceByDom(el);
  if (chart) chart.resize();
}));

// ------------------------------------------------------------------------------------------ API
async function api(path) {
  const response = await fetch(path, { headers: { Authorization: "Bearer " + state.key } });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(problem.detail || response.statusText);
  }
  return response.json();
}

function ranges() {
  const days = Number($("range").value), to = pageNow(), from = new Date(to - days * 864e5);
  return { days, to, from, prevFrom: new Date(from - days * 864e5) };
}

// ----------------------------------------------------------------------------------------- KPIs
async function loadKpis() {
  const r = ranges();
  const q = (a, b) => `/v1/kpis?from=${a.toISOString()}&to=${b.toISOString()}` + asOfParam;
  const [now, before] = await Promise.all([api(q(r.from, r.to)), api(q(r.prevFrom, r.from))]);
  const k = now.groups.all, p = before.groups.all;
  $("kpi-range").textContent = t("({days} days, previous {days} days beside)", { days: r.days });
  const percent = (x) => x == null ? "–" : pct(x / 100);
  const cards = [
    ["volume", t("Volume"), k.volume, p.volume, (x) => num(x)], ["backlog", t("Backlog"), k.backlog, undefined, (x) => num(x)],
    ["frt", t("FRT median"), k.first_response_seconds.median, p.first_response_seconds.median, dur],
    ["frt_business", t("FRT median, business time"), k.first_response_business_seconds.median, p.first_response_business_seconds.median, dur],
    ["ttr", t("TTR median"), k.resolution_seconds.median, p.resolution_seconds.median, dur],
    ["ttr_business", t("TTR median, business time"), k.resolution_business_seconds.median, p.resolution_business_seconds.median, dur],
    ["fcr", t("FCR"), k.fcr_rate, p.fcr_rate, pct], ["csat", t("CSAT"), k.csat.percent, p.csat.percent, percent],
    ["nps", t("NPS"), k.nps.score, p.nps.score, (x) => num(x, 1)], ["sla", t("SLA compliance"), k.sla_compliance, p.sla_compliance, pct],
    ["escalation", t("Escalation rate"), k.escalation_rate, p.escalation_rate, pct],
  ];
  // the backlog is a count at one instant: shown "now", not beside an earlier range
  $("kpis").innerHTML = cards.map(([key, name, value, prev, fmt]) =>
    `<div class="kpi" data-kpi="${key}"><div>${esc(name)}</div><div class="value">${esc(fmt(value))}</div>` +
    (prev === undefined ? `<div class="before">${esc(t("now"))}</div>`
                   : `<div class="before">${esc(t("before: {value}", { value: fmt(prev) }))}</div>`) + `</div>`).join("");
}

// ------------------------------------------------------------------------------------- SLA risk
async function loadRisk() {
  const risk = await api("/v1/sla/risk?within_minutes=240" + asOfParam);
  const list = (items) => items.length ? "<ul>" + items.slice(0, 12).map((x) =>
    `<li><button class="link" data-ticket="${esc(x.ticket_id)}">${esc(x.ticket_id.slice(0, 8))}</button> ` +
    esc(t("{priority} level {level} · {deadline} due {due}", { priority: x.priority || "", level: x.escalation_level,
                                                                deadline: x.deadline, due: when(x.due_at) })) + `</li>`).join("") + "</ul>"
    : `<p class="empty">${esc(t("none"))}</p>`;
  $("risk").innerHTML = `<h3 class="bad">${esc(t("Breached ({count})", { count: risk.breached.length }))}</h3>${list(risk.breached)}` +
    `<h3 class="warn">${esc(t("About to breach within 4 h ({count})", { count: risk.about_to_breach.length }))}</h3>${list(risk.about_to_breach)}`;
}

// ---------------------------------------------------------------------------------- leaderboard
const COLUMNS = () => [["agent_id", t("Agent")], ["score", t("Score")], ["tickets_resolved", t("Resolved")], ["fcr_rate", t("FCR")],
                       ["csat", t("CSAT")], ["nps", t("NPS")], ["sla_compliance", t("SLA")], ["escalations_caused", t("Escalations")]];
const sortValue = (a, key) => key === "csat" ? a.csat.percent : key === "nps" ? a.nps.score : a[key];

async function loadBoard() {
  const period = zonedDate(pageNow()).slice(0, 7);  // the month in the organisation's time zone
  $("board-period").textContent = `(${new Intl.DateTimeFormat(state.lang, { year: "numeric", month: "long", timeZone: "UTC" })
    .format(new Date(period + "-15T00:00:00Z"))})`;
  state.board = (await api(`/v1/agents/leaderboard?period=${period}` + asOfParam)).agents;
  renderBoard();
}

function renderBoard() {
  if (!state.board.length) { $("board").innerHTML = `<p class="empty">${esc(t("No agent activity this month yet."))}</p>`; return; }
  const rows = [...state.board].sort((a, b) => {
    const x = sortValue(a, state.sortBy), y = sortValue(b, state.sortBy);
    return typeof x === "string" ? x.localeCompare(y) : (y ?? -1) - (x ?? -1);
  });
  $("board").innerHTML = `<table id="leaderboard"><thead><tr>${COLUMNS().map(([key, label]) =>
    `<th scope="col" aria-sort="${state.sortBy === key ? "descending" : "none"}"><button data-sort="${key}">${esc(label)}</button></th>`).join("")}</tr></thead><tbody>` +
    rows.map((a) => `<tr><td>${esc(a.agent_id)}</td><td>${num(a.score, 1)}</td><td>${num(a.tickets_resolved)}</td><td>${pct(a.fcr_rate)}</td>` +
      `<td>${a.csat.percent == null ? "–" : pct(a.csat.percent / 100, 0)}</td><td>${num(a.nps.score)}</td><td>${pct(a.sla_compliance)}</td>` +
      `<td>${num(a.escalations_caused)}</td></tr>`).join("") + "</tbody></table>";
}

// ------------------------------------------------------------------------ complaints and hotspots
async function loadHeat() {
  const report = await api("/v1/arrivals?group_by=category&freq=D&periods=14&measure=complaints" + asOfParam);
  const days = report.periods.map(dayLabel), counts = {};
  for (const s of report.slices) counts[s.slice.category] = s.counts;
  const cats = Object.keys(counts).sort();
  if (!cats.length) {
    clearChart("heat-chart");
    $("heat").innerHTML = `<p class="empty">${esc(t("No complaints in the last two weeks."))}</p>`;
    return;
  }
  const max = Math.max(1, ...Object.values(counts).flat());
  const cells = cats.flatMap((c, y) => counts[c].map((n, x) => [x, y, n]));
  drawChart("heat-chart", {
    tooltip: { position: "top", formatter: (p) => `${esc(cats[p.value[1]])} · ${esc(days[p.value[0]])}: ${num(p.value[2])}` },
    grid: { left: 110, right: 16, top: 10, bottom: 96 },
    xAxis: { type: "category", data: days, splitArea: { show: true }, axisLabel: { rotate: 45 } },
    yAxis: { type: "category", data: cats, splitArea: { show: true } },
    visualMap: { min: 0, max, calculable: false, orient: "horizontal", left: "center", bottom: 0, itemHeight: 120,
                 inRange: { color: ["#fff5f5", "#f4a3a3", "#a4161a"] } },
    series: [{ name: t("Complaints"), type: "heatmap", data: cells, label: { show: true, formatter: (p) => p.value[2] || "" } }],
  }, t("Complaints per category and day over the last {n} days; most in one cell: {max}.", { n: days.length, max: num(max) }));
  const caption = t("Complaints by category and day");
  $("heat").innerHTML = `<details><summary>${esc(t("As a table"))}</summary><div class="scroll" tabindex="0" role="region" ` +
    `aria-label="${esc(caption)}"><table class="grid heat"><thead><tr><th scope="col">${esc(t("Category"))}</th>` +
    days.map((d) => `<th scope="col">${esc(d)}</th>`).join("") + "</tr></thead><tbody>" +
    cats.map((c) => `<tr><th scope="row">${esc(c)}</th>` + counts[c].map((n) => `<td>${n || ""}</td>`).join("") + "</tr>").join("") +
    "</tbody></table></div></details>";
}

async function loadHotspots() {
  const report = await api("/v1/hotspots?group_by=category,region&window=7d" + asOfParam);
  const flagged = report.slices.filter((s) => s.abnormal || s.forecast_high);
  $("hotspots").innerHTML = !flagged.length
    ? `<p class="empty">${esc(t("No slice is abnormally high or forecast to be ({count} slices tested).", { count: report.slices.length }))}</p>`
    : `<table><thead><tr><th scope="col">${esc(t("Slice"))}</th><th scope="col">${esc(t("Observed"))}</th><th scope="col">${esc(t("Expected"))}</th>` +
      `<th scope="col">${esc(t("q-value"))}</th><th scope="col">${esc(t("next 7 days"))}</th></tr></thead><tbody>` + flagged.map((s) =>
        `<tr data-testid="hotspot"><td>${esc(Object.values(s.slice).join(" / "))}</td><td class="${s.abnormal ? "bad" : ""}">${num(s.observed)}</td>` +
        `<td>${num(s.expected, 1)}</td><td>${esc(s.q_value.toPrecision(2))}</td>` +
        `<td class="${s.forecast_high ? "warn" : ""}">${esc(t("{expected} (normal {normal})", { expected: num(s.next_expected, 1), normal: num(s.next_normal, 1) }))}</td></tr>`).join("") +
      "</tbody></table>";
}

// ------------------------------------------------------------------------- forecast and staffing
async function loadForecast() {
  const report = await api("/v1/forecasts?group_by=category&horizon=14&freq=D&limit=50" + asOfParam);
  const select = $("forecast-slice"), chosen = select.value;
  if (!report.slices.length) {
    clearChart("forecast-chart");
    $("forecast").innerHTML = `<p class="empty">${esc(t("No tickets yet to forecast from."))}</p>`;
    return;
  }
  select.innerHTML = report.slices.map((s) => `<option>${esc(s.slice.category)}</option>`).join("");
  if (chosen && report.slices.some((s) => s.slice.category === chosen)) select.value = chosen;
  const slice = report.slices.find((s) => s.slice.category === select.value) || report.slices[0];
  const actual = slice.recent, ahead = slice.periods;
  const blank = (list) => list.map(() => null);
  const labels = [...actual, ...ahead].map((p) => dayLabel(p.start));
  const names = { actual: t("Actual contacts"), point: t("Forecast (median)"), band: t("90 % interval") };
  drawChart("forecast-chart", {
    legend: { data: [names.actual, names.point, names.band], top: 0 },
    tooltip: { trigger: "axis", formatter: (items) => {
      const i = items[0].dataIndex, p = ahead[i - actual.length];
      return esc(labels[i]) + "<br>" + (p ? `${esc(names.point)}: ${num(p.point)}<br>${esc(names.band)}: ${num(p.lower)}–${num(p.upper)}`
                                          : `${esc(names.actual)}: ${num(actual[i].count)}`);
    } },
    grid: { left: 48, right: 16, top: 36, bottom: 28 },
    xAxis: { type: "category", data: labels, boundaryGap: false },
    yAxis: { type: "value", min: 0 },
    series: [
      { name: names.actual, type: "line", data: [...actual.map((p) => p.count), ...blank(ahead)], showSymbol: false,
        lineStyle: { color: "#1b1f24", width: 2 }, itemStyle: { color: "#1b1f24" } },
      { name: names.point, type: "line", data: [...blank(actual), ...ahead.map((p) => p.point)], showSymbol: false,
        lineStyle: { color: "#0b5cad", width: 2, type: "dashed" }, itemStyle: { color: "#0b5cad" } },
      { name: "lower", type: "line", stack: "interval", data: [...blank(actual), ...ahead.map((p) => p.lower)],
        showSymbol: false, lineStyle: { opacity: 0 }, silent: true },
      { name: names.band, type: "line", stack: "interval", data: [...blank(actual), ...ahead.map((p) => p.upper - p.lower)],
        showSymbol: false, lineStyle: { opacity: 0 }, areaStyle: { color: "rgba(11,92,173,.2)" }, itemStyle: { color: "rgba(11,92,173,.35)" }, silent: true },
    ],
  }, t("Daily {category} contacts: the last {days} days and a {horizon}-day forecast with its 90 % interval.",
       { category: slice.slice.category, days: actual.length, horizon: ahead.length }));
  const first = ahead[0];
  const accuracy = slice.accuracy
    ? t("backtest: relative MAE {mae}, MASE {mase}, WAPE {wape}", { mae: num(slice.accuracy.relative_mae, 2),
        mase: num(slice.accuracy.mase, 2), wape: pct(slice.accuracy.wape) })
    : t("backtest: not enough history yet");
  $("forecast").innerHTML = `<p data-testid="forecast-summary" data-point="${first.point}" data-lower="${first.lower}" data-upper="${first.upper}">` +
    esc(t("next day: {point} (90 % interval {lower}–{upper})", { point: num(first.point), lower: num(first.lower), upper: num(first.upper) })) +
    ` · ${esc(accuracy)}</p>`;
}

async function loadStaffing() {
  // Tomorrow in the organisation's time zone, as of the page's moment (the API plans local days).
  const tomorrow = zonedDate(new Date(pageNow().getTime() + 864e5));
  $("staffing-date").textContent = new Intl.DateTimeFormat(state.lang, { dateStyle: "long", timeZone: "UTC" })
    .format(new Date(tomorrow + "T12:00:00Z"));
  let plan;
  try { plan = await api(`/v1/staffing?date=${tomorrow}&interval=1h` + asOfParam); }
  catch (error) {
    clearChart("staffing-chart");
    $("staffing").innerHTML = `<p class="empty">${esc(error.message)}</p>`;
    return;
  }
  const hours = plan.intervals.map((i) => hourLabel(i.start));
  const names = { agents: t("Agents needed"), contacts: t("Contacts forecast") };
  drawChart("staffing-chart", {
    legend: { data: [names.agents, names.contacts], top: 0 },
    tooltip: { trigger: "axis" },
    grid: { left: 48, right: 48, top: 36, bottom: 28 },
    xAxis: { type: "category", data: hours },
    yAxis: [{ type: "value", name: names.agents, min: 0, minInterval: 1 }, { type: "value", name: names.contacts, min: 0 }],
    series: [
      { name: names.agents, type: "bar", data: plan.intervals.map((i) => i.agents), itemStyle: { color: "#0b5cad" } },
      { name: names.contacts, type: "line", yAxisIndex: 1, data: plan.intervals.map((i) => Number(i.contacts_forecast.toFixed(1))),
        showSymbol: false, lineStyle: { color: "#8a5a00" }, itemStyle: { color: "#8a5a00" } },
    ],
  }, t("Agents needed per hour on {day}, at most {max}.", { day: $("staffing-date").textContent,
                                                            max: Math.max(0, ...plan.intervals.map((i) => i.agents)) }));
  $("staffing").innerHTML = `<p data-testid="staffing-summary" data-agent-hours="${plan.agent_hours}">` +
    esc(t("{contacts} contacts forecast, AHT {aht} → {hours} agent-hours", { contacts: num(plan.contacts_forecast),
        aht: dur(plan.aht_seconds), hours: num(plan.agent_hours) })) + `</p>` +
    `<details><summary>${esc(t("As a table"))}</summary><div class="scroll" tabindex="0" role="region" aria-label="${esc(t("Agents needed"))}">` +
    `<table class="grid staff"><thead><tr><th scope="col">${esc(t("Hour"))}</th>` +
    hours.map((h) => `<th scope="col">${esc(h)}</th>`).join("") + `</tr></thead><tbody><tr><th scope="row">${esc(t("Agents needed"))}</th>` +
    plan.intervals.map((i) => `<td>${i.agents}</td>`).join("") + `</tr></tbody></table></div></details>`;
}

// --------------------------------------------------------------------------------------- ticket
function deadlineState(d) {
  if (d.met_at) return t("met");
  if (d.paused) return t("paused");
  if (d.breached) return t("breached");
  return t("due {due}", { due: when(d.due_at) });
}

async function showTicket(id) {
  $("ticket-id").value = id;
  // in as-of mode, the history up to the page's moment
  const history = (await api(`/v1/tickets/${id}/events`)).events
    .filter((e) => !pageAsOf || new Date(e.occurred_at) <= pageNow());
  if (!history.length) { $("ticket").innerHTML = `<p class="empty">${esc(t("none"))}</p>`; return; }
  const times = history.map((e) => e.occurred_at).sort();
  $("ticket").innerHTML =
    `<label for="as-of">${esc(t("As of"))} <output id="as-of-label"></output></label><br>` +
    `<input id="as-of" type="range" min="0" max="${times.length - 1}" value="${times.length - 1}" style="width:100%">` +
    `<div id="ticket-state"></div><h3>${esc(t("Timeline"))}</h3><ol class="timeline">` + history.map((e) =>
      `<li><time datetime="${esc(e.occurred_at)}">${esc(when(e.occurred_at))}</time> · <strong>${esc(e.type.replace("ticket.", ""))}</strong> ` +
      `${esc(t("by {actor}", { actor: e.actor }))}${e.deadline ? " · " + esc(e.deadline) : ""}${e.agent_id ? " · " + esc(e.agent_id) : ""}</li>`).join("") + "</ol>";
  const slider = $("as-of");
  const render = async () => {
    const moment = times[Number(slider.value)];
    $("as-of-label").textContent = when(moment);
    const x = await api(`/v1/tickets/${id}?as_of=${encodeURIComponent(moment)}`);
    $("ticket-state").innerHTML = `<p data-testid="ticket-status" data-status="${esc(x.status)}">` +
      esc(t("status {status} · version {version} · assignee {assignee} · escalation level {level}", {
        status: x.status, version: x.version, assignee: x.assignee_id || t("none"), level: x.escalation_level })) + `</p>` +
      "<ul>" + (x.deadlines || []).map((d) => `<li class="${d.breached ? "bad" : d.met_at ? "good" : ""}">` +
        esc(`${d.kind}: ${deadlineState(d)}`) + "</li>").join("") + "</ul>";
  };
  slider.addEventListener("input", render);
  await render();
}

// ----------------------------------------------------------------------------------------- live
const STATUS = { idle: () => t("not connected"), live: () => t("live"), reconnecting: () => t("reconnecting…"),
                 error: (message) => t("error: {message}", { message }) };
function setStatus(name, message) {
  $("live-status").dataset.state = name;
  $("live-status").textContent = STATUS[name](message);
}

let refreshTimer = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refreshAll().catch(report), 800);
}

function connectLive() {
  if (state.stream) state.stream.close();
  state.stream = new EventSource(`/v1/events/stream?access_token=${encodeURIComponent(state.key)}`);
  state.stream.onopen = () => setStatus("live");
  state.stream.onerror = () => setStatus("reconnecting");
  state.stream.onmessage = () => {};
  const onEvent = (message) => {
    const e = JSON.parse(message.data);
    const item = document.createElement("li");
    item.textContent = `${e.type.replace("ticket.", "")} · ${e.ticket_id.slice(0, 8)} · ${e.actor}`;
    $("feed").prepend(item);
    while ($("feed").children.length > 50) $("feed").lastChild.remove();
    if (!pageAsOf) scheduleRefresh();  // a page as of a past moment does not change with new events
  };
  ["opened", "triaged", "assigned", "routed", "transferred", "interaction_recorded", "waiting_on_customer", "resumed",
   "escalated", "resolved", "reopened", "closed", "surveyed", "sla_warned", "sla_breached"]
    .forEach((type) => state.stream.addEventListener("ticket." + type, onEvent));
}

function report(error) { setStatus("error", error.message); }

async function refreshAll() {
  await Promise.all([loadKpis(), loadRisk(), loadBoard(), loadHeat(), loadHotspots(), loadForecast(), loadStaffing()]);
  state.loaded = true;
}

$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.key = $("api-key").value.trim();
  sessionStorage.setItem("servicetrail-key", state.key);
  refreshAll().then(connectLive).catch(report);
});
$("lang").addEventListener("change", async () => {
  localStorage.setItem("servicetrail-lang", $("lang").value);
  await loadLanguage($("lang").value);
  if (state.key && state.loaded) {
    await refreshAll().catch(report);
    if (state.stream) setStatus(state.stream.readyState === EventSource.OPEN ? "live" : "reconnecting");
    const ticket = $("ticket-id").value.trim();
    if (ticket && $("as-of")) await showTicket(ticket).catch(report);
  }
});
$("range").addEventListener("change", () => loadKpis().catch(report));
$("forecast-slice").addEventListener("change", () => loadForecast().catch(report));
$("ticket-form").addEventListener("submit", (event) => { event.preventDefault(); showTicket($("ticket-id").value.trim()).catch(report); });
document.addEventListener("click", (event) => {
  const ticket = event.target.closest("[data-ticket]");
  if (ticket) showTicket(ticket.dataset.ticket).catch(report);
  const sort = event.target.closest("[data-sort]");
  if (sort) { state.sortBy = sort.dataset.sort; renderBoard(); }
});
loadLanguage(state.lang).then(() => {
  if (state.key) { $("api-key").value = state.key; refreshAll().then(connectLive).catch(report); }
}).catch(report);
