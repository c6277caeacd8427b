// nodehost dashboard: reads the admin API of this origin every 2 s and renders sites,
// applications, processes and recent events; its buttons recycle, stop and start applications.
// No framework and no build step. Everything the API says is put in the page as text
// (textContent), never as markup.

/** The admin token lives in this tab only (sessionStorage), sent as Authorization: Bearer. */
const TOKEN_KEY = 'nodehost.adminToken';
const REFRESH_MS = 2000;
const EVENTS_SHOWN = 100;

const $ = (selector, root = document) => root.querySelector(selector);

/** Unauthorized is thrown when the listener wants a token this tab does not have (or a wrong one). */
class Unauthorized extends Error {}

/** page holds what one refresh needs of the previous one. */
const page = {
  /** The previous /metrics scrape, for rates: { at, samples }. */
  previous: undefined,
  /** Per card: the previous CPU seconds, for the CPU percentage: key -> { at, cpu }. */
  cpu: new Map(),
  /** Applications seen since the page opened (a stopped one leaves /v1/apps): key -> { url, frontDoor }. */
  known: new Map(),
  /** Cards by key. */
  cards: new Map(),
  /** Keys whose button action is running. */
  busy: new Set(),
  timer: undefined,
};

function requestHeaders() {
  // X-Nodehost-Admin marks a request as this page's: another site cannot send it (docs/admin.md).
  const headers = { 'X-Nodehost-Admin': '1' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

async function api(path, method = 'GET') {
  const res = await fetch(path, { method, headers: requestHeaders(), cache: 'no-store', credentials: 'omit' });
  if (res.status === 401) throw new Unauthorized('unauthorized');
  const isJson = (res.headers.get('content-type') || '').startsWith('application/json');
  const body = isJson ? await res.json() : await res.text();
  if (!res.ok) {
    const message = isJson && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${res.status}`;
    throw new Error(message);
  }
  return body;
}

// ---- formatting --------------------------------------------------------------------------

function duration(ms) {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function bytes(n) {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(0)} MB`;
  return `${(n / 1024).toFixed(0)} KB`;
}

function seconds(s) {
  if (s === undefined) return '–';
  if (s === Number.POSITIVE_INFINITY) return '> 10 s';
  if (s < 0.001) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 1 : 0)} ms`;
  return `${s.toFixed(2)} s`;
}

function clock(iso) {
  return typeof iso === 'string' ? iso.slice(11, 19) : '';
}

// ---- metrics -------------------------------------------------------------------------------

/** parseMetrics reads the Prometheus text format into [{ name, labels, value }]. */
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels = {};
    for (const [, key, value] of (match[2] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value.replace(/\\n/g, '\n').replace(/\\(.)/g, '$1');
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** appMetrics groups what the cards show by site and application URL. */
function appMetrics(samples) {
  const apps = new Map();
  const entry = (labels) => {
    const key = `${labels.site}\u0000${labels.app}`;
    let value = apps.get(key);
    if (value === undefined) {
      value = { buckets: new Map(), count: 0, cache: { hit: 0, miss: 0, collapsed: 0, stale: 0 } };
      apps.set(key, value);
    }
    return value;
  };
  for (const sample of samples) {
    if (sample.name === 'nodehost_request_duration_seconds_bucket') {
      const le = sample.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
      const buckets = entry(sample.labels).buckets;
      buckets.set(le, (buckets.get(le) || 0) + sample.value);
    } else if (sample.name === 'nodehost_request_duration_seconds_count') {
      entry(sample.labels).count += sample.value;
    } else if (sample.name === 'nodehost_output_cache_requests_total') {
      entry(sample.labels).cache[sample.labels.result] += sample.value;
    }
  }
  return apps;
}

/**
 * percentile estimates a quantile from cumulative histogram buckets (Map le -> count), by linear
 * interpolation inside the bucket it falls in, as Prometheus's histogram_quantile does.
 */
function percentile(buckets, q) {
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Number.POSITIVE_INFINITY) || 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const le of bounds) {
    const count = buckets.get(le);
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
      const inBucket = count - below;
      return inBucket <= 0 ? le : lower + ((le - lower) * (rank - below)) / inBucket;
    }
    lower = le;
    below = count;
  }
  return undefined;
}

/** recentBuckets is the histogram of the last interval (now − previous), or all of it when the interval saw no request. */
function recentBuckets(now, before) {
  if (before === undefined) return now.buckets;
  const delta = new Map();
  for (const [le, count] of now.buckets) delta.set(le, count - (before.buckets.get(le) || 0));
  return (delta.get(Number.POSITIVE_INFINITY) || 0) > 0 ? delta : now.buckets;
}

// ---- rendering -----------------------------------------------------------------------------

function cardKey(app) {
  return app.frontDoor === undefined ? `${app.site}\u0000${app.url}` : `${app.site}\u0000${app.url}#${app.frontDoor}`;
}

function siteBase(site) {
  if (!site?.url) return undefined;
  const url = new URL(site.url);
  // A listener on every interface is reached under the name this page was opened with.
  if (url.hostname === '0.0.0.0' || url.hostname === '[::]') url.hostname = location.hostname;
  return url;
}

function renderServer(server) {
  const doors = server.hostProcesses.length;
  $('#server').textContent = `${server.version} · pid ${server.pid} · up ${duration(server.uptimeMs)} · ${doors} host process${doors === 1 ? '' : 'es'}`;
}

function renderSites(sites) {
  const root = $('#sites');
  root.replaceChildren(
    ...sites.map((site) => {
      const chip = document.createElement('span');
      chip.className = 'site';
      const name = document.createElement('strong');
      name.textContent = site.name;
      const where = document.createElement('span');
      where.className = 'muted';
      where.textContent = site.url ? `${site.url} · ${site.root}` : site.root;
      chip.append(name, where);
      if (site.configError) {
        const error = document.createElement('span');
        error.className = 'error';
        error.textContent = site.configError;
        chip.append(error);
      }
      return chip;
    }),
  );
}

function createCard(key) {
  const card = $('#app-template').content.firstElementChild.cloneNode(true);
  card.dataset.key = key;
  for (const button of card.querySelectorAll('button[data-act]')) {
    button.addEventListener('click', () => act(key, button.dataset.act));
  }
  page.cards.set(key, card);
  $('#apps').append(card);
  return card;
}

function set(card, selector, text) {
  const element = $(selector, card);
  if (element.textContent !== text) element.textContent = text;
}

function renderApp(card, app, metrics, before, site, now) {
  const isStopped = app.state === 'stopped';
  card.dataset.app = app.url;
  card.dataset.state = app.state;
  set(card, '.app-url', app.frontDoor === undefined ? app.url : `${app.url} #${app.frontDoor}`);
  const badge = $('.state', card);
  badge.className = `badge state ${app.state}`;
  set(card, '.state', app.state);
  set(card, '.generation', isStopped ? '' : `generation ${app.generation}`);

  const elapsedS = before === undefined ? 0 : (now - before.at) / 1000;
  const count = metrics ? metrics.count : 0;
  const previousCount = before?.metrics ? before.metrics.count : undefined;
  set(card, '.rps', previousCount === undefined || elapsedS <= 0 ? '–' : ((count - previousCount) / elapsedS).toFixed(1));
  const buckets = metrics ? recentBuckets(metrics, before?.metrics) : new Map();
  set(card, '.latency', [0.5, 0.9, 0.99].map((q) => seconds(percentile(buckets, q))).join(' / '));

  const processes = app.processes || [];
  const rss = processes.reduce((sum, p) => sum + (p.rssBytes || 0), 0);
  const cpu = processes.reduce((sum, p) => sum + (p.cpuSeconds || 0), 0);
  set(card, '.memory', processes.length === 0 ? '–' : bytes(rss));
  const lastCpu = page.cpu.get(card.dataset.key);
  const cpuPercent = lastCpu && now > lastCpu.at && cpu >= lastCpu.cpu ? ((cpu - lastCpu.cpu) / ((now - lastCpu.at) / 1000)) * 100 : undefined;
  page.cpu.set(card.dataset.key, { at: now, cpu });
  set(card, '.cpu', processes.length === 0 ? '–' : `${cpuPercent === undefined ? '–' : `${cpuPercent.toFixed(0)} %`} (${cpu.toFixed(1)} s)`);
  set(card, '.requests', isStopped ? '–' : `${app.active} / ${app.total}`);
  const reasons = Object.entries(app.restartsByReason || {}).filter(([, n]) => n > 0);
  set(card, '.restarts', reasons.length === 0 ? '0' : reasons.map(([reason, n]) => `${n} ${reason}`).join(', '));
  const cache = metrics ? metrics.cache : undefined;
  const lookups = cache ? cache.hit + cache.miss : 0;
  set(card, '.cache', lookups === 0 ? '–' : `${((cache.hit / lookups) * 100).toFixed(0)} % (${cache.hit}/${lookups})`);

  const rows = processes.map((p) => {
    const row = document.createElement('tr');
    const cells = [String(p.pid || '–'), p.state, duration(p.uptimeMs), bytes(p.rssBytes || 0), `${(p.cpuSeconds || 0).toFixed(1)} s`, String(p.total)];
    cells.forEach((text, index) => {
      const cell = document.createElement('td');
      cell.textContent = text;
      if (index === 0) cell.className = 'pid';
      row.append(cell);
    });
    return row;
  });
  $('tbody', card).replaceChildren(...rows);

  const error = app.lastRecycleError || app.configError || '';
  if (!page.busy.has(card.dataset.key)) set(card, '.app-error', error);
  const isBusy = page.busy.has(card.dataset.key);
  for (const button of card.querySelectorAll('button[data-act]')) {
    const act = button.dataset.act;
    button.hidden = isStopped ? act !== 'start' : act === 'start';
    button.disabled = isBusy;
  }
  const logs = $('.logs', card);
  const base = siteBase(site);
  if (base && app.logUrl && !isStopped) {
    logs.href = new URL(app.logUrl, base).href;
    logs.hidden = false;
  } else {
    logs.hidden = true;
  }
}

function renderEvents(events) {
  const list = $('#events');
  const items = events
    .slice(-EVENTS_SHOWN)
    .reverse()
    .map((event) => {
      const item = document.createElement('li');
      item.className = event.level;
      const time = document.createElement('time');
      time.dateTime = event.time;
      time.textContent = clock(event.time);
      const level = document.createElement('span');
      level.className = 'level';
      level.textContent = event.level;
      const text = document.createElement('span');
      const msg = document.createElement('strong');
      msg.textContent = event.msg;
      const fields = document.createElement('span');
      fields.className = 'fields';
      fields.textContent = Object.entries(event)
        .filter(([key]) => key !== 'time' && key !== 'level' && key !== 'msg')
        .map(([key, value]) => ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join('');
      text.append(msg, fields);
      item.append(time, level, text);
      return item;
    });
  list.replaceChildren(...items);
}

// ---- refresh and actions -------------------------------------------------------------------

async function refresh() {
  clearTimeout(page.timer);
  try {
    const [server, sites, apps, events, metricsText] = await Promise.all([
      api('/v1/server'),
      api('/v1/sites'),
      api('/v1/apps'),
      api('/v1/events'),
      api('/metrics'),
    ]);
    $('#login').hidden = true;
    $('#overview').hidden = false;
    const now = Date.now();
    renderServer(server);
    renderSites(sites.sites);
    const metrics = appMetrics(parseMetrics(metricsText));
    const before = page.previous;
    const shown = new Set();
    for (const app of apps.apps) {
      const key = cardKey(app);
      shown.add(key);
      page.known.set(key, { site: app.site, url: app.url, frontDoor: app.frontDoor });
      const card = page.cards.get(key) || createCard(key);
      const metricKey = `${app.site}\u0000${app.url}`;
      renderApp(
        card,
        app,
        metrics.get(metricKey),
        before && { at: before.at, metrics: before.metrics.get(metricKey) },
        sites.sites.find((s) => s.name === app.site),
        now,
      );
    }
    // An application stopped through the API leaves /v1/apps; its card stays, to start it again.
    for (const [key, known] of page.known) {
      if (shown.has(key)) continue;
      const card = page.cards.get(key) || createCard(key);
      renderApp(card, { ...known, state: 'stopped', generation: 0, processes: [], active: 0, total: 0 }, undefined, undefined, undefined, now);
    }
    $('#no-apps').hidden = page.known.size > 0;
    renderEvents(events.events);
    page.previous = { at: now, metrics };
    const connection = $('#connection');
    connection.classList.remove('down');
    connection.textContent = `live · ${new Date(now).toLocaleTimeString()}`;
  } catch (err) {
    if (err instanceof Unauthorized) {
      showLogin(sessionStorage.getItem(TOKEN_KEY) ? 'That token was refused.' : '');
      return;
    }
    const connection = $('#connection');
    connection.classList.add('down');
    connection.textContent = `disconnected: ${err.message}`;
  }
  page.timer = setTimeout(refresh, REFRESH_MS);
}

async function act(key, action) {
  const known = page.known.get(key);
  if (known === undefined || page.busy.has(key)) return;
  const card = page.cards.get(key);
  page.busy.add(key);
  for (const button of card.querySelectorAll('button[data-act]')) button.disabled = true;
  set(card, '.app-error', '');
  card.setAttribute('aria-busy', 'true');
  try {
    // Each POST answers once the work is done (a recycle: the new generation serves).
    await api(`/v1/apps/${action}?app=${encodeURIComponent(known.url)}`, 'POST');
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin('That token was refused.');
    set(card, '.app-error', `${action} failed: ${err.message}`);
  } finally {
    page.busy.delete(key);
    card.removeAttribute('aria-busy');
  }
  await refresh();
}

function showLogin(message) {
  clearTimeout(page.timer);
  $('#overview').hidden = true;
  $('#login').hidden = false;
  $('#login-error').textContent = message;
  $('#token').focus();
}

$('#login').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('#token').value);
  $('#token').value = '';
  void refresh();
});

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') void refresh();
});

void refresh();
