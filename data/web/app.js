// app.js: newswire's web page. Reads newswire-query's API from the same origin:
//   /v1/stream (Server-Sent Events named "article": the live list, backfilled a day back),
//   /v1/search and /v1/articles (the selection the filters ask for), /v1/articles/ID (a search
//   hit's whole document, for its places and topics), /v1/facets (counts, when the server has it).
// A selection is a list of enriched documents; the list, the map of their geocoded places, the
// timeline and the facet counts are all drawn from it. Filters that the server cannot apply (an
// older newswire-query, or a live article arriving) are applied here on each document's topics,
// which carry every entity, country, language and theme as a prefix-matched key (README "Topics").
/* global d3, topojson */

const MAX_LIVE = 500; // documents kept from the stream; the oldest drop off
const MAX_FETCH = 60; // search hits whose whole documents are fetched for the map
const FILTER_KEYS = ['q', 'topic', 'lang', 'person', 'org', 'place', 'country', 'theme', 'story',
  'near', 'bbox', 'from', 'to'];

const $ = (sel) => document.querySelector(sel);
const state = {
  token: '',
  live: new Map(), // id -> document, insertion order = arrival order
  docs: new Map(), // id -> document, every document seen (cache for search hits)
  filters: {},
  selection: null, // null: the live list; else the documents the filters selected
  serverFilters: false, // newswire-query takes the filters itself (has /v1/facets)
  world: null,
};

// ---- the API ----

function headers() {
  return state.token ? { Authorization: `Bearer ${state.token}` } : {};
}

async function api(path, params = {}) {
  const u = new URL(path, location.href);
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    for (const one of Array.isArray(v) ? v : [v]) u.searchParams.append(k, one);
  }
  const r = await fetch(u, { headers: headers() });
  if (!r.ok) {
    let msg = `${r.status}`;
    try { msg += ` ${(await r.json()).message}`; } catch (e) { /* not JSON */ }
    const err = new Error(msg);
    err.status = r.status;
    throw err;
  }
  return r.json();
}

// ---- the live stream ----

// EventSource cannot send an Authorization header; with a token the same events are read from
// fetch()'s body stream instead (the SSE format is a few lines to parse).
function openStream(since, onArticle, onState) {
  const url = `/v1/stream?topic=all&since=${encodeURIComponent(since)}`;
  if (!state.token) {
    const es = new EventSource(url);
    // Events are named "article": onmessage would never fire.
    es.addEventListener('article', (e) => onArticle(JSON.parse(e.data)));
    es.onopen = () => onState('live');
    es.onerror = () => onState(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    return () => es.close();
  }
  let stopped = false;
  let lastId = '';
  const ctl = new AbortController();
  (async function run() {
    while (!stopped) {
      try {
        const h = headers();
        if (lastId) h['Last-Event-ID'] = lastId;
        const r = await fetch(url, { headers: h, signal: ctl.signal });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        onState('live');
        const reader = r.body.getReader();
        const dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            let ev = 'message';
            let data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) ev = line.slice(6).trim();
              else if (line.startsWith('data:')) data += line.slice(5).replace(/^ /, '');
              else if (line.startsWith('id:')) lastId = line.slice(3).trim();
            }
            if (ev === 'article' && data) onArticle(JSON.parse(data));
          }
        }
      } catch (e) {
        if (stopped) return;
      }
      onState('reconnecting');
      await new Promise((res) => setTimeout(res, 2000));
    }
  })();
  return () => { stopped = true; ctl.abort(); };
}

// ---- filters ----

function slug(s) {
  return s.toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

// Topic conditions for the filters: every one must hold (a document's topics carry them all).
function topicConditions(f) {
  const c = [];
  if (f.topic) c.push((t) => t.startsWith(f.topic));
  if (f.lang) c.push((t) => t === `lang.${f.lang.toLowerCase()}`);
  if (f.person) c.push((t) => t === `person.${slug(f.person)}`);
  if (f.org) c.push((t) => t === `org.${slug(f.org)}`);
  if (f.country) c.push((t) => t === `country.${f.country.toLowerCase()}`);
  if (f.theme) c.push((t) => t.startsWith(`theme.${slug(f.theme)}`));
  if (f.story) c.push((t) => t === `story.${f.story}`);
  if (f.place) {
    const p = slug(f.place);
    c.push((t) => t.startsWith('place.') && (t.endsWith(`.${p}`) || t.startsWith(`place.${p}`)));
  }
  return c;
}

// near=lat,lon,km and bbox=minlon,minlat,maxlon,maxlat: some geocoded place of the article
// lies within. Numbers that do not parse select nothing (the server answers 400 for them).
function geoCondition(f) {
  const nums = (v, n) => {
    const a = v.split(',').map(Number);
    return a.length === n && a.every(Number.isFinite) ? a : null;
  };
  if (f.near) {
    const a = nums(f.near, 3);
    if (!a) return () => false;
    const [lat, lon, km] = a;
    return (e) => d3.geoDistance([lon, lat], [e.lon, e.lat]) * 6371.0088 <= km;
  }
  if (f.bbox) {
    const a = nums(f.bbox, 4);
    if (!a) return () => false;
    const [x0, y0, x1, y1] = a;
    return (e) => e.lon >= x0 && e.lon <= x1 && e.lat >= y0 && e.lat <= y1;
  }
  return null;
}

function docTime(d) {
  return d.published || d.fetched || '';
}

function matches(d, f) {
  const topics = d.topics || [];
  for (const cond of topicConditions(f)) if (!topics.some(cond)) return false;
  const geo = geoCondition(f);
  if (geo && !(d.entities || []).some((e) => e.type === 'place' && typeof e.lat === 'number' && geo(e))) return false;
  const day = docTime(d).slice(0, 10);
  if (f.from && day && day < f.from) return false;
  if (f.to && day && day > f.to) return false;
  if (f.q) {
    // Live arrivals only; the server's search already chose the rest.
    const hay = `${d.title || ''} ${d.subtitle || ''} ${d.text || ''}`.toLowerCase();
    if (!f.q.toLowerCase().split(/\s+/).filter(Boolean).every((w) => hay.includes(w))) return false;
  }
  return true;
}

function active(f) {
  return FILTER_KEYS.some((k) => f[k]);
}

function readForm() {
  const f = {};
  const form = new FormData($('#filters'));
  for (const k of FILTER_KEYS) {
    const v = (form.get(k) || '').trim();
    if (v) f[k] = v;
  }
  return f;
}

function writeForm(f) {
  for (const k of FILTER_KEYS) $('#filters').elements[k].value = f[k] || '';
}

// ---- the selection ----

async function fullDocs(ids) {
  const out = [];
  const missing = ids.filter((id) => !state.docs.has(id)).slice(0, MAX_FETCH);
  await Promise.all(missing.map(async (id) => {
    try { state.docs.set(id, await api(`/v1/articles/${encodeURIComponent(id)}`)); } catch (e) { /* gone */ }
  }));
  for (const id of ids) if (state.docs.has(id)) out.push(state.docs.get(id));
  return out;
}

// Ask the server for what the filters select. With a newswire-query that takes the filters
// itself every one goes along; with one that does not, it is asked for the widest set it can
// give (the search, or a topic's articles since the start date) and the rest is filtered here.
async function select(f) {
  const server = {};
  if (state.serverFilters) {
    for (const k of FILTER_KEYS) if (f[k]) server[k] = f[k];
    // The server's "to" is exclusive; the form's is the last day wanted.
    if (f.to) server.to = new Date(Date.parse(f.to) + 864e5).toISOString().slice(0, 10);
  }
  let docs = [];
  if (f.q) {
    const r = await api('/v1/search', { ...server, q: f.q, limit: 200 });
    docs = await fullDocs((r.hits || r.articles || []).map((h) => h.id));
  } else {
    const params = state.serverFilters ? { ...server, limit: 500 }
      : { topic: f.topic || 'all', since: f.from || '0', limit: 1000 };
    let cursor;
    for (let page = 0; page < 10 && docs.length < 1000; page++) {
      const r = await api('/v1/articles', cursor !== undefined
        ? { ...params, [state.serverFilters ? 'cursor' : 'since']: cursor } : params);
      docs.push(...(r.articles || []));
      if (r.next === undefined || r.next === null || r.next === cursor) break;
      if (state.serverFilters ? !r.next : (r.articles || []).length === 0 && page > 3) break;
      cursor = r.next;
    }
    for (const d of docs) state.docs.set(d.id, d);
  }
  // Live arrivals that match join the selection; the filters hold for every document.
  const byId = new Map(docs.map((d) => [d.id, d]));
  for (const d of state.live.values()) if (!byId.has(d.id) && matches(d, f)) byId.set(d.id, d);
  return [...byId.values()].filter((d) => matches(d, { ...f, q: '' }))
    .sort((a, b) => docTime(b).localeCompare(docTime(a)));
}

async function apply(f) {
  state.filters = f;
  writeForm(f);
  drawChips();
  if (!active(f)) {
    state.selection = null;
    render();
    return;
  }
  $('#status').dataset.busy = '1';
  try {
    state.selection = await select(f);
  } catch (e) {
    state.selection = [];
    $('#count').textContent = `(error: ${e.message})`;
  }
  delete $('#status').dataset.busy;
  render();
}

function current() {
  if (state.selection) return state.selection;
  return [...state.live.values()].reverse();
}

// ---- drawing ----

function el(tag, attrs = {}, text) {
  const ns = ['svg', 'path', 'circle', 'rect', 'text', 'g', 'title', 'line'].includes(tag)
    ? 'http://www.w3.org/2000/svg' : null;
  const e = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function drawList(docs, fresh) {
  const ol = $('#articles');
  ol.replaceChildren();
  for (const d of docs.slice(0, 300)) {
    const li = el('li', { 'data-id': d.id });
    if (fresh && fresh.has(d.id)) li.classList.add('new');
    const title = el('div', { class: 'title' });
    const head = d.title || (d.text || '').split('\n')[0].slice(0, 100) || d.id;
    if (d.url) title.append(el('a', { href: d.url, target: '_blank', rel: 'noopener' }, head));
    else title.textContent = head;
    const meta = [docTime(d).slice(0, 16).replace('T', ' '), d.dateline, d.lang, d.site_name || d.source]
      .filter(Boolean).join(' · ');
    li.append(title, el('div', { class: 'meta' }, meta));
    ol.append(li);
  }
  $('#list-title').textContent = state.selection ? 'Selection' : 'Live';
  $('#count').textContent = `(${docs.length})`;
}

function places(docs) {
  const by = new Map();
  for (const d of docs) {
    for (const e of d.entities || []) {
      if (e.type !== 'place' || typeof e.lat !== 'number' || typeof e.lon !== 'number') continue;
      if (e.geoid && e.geoid.startsWith('country.')) continue; // a country is not a point
      const key = e.geoid || `${e.name}@${e.lat},${e.lon}`;
      const p = by.get(key) || { key, name: e.name, lat: e.lat, lon: e.lon, n: 0, focus: false };
      p.n++;
      p.focus = p.focus || !!e.focus;
      by.set(key, p);
    }
  }
  return [...by.values()].sort((a, b) => b.n - a.n);
}

function drawMap(docs) {
  const svg = $('#map');
  svg.replaceChildren();
  const proj = d3.geoNaturalEarth1().fitSize([960, 500], { type: 'Sphere' });
  const path = d3.geoPath(proj);
  svg.append(el('path', { class: 'sphere', d: path({ type: 'Sphere' }) }));
  if (state.world) {
    const g = el('g');
    for (const f of state.world.features) g.append(el('path', { class: 'country', d: path(f) || '' }));
    svg.append(g);
  }
  const pts = places(docs);
  const max = pts.length ? pts[0].n : 1;
  const g = el('g');
  for (const p of pts.slice().reverse()) {
    const xy = proj([p.lon, p.lat]);
    if (!xy) continue;
    const c = el('circle', {
      class: p.focus ? 'marker focus' : 'marker', cx: xy[0].toFixed(1), cy: xy[1].toFixed(1),
      r: (3 + 9 * Math.sqrt(p.n / max)).toFixed(1), 'data-name': p.name, 'data-geoid': p.key,
    });
    c.append(el('title', {}, `${p.name}: ${p.n}`));
    c.addEventListener('click', () => apply({ ...state.filters, place: p.name }));
    g.append(c);
  }
  svg.append(g);
  $('#places-count').textContent = `(${pts.length})`;
}

function drawTimeline(docs) {
  const svg = $('#timeline');
  svg.replaceChildren();
  const times = docs.map((d) => Date.parse(docTime(d))).filter((t) => !Number.isNaN(t));
  if (!times.length) { $('#timeline-unit').textContent = ''; return; }
  const lo = Math.min(...times);
  const hi = Math.max(...times);
  const hour = 3600e3;
  const unit = hi - lo <= 3 * 24 * hour ? hour : 24 * hour;
  const start = Math.floor(lo / unit) * unit;
  const n = Math.min(400, Math.floor((hi - start) / unit) + 1);
  const counts = new Array(n).fill(0);
  for (const t of times) counts[Math.min(n - 1, Math.floor((t - start) / unit))]++;
  const max = Math.max(...counts);
  const w = 920 / n;
  for (let i = 0; i < n; i++) {
    if (!counts[i]) continue;
    const h = (120 * counts[i]) / max;
    const r = el('rect', { x: (20 + i * w).toFixed(1), y: (130 - h).toFixed(1), width: Math.max(1, w - 1).toFixed(1), height: h.toFixed(1) });
    const day = new Date(start + i * unit).toISOString().slice(0, unit === hour ? 13 : 10);
    r.append(el('title', {}, `${day}: ${counts[i]}`));
    r.addEventListener('click', () => {
      const d = day.slice(0, 10);
      apply({ ...state.filters, from: d, to: d });
    });
    svg.append(r);
  }
  svg.append(el('text', { x: 20, y: 150 }, new Date(start).toISOString().slice(0, 10)));
  svg.append(el('text', { x: 940, y: 150, 'text-anchor': 'end' }, new Date(hi).toISOString().slice(0, 10)));
  svg.append(el('text', { x: 20, y: 14 }, `max ${max}`));
  $('#timeline-unit').textContent = `(per ${unit === hour ? 'hour' : 'day'})`;
}

const FACETS = [['person', 'person'], ['org', 'org'], ['country', 'country'], ['place', 'place'],
  ['theme', 'theme'], ['lang', 'lang']];

function drawFacets(docs) {
  const box = $('#facets');
  box.replaceChildren();
  for (const [prefix, key] of FACETS) {
    const counts = new Map();
    for (const d of docs) {
      for (const t of d.topics || []) {
        if (!t.startsWith(`${prefix}.`)) continue;
        const v = prefix === 'place' ? t.split('.').pop() : t.slice(prefix.length + 1);
        counts.set(v, (counts.get(v) || 0) + 1);
      }
    }
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
    if (!top.length) continue;
    const g = el('div', { class: 'group', 'data-facet': key });
    g.append(el('b', {}, key));
    for (const [v, n] of top) {
      const chip = el('span', { class: 'chip', 'data-facet': key, 'data-value': v }, `${v} ${n}`);
      chip.addEventListener('click', () => apply({ ...state.filters, [key]: key === 'country' ? v.toUpperCase() : v }));
      g.append(chip);
    }
    box.append(g);
  }
}

function drawChips() {
  const box = $('#chips');
  box.replaceChildren();
  for (const k of FILTER_KEYS) {
    if (!state.filters[k]) continue;
    const chip = el('span', { class: 'chip', title: 'remove this filter' }, `${k}: ${state.filters[k]} ✕`);
    chip.addEventListener('click', () => {
      const f = { ...state.filters };
      delete f[k];
      apply(f);
    });
    box.append(chip);
  }
}

let pending = null;
function render(fresh) {
  // Bursts of live articles redraw once per animation frame, not once per article.
  if (pending) { if (fresh) for (const id of fresh) pending.add(id); return; }
  pending = new Set(fresh || []);
  requestAnimationFrame(() => {
    const f = pending;
    pending = null;
    const docs = current();
    drawList(docs, f);
    drawMap(docs);
    drawTimeline(docs);
    drawFacets(docs);
  });
}

// ---- start ----

function onArticle(d) {
  state.live.delete(d.id); // a new revision moves to the top
  state.live.set(d.id, d);
  state.docs.set(d.id, d);
  if (state.live.size > MAX_LIVE) state.live.delete(state.live.keys().next().value);
  if (state.selection) {
    if (!matches(d, state.filters)) return;
    state.selection = [d, ...state.selection.filter((x) => x.id !== d.id)];
  }
  render([d.id]);
}

function setStatus(s) {
  const st = $('#status');
  st.className = `status ${s === 'live' ? 'live' : 'down'}`;
  st.textContent = s;
  st.dataset.state = s;
}

let closeStream = null;
async function connect() {
  if (closeStream) closeStream();
  state.live.clear();
  // A newswire-query with the filters has /v1/facets (its facet is named facet= or by=).
  state.serverFilters = false; // an older newswire-query: filters apply here
  for (const key of ['facet', 'by']) {
    try {
      await api('/v1/facets', { [key]: 'lang', top: 1 });
      state.serverFilters = true;
      break;
    } catch (e) {
      if (e.status !== 400) break;
    }
  }
  closeStream = openStream(new URLSearchParams(location.search).get('since') || '1d', onArticle, setStatus);
}

async function main() {
  const params = new URLSearchParams(location.search);
  state.token = params.get('token') || localStorage.getItem('newswire.token') || '';
  $('#token').value = state.token;
  $('#token').addEventListener('change', (e) => {
    state.token = e.target.value.trim();
    localStorage.setItem('newswire.token', state.token);
    connect();
  });
  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); apply(readForm()); });
  $('#clear').addEventListener('click', () => apply({}));
  try {
    const topo = await (await fetch('vendor/countries-110m.json')).json();
    state.world = topojson.feature(topo, topo.objects.countries);
  } catch (e) {
    state.world = null; // markers still draw, on an empty sphere
  }
  const f = {};
  for (const k of FILTER_KEYS) if (params.get(k)) f[k] = params.get(k);
  await connect();
  apply(f);
  document.body.dataset.ready = '1';
}

main();
