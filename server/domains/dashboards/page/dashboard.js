// The livestream dashboard: sign in, pick a livestream, follow liveDashboard over graphql-transport-ws,
// and draw the figures as tiles and SVG charts. Plain browser JavaScript, no build step, no libraries.
"use strict";

const TEXTS = {
  "zh-CN": {
    title: "直播实时看板", signInTitle: "员工登录", username: "用户名", password: "密码", signIn: "登录",
    signOut: "退出", livestream: "直播", chooseLivestream: "选择直播…", bookings: "预约", checkedIn: "到店",
    noShows: "爽约", cancelled: "取消", paidOrders: "成交订单", gmv: "成交额", arrivalRate: "到店率",
    purchaseRate: "购买率", byCity: "各城市预约", topStores: "门店预约 Top 10", perMinute: "近一小时每分钟预约",
    topGuides: "导购业绩 Top 10（计入收入）", commission: "佣金（按受益方）", GUIDE: "导购", LIVESTREAM_TEAM: "直播团队",
    STORE: "门店", REFERRER: "推荐人", noData: "暂无数据", updated: "更新于 {time} · 第 {sequence} 次", live: "实时", connecting: "连接中",
    offline: "离线", badLogin: "用户名或密码错误", locked: "尝试次数过多，请稍后再试", forbidden: "无权查看看板",
    failed: "请求失败，请重试", otherLanguage: "English",
  },
  en: {
    title: "Livestream live dashboard", signInTitle: "Staff sign-in", username: "Username", password: "Password",
    signIn: "Sign in", signOut: "Sign out", livestream: "Livestream", chooseLivestream: "Choose a livestream…",
    bookings: "Bookings", checkedIn: "Checked in", noShows: "No-shows", cancelled: "Cancelled",
    paidOrders: "Paid orders", gmv: "GMV", arrivalRate: "Arrival rate", purchaseRate: "Purchase rate",
    byCity: "Bookings by city", topStores: "Top 10 stores", perMinute: "Bookings per minute, last hour",
    topGuides: "Top 10 guides (credited revenue)", commission: "Commission by beneficiary", GUIDE: "Guides",
    LIVESTREAM_TEAM: "Livestream team", STORE: "Stores", REFERRER: "Referrers", noData: "No data yet", updated: "Updated {time} · #{sequence}", live: "Live", connecting: "Connecting",
    offline: "Offline", badLogin: "Wrong username or password", locked: "Too many attempts; try again later",
    forbidden: "You may not view dashboards", failed: "The request failed; try again", otherLanguage: "中文",
  },
};

const LOGIN = `mutation($input: StaffLoginInput!) { staffLogin(input: $input) {
  session { accessToken refreshToken } errors { code } } }`;
const REFRESH = `mutation($input: TokenRefreshInput!) { tokenRefresh(input: $input) {
  session { accessToken refreshToken } errors { code } } }`;
const LIVESTREAMS = `query { livestreams(first: 100) { edges { node { id title status scheduledStart } } } }`;
const DASHBOARD = `subscription($id: ID!) { liveDashboard(livestreamId: $id) {
  sequence at bookings cancelled checkedIn noShows paidOrders payingVisits arrivalRate purchaseRate
  gmv { amount currency } bookingsByCity { city bookings } topStores { name city bookings }
  bookingsPerMinute { minute bookings } topGuides { name revenue { amount currency } }
  commissionByBeneficiary { kind commission { amount currency } } } }`;

const state = {
  language: localStorage.getItem("irs.dashboard.language") || (navigator.language.startsWith("zh") ? "zh-CN" : "en"),
  session: JSON.parse(sessionStorage.getItem("irs.dashboard.session") || "null"),
  livestreamId: null,
  latest: null,
  socket: null,
};

const $ = (selector) => document.querySelector(selector);
const text = (key) => TEXTS[state.language][key] ?? key;

// ---- language ------------------------------------------------------------------------------------

function applyLanguage() {
  document.documentElement.lang = state.language;
  document.title = `IRS · ${text("title")}`;
  for (const element of document.querySelectorAll("[data-i18n]")) element.textContent = text(element.dataset.i18n);
  $("#language").textContent = text("otherLanguage");
  setStatus($("#status").dataset.state);
  if (state.latest) render(state.latest);
}

function toggleLanguage() {
  state.language = state.language === "zh-CN" ? "en" : "zh-CN";
  localStorage.setItem("irs.dashboard.language", state.language);
  applyLanguage();
}

// ---- GraphQL over HTTP -----------------------------------------------------------------------------

async function graphql(query, variables = {}, token = state.session?.accessToken) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors?.length) throw Object.assign(new Error(body.errors[0].message), { code: errorCode(body.errors) });
  return body.data;
}

const errorCode = (errors) => errors?.[0]?.extensions?.code;

// ---- session -------------------------------------------------------------------------------------

function keepSession(session) {
  state.session = session && { accessToken: session.accessToken, refreshToken: session.refreshToken };
  if (state.session) sessionStorage.setItem("irs.dashboard.session", JSON.stringify(state.session));
  else sessionStorage.removeItem("irs.dashboard.session");
}

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  $("#sign-in-error").textContent = "";
  try {
    const input = { username: form.get("username"), password: form.get("password") };
    const answer = (await graphql(LOGIN, { input }, null)).staffLogin;
    if (answer.errors.length) {
      $("#sign-in-error").textContent = text(answer.errors[0].code === "LOGIN_LOCKED" ? "locked" : "badLogin");
      return;
    }
    keepSession(answer.session);
    await showBoard();
  } catch (error) {
    $("#sign-in-error").textContent = text("failed");
  }
}

async function refreshSession() {
  if (!state.session?.refreshToken) return false;
  try {
    const answer = (await graphql(REFRESH, { input: { refreshToken: state.session.refreshToken } }, null)).tokenRefresh;
    if (answer.errors.length) return false;
    keepSession(answer.session);
    return true;
  } catch {
    return false;
  }
}

function signOut(message = "") {
  closeSocket();
  keepSession(null);
  state.latest = null;
  $("#board").hidden = true;
  $("#sign-out").hidden = true;
  $("#sign-in").hidden = false;
  $("#sign-in-error").textContent = message;
}

// ---- livestream picker -----------------------------------------------------------------------------

async function showBoard() {
  $("#sign-in").hidden = true;
  $("#board").hidden = false;
  $("#sign-out").hidden = false;
  try {
    const edges = (await graphql(LIVESTREAMS)).livestreams.edges;
    fillPicker(edges.map((edge) => edge.node));
  } catch (error) {
    if (error.code === "UNAUTHENTICATED" && (await refreshSession())) return showBoard();
    signOut(text("failed"));
  }
}

function fillPicker(livestreams) {
  const picker = $("#livestream");
  picker.replaceChildren(picker.options[0]);
  for (const livestream of livestreams) {
    const option = document.createElement("option");
    option.value = livestream.id;
    option.textContent = `${livestream.title} (${livestream.status})`;
    picker.append(option);
  }
}

function pickLivestream() {
  state.livestreamId = $("#livestream").value || null;
  state.latest = null;
  clearFigures();
  closeSocket();
  if (state.livestreamId) openSocket();
}

// ---- graphql-transport-ws client -------------------------------------------------------------------

const SESSION_ENDED = 4403;
let reconnectDelay = 500;

function openSocket() {
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
  const socket = new WebSocket(url, "graphql-transport-ws");
  const livestreamId = state.livestreamId;
  state.socket = socket;
  setStatus("connecting");
  socket.onopen = () => send(socket, { type: "connection_init", payload: { authorization: `Bearer ${state.session.accessToken}` } });
  socket.onmessage = (event) => onMessage(socket, livestreamId, JSON.parse(event.data));
  socket.onclose = (event) => onClose(socket, event.code);
}

function send(socket, message) {
  if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function onMessage(socket, livestreamId, message) {
  if (socket !== state.socket) return;
  switch (message.type) {
    case "connection_ack":
      send(socket, { id: "dashboard", type: "subscribe", payload: { query: DASHBOARD, variables: { id: livestreamId } } });
      return;
    case "ping":
      send(socket, { type: "pong" });
      return;
    case "next":
      if (message.payload.errors?.length) return onRefused(socket, message.payload.errors);
      reconnectDelay = 500;
      setStatus("live");
      state.latest = message.payload.data.liveDashboard;
      render(state.latest);
      return;
    case "error":
      onRefused(socket, message.payload);
      return;
    case "complete":
      socket.close(1000);
  }
}

async function onRefused(socket, errors) {
  const code = errorCode(errors);
  state.socket = null;
  socket.close(1000);
  if (code === "UNAUTHENTICATED" && (await refreshSession())) return openSocket();
  if (code === "UNAUTHENTICATED") return signOut();
  setStatus("offline");
  $("#updated").textContent = code === "FORBIDDEN" ? text("forbidden") : errors[0]?.message ?? text("failed");
}

async function onClose(socket, code) {
  if (socket !== state.socket) return; // closed on purpose
  state.socket = null;
  setStatus("offline");
  if (code === SESSION_ENDED && !(await refreshSession())) return signOut();
  const delay = reconnectDelay;
  reconnectDelay = Math.min(reconnectDelay * 2, 15000);
  setTimeout(() => {
    if (!state.socket && state.livestreamId && state.session) openSocket();
  }, delay);
}

function closeSocket() {
  const socket = state.socket;
  state.socket = null;
  if (socket) socket.close(1000);
  setStatus("offline");
}

function setStatus(name = "offline") {
  const status = $("#status");
  status.dataset.state = name;
  status.textContent = text(name);
}

// ---- tiles ---------------------------------------------------------------------------------------

const percent = (rate) => (rate === null || rate === undefined ? "–" : `${(rate * 100).toFixed(1)}%`);

function money(value) {
  const locale = state.language === "zh-CN" ? "zh-CN" : "en-US";
  const style = { style: "currency", currency: value.currency, currencyDisplay: "narrowSymbol" };
  return new Intl.NumberFormat(locale, style).format(value.amount / 100);
}

function render(figures) {
  const shown = {
    bookings: figures.bookings, checkedIn: figures.checkedIn, noShows: figures.noShows, cancelled: figures.cancelled,
    paidOrders: figures.paidOrders, gmv: money(figures.gmv), arrivalRate: percent(figures.arrivalRate),
    purchaseRate: percent(figures.purchaseRate),
  };
  for (const [key, value] of Object.entries(shown)) setTile(key, String(value));
  const time = new Date(figures.at).toLocaleTimeString(state.language);
  $("#updated").textContent = text("updated").replace("{time}", time).replace("{sequence}", figures.sequence);
  drawBars($("#chart-cities"), figures.bookingsByCity.map((row) => [row.city, row.bookings]), "");
  drawBars($("#chart-stores"), figures.topStores.map((row) => [row.name, row.bookings]), "alt");
  drawMinutes($("#chart-minutes"), figures.bookingsPerMinute, new Date(figures.at));
  drawBars($("#chart-guides"), figures.topGuides.map((row) => [row.name, row.revenue]), "", money);
  const credited = figures.commissionByBeneficiary.filter((row) => row.commission.amount !== 0);
  drawBars($("#chart-commission"), credited.map((row) => [text(row.kind), row.commission]), "alt", money);
}

function setTile(key, value) {
  const element = document.querySelector(`[data-kpi="${key}"]`);
  if (element.textContent === value) return;
  element.textContent = value;
  element.classList.remove("bumped");
  void element.offsetWidth; // restart the animation
  element.classList.add("bumped");
}

function clearFigures() {
  for (const element of document.querySelectorAll("[data-kpi]")) element.textContent = "–";
  for (const chart of document.querySelectorAll("svg")) chart.replaceChildren();
  $("#updated").textContent = "";
}

// ---- SVG charts ----------------------------------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 600;
const WIDE = 1200; // the per-minute line spans the page
const HEIGHT = 260;

function svgElement(name, attributes, content) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (content !== undefined) element.textContent = content;
  return element;
}

function prepare(chart, width = WIDTH) {
  chart.setAttribute("viewBox", `0 0 ${width} ${HEIGHT}`);
  chart.replaceChildren();
}

function noData(chart) {
  chart.append(svgElement("text", { x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle", class: "empty" }, text("noData")));
}

// A label cut to about ``room`` pixels of 12 px text, keeping its end (a store's city and mall tell it apart).
function fitted(label, room) {
  const width = (text) => [...text].reduce((sum, c) => sum + (c.charCodeAt(0) > 0x2e80 ? 12 : 7), 0);
  if (width(label) <= room) return label;
  let kept = [...label];
  while (kept.length > 1 && width("…" + kept.join("")) > room) kept = kept.slice(1);
  return "…" + kept.join("");
}

// Horizontal bars: [label, value] pairs, largest first; values are counts, or Money with shown = money.
function drawBars(chart, rows, variant, format = String) {
  prepare(chart);
  if (!rows.length) return noData(chart);
  const size = (value) => (typeof value === "number" ? value : value.amount);
  const shown = rows.slice(0, 10);
  const largest = Math.max(...shown.map(([, value]) => size(value)), 1);
  const labelWidth = 130;
  const row = HEIGHT / shown.length;
  const barHeight = Math.min(row * 0.7, 28);
  shown.forEach(([label, value], index) => {
    const y = index * row + (row - barHeight) / 2;
    const width = ((WIDTH - labelWidth - 110) * size(value)) / largest;
    chart.append(svgElement("text", { x: labelWidth - 8, y: y + barHeight / 2 + 4, "text-anchor": "end" }, fitted(label, labelWidth - 12)));
    const bar = svgElement("rect", { x: labelWidth, y, width: Math.max(width, 1), height: barHeight, rx: 3, class: `bar ${variant}` });
    bar.append(svgElement("title", {}, `${label}: ${format(value)}`));
    chart.append(bar);
    chart.append(svgElement("text", { x: labelWidth + width + 6, y: y + barHeight / 2 + 4, "data-value": label }, format(value)));
  });
}

// A line of bookings per minute over the hour up to the snapshot's time (minutes without bookings at zero).
function drawMinutes(chart, rows, at) {
  prepare(chart, WIDE);
  const minutes = 60;
  const end = Math.floor(at.getTime() / 60000);
  const counts = new Array(minutes).fill(0);
  for (const row of rows) {
    const index = minutes - 1 - (end - Math.floor(new Date(row.minute).getTime() / 60000));
    if (index >= 0 && index < minutes) counts[index] = row.bookings;
  }
  const largest = Math.max(...counts, 1);
  const left = 40;
  const bottom = HEIGHT - 24;
  const x = (index) => left + ((WIDE - left - 10) * index) / (minutes - 1);
  const y = (value) => bottom - ((bottom - 10) * value) / largest;
  const points = counts.map((value, index) => `${x(index).toFixed(1)},${y(value).toFixed(1)}`);
  chart.append(svgElement("line", { x1: left, y1: bottom, x2: WIDE - 10, y2: bottom, class: "axis" }));
  chart.append(svgElement("text", { x: left - 6, y: 16, "text-anchor": "end" }, largest));
  chart.append(svgElement("text", { x: left - 6, y: bottom, "text-anchor": "end" }, 0));
  chart.append(svgElement("text", { x: left, y: HEIGHT - 6 }, "-60′"));
  chart.append(svgElement("text", { x: WIDE - 10, y: HEIGHT - 6, "text-anchor": "end" }, "0′"));
  chart.append(svgElement("polygon", { points: [`${x(0)},${bottom}`, ...points, `${x(minutes - 1)},${bottom}`].join(" "), class: "area" }));
  chart.append(svgElement("polyline", { points: points.join(" "), class: "line", "data-total": counts.reduce((a, b) => a + b, 0) }));
}

// ---- start ---------------------------------------------------------------------------------------

function start() {
  $("#language").addEventListener("click", toggleLanguage);
  $("#sign-in").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", () => signOut());
  $("#livestream").addEventListener("change", pickLivestream);
  applyLanguage();
  if (state.session) showBoard();
}

document.addEventListener("DOMContentLoaded", start);
