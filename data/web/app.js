// app.js: newswire's web page. Reads newswire-query's API from the same origin:
//   /v1/stream (Server-Sent Events named "article": the live list, backfilled a day back),
//   /v1/articles and /v1/search (the selection: the filters go to the server as its parameters,
//   pages follow its "next" cursor), /v1/facets (the facet chips and the timeline, same filters).
// The server does all the filtering and counting; the page filters only live arrivals, to decide
// whether one joins the current selection, on its topics, which carry every entity, country,
// language and theme as a prefix-matched key (README "Topics"). The map draws the geocoded
// places of the loaded selection (or of the live list when no filter is set).
/* global d3, topojson */

const MAX_LIVE = 500; // documents kept from the stream; the oldest drop off
const PAGE = Math.min(1000, Math.max(1, Number(new URLSearchParams(location.search).get('limit')) || 100));
const FACET_TOP = 12; // chips per facet
const FILTER_KEYS = ['q', 'topic', 'lang', 'person', 'org', 'place', 'country', 'theme', 'story',
  'near', 'bbox', 'from', 'to'];

const $ = (sel) => document.querySelector(sel);
const state = {
  token: '',
  live: new Map(), // id -> document, insertion order = arrival order
  docs: new Map(), // id -> document, every document seen (cache for search hits)
  filters: {},
  selection: null, // null: the live list; else the documents the filters selected
  geo: new Map(), // id -> document with its entities, for the map of a search's hits
  next: null, // the cursor of the selection's next page, null on the last
  total: null, // the server's count of the selection
  gen: 0, // bumped by each apply(): late answers to older filters are dropped
  since: '1d', // the stream's backfill, and the facets' window while no filter is set
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
    const p = f.place.split('.').map(slug).join('.'); // place=eg.cairo keeps its dot
    c.push((t) => t === `place.${p}` || t.startsWith(`place.${p}.`) || t.endsWith(`.${p}`));
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

// The server's "time" (published, else stored); stream documents carry their own dates.
function docTime(d) {
  return d.time || d.published || d.fetched || '';
}

// Whether a live arrival belongs to the selection the filters asked the server for.
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

// The filters as newswire-query's parameters (README "The query API"): the same on /v1/articles,
// /v1/search and /v1/facets. The server's "to" is exclusive; the form's is the last day wanted.
function serverParams(f) {
  const p = {};
  for (const k of FILTER_KEYS) if (f[k]) p[k] = f[k];
  if (f.to) {
    const t = Date.parse(f.to);
    if (!Number.isNaN(t)) p.to = new Date(t + 864e5).toISOString().slice(0, 10);
  }
  return p;
}

// One page of the selection: /v1/search (best first) when there are words, else /v1/articles
// (newest first). Search hits carry no entities, so the map's places of the same page come
// from /v1/articles with the same filters, asking only for the fields the map draws.
async function fetchPage(f, cursor) {
  const p = { ...serverParams(f), limit: PAGE, cursor };
  if (!f.q) {
    const r = await api('/v1/articles', { ...p, sort: 'published' });
    return { docs: r.articles || [], geo: r.articles || [], next: r.next, total: r.total, exact: r.total_exact };
  }
  const r = await api('/v1/search', p);
  const hits = r.hits || [];
  let geo = [];
  if (hits.length) {
    try {
      const g = await api('/v1/articles', { ...serverParams(f), limit: 500, fields: 'id,entities' });
      const ids = new Set(hits.map((h) => h.id));
      geo = (g.articles || []).filter((d) => ids.has(d.id));
    } catch (e) { /* the list still shows; the map has no places */ }
  }
  return { docs: hits, geo, next: r.next, total: r.total, exact: r.total_exact };
}

async function apply(f) {
  state.filters = f;
  state.gen++;
  writeForm(f);
  drawChips();
  refreshFacets();
  if (!active(f)) {
    state.selection = null;
    state.next = null;
    render();
    return;
  }
  const gen = state.gen;
  $('#status').dataset.busy = '1';
  try {
    const pg = await fetchPage(f);
    if (gen !== state.gen) return; // the filters changed meanwhile
    state.selection = pg.docs;
    state.geo = new Map(pg.geo.map((d) => [d.id, d]));
    state.next = pg.next || null;
    state.total = pg.total === undefined ? null : `${pg.total}${pg.exact === false ? '+' : ''}`;
  } catch (e) {
    if (gen !== state.gen) return;
    state.selection = [];
    state.geo = new Map();
    state.next = null;
    state.total = `error: ${e.message}`;
  }
  delete $('#status').dataset.busy;
  render();
}

// The next page, by the cursor the last one gave ("next"): keys, not offsets, so nothing
// repeats or goes missing while articles arrive.
async function more() {
  if (!state.selection || !state.next) return;
  const gen = state.gen;
  const pg = await fetchPage(state.filters, state.next);
  if (gen !== state.gen) return;
  const have = new Set(state.selection.map((d) => d.id));
  state.selection.push(...pg.docs.filter((d) => !have.has(d.id)));
  for (const d of pg.geo) state.geo.set(d.id, d);
  state.next = pg.next || null;
  render();
}

function current() {
  if (state.selection) return state.selection;
  return [...state.live.values()].reverse();
}

// The documents whose places the map draws: the listed ones, with their entities.
function placed(docs) {
  if (!state.selection) return docs;
  return docs.map((d) => (d.entities ? d : state.geo.get(d.id))).filter(Boolean);
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
  for (const d of state.selection ? docs : docs.slice(0, 300)) {
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
  $('#count').textContent = state.selection && state.total !== null
    ? `(${docs.length} of ${state.total})` : `(${docs.length})`;
  $('#more').hidden = !(state.selection && state.next);
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

// The timeline: articles per hour or day, the sum over languages of /v1/facets?facet=lang's
// per-bucket counts (every enriched article has one language).
function drawTimeline(ans) {
  const svg = $('#timeline');
  svg.replaceChildren();
  const starts = (ans && ans.buckets) || [];
  const counts = starts.map((_, i) => (ans.values || []).reduce((n, v) => n + ((v.counts || [])[i] || 0), 0));
  if (!counts.some(Boolean)) { $('#timeline-unit').textContent = ans ? `(none ${ans.from} – ${ans.to})` : ''; return; }
  const n = counts.length;
  const max = Math.max(...counts);
  const w = 920 / n;
  const hourly = ans.bucket === 'hour';
  for (let i = 0; i < n; i++) {
    if (!counts[i]) continue;
    const h = (120 * counts[i]) / max;
    const r = el('rect', { x: (20 + i * w).toFixed(1), y: (130 - h).toFixed(1), width: Math.max(1, w - 1).toFixed(1), height: h.toFixed(1), 'data-count': counts[i] });
    const day = starts[i].slice(0, hourly ? 13 : 10);
    r.append(el('title', {}, `${day}: ${counts[i]}`));
    r.addEventListener('click', () => {
      const d = day.slice(0, 10);
      apply({ ...state.filters, from: d, to: d });
    });
    svg.append(r);
  }
  svg.append(el('text', { x: 20, y: 150 }, starts[0].slice(0, 10)));
  svg.append(el('text', { x: 940, y: 150, 'text-anchor': 'end' }, starts[n - 1].slice(0, 10)));
  svg.append(el('text', { x: 20, y: 14 }, `max ${max}`));
  $('#timeline-unit').textContent = `(per ${hourly ? 'hour' : 'day'}, ${counts.reduce((a, b) => a + b, 0)} articles)`;
}

const FACETS = ['person', 'org', 'country', 'place', 'theme', 'lang'];

// The chips: /v1/facets per facet with the current filters, top FACET_TOP by count. A click
// adds the value as a filter (place values keep their country: place=eg.cairo).
function drawFacets(answers) {
  const box = $('#facets');
  box.replaceChildren();
  for (const key of FACETS) {
    const ans = answers[key];
    const top = ((ans && ans.values) || []).filter((v) => v.count > 0).slice(0, FACET_TOP);
    if (!top.length) continue;
    const g = el('div', { class: 'group', 'data-facet': key });
    g.append(el('b', {}, key));
    for (const v of top) {
      const label = key === 'place' ? v.value.split('.').pop() : v.value;
      const chip = el('span', { class: 'chip', 'data-facet': key, 'data-value': v.value, 'data-count': v.count }, `${label} ${v.count}`);
      chip.addEventListener('click', () => apply({ ...state.filters, [key]: v.value }));
      g.append(chip);
    }
    box.append(g);
  }
}

// The facets' window: the filters' dates; with no filter, the stream's backfill (so the chips
// count what the live list holds); else the server's default (the last 7 days). Hourly up to
// three days, else daily; a range too long for buckets draws no timeline.
function facetParams() {
  const p = serverParams(state.filters);
  if (!active(state.filters) && !/^\d+$/.test(state.since)) p.from = state.since; // not a seq
  const lo = p.from ? Date.parse(p.from) : NaN;
  const hi = p.to ? Date.parse(p.to) : Date.now();
  const rel = /^(\d+)([mhd])$/.exec(p.from || '');
  const span = rel ? Number(rel[1]) * { m: 60e3, h: 3600e3, d: 864e5 }[rel[2]]
    : Number.isNaN(lo) ? 7 * 864e5 : hi - lo;
  return { ...p, bucket: span <= 3 * 864e5 ? 'hour' : 'day' };
}

let facetTimer = null;
let facetGen = 0;
async function refreshFacets() {
  clearTimeout(facetTimer);
  facetTimer = null;
  const gen = ++facetGen;
  const p = facetParams();
  const answers = {};
  await Promise.all(FACETS.map(async (key) => {
    const q = key === 'lang' ? { ...p, facet: key, top: 1000 } : { ...p, facet: key, top: FACET_TOP, bucket: 'none' };
    try {
      answers[key] = await api('/v1/facets', q);
    } catch (e) {
      if (key === 'lang' && e.status === 400) { // too many buckets: the chips without a timeline
        try { answers[key] = await api('/v1/facets', { ...q, bucket: 'none' }); } catch (e2) { /* none */ }
      }
    }
  }));
  if (gen !== facetGen) return; // a newer refresh is on its way
  drawFacets(answers);
  drawTimeline(answers.lang);
  $('#facets').dataset.src = new URLSearchParams(Object.entries(p).filter(([, v]) => v)).toString();
}

// Live arrivals change the counts: ask again, at most every two seconds.
function facetsSoon() {
  if (!facetTimer) facetTimer = setTimeout(refreshFacets, 2000);
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
    drawMap(placed(docs));
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
  facetsSoon();
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
  closeStream = openStream(state.since, onArticle, setStatus);
}

async function main() {
  const params = new URLSearchParams(location.search);
  state.token = params.get('token') || localStorage.getItem('newswire.token') || '';
  $('#token').value = state.token;
  $('#token').addEventListener('change', (e) => {
    state.token = e.target.value.trim();
    localStorage.setItem('newswire.token', state.token);
    connect();
    apply(state.filters);
  });
  $('#filters').addEventListener('submit', (e) => { e.preventDefault(); apply(readForm()); });
  $('#clear').addEventListener('click', () => apply({}));
  $('#more').addEventListener('click', () => more().catch((e) => { $('#count').textContent = `(error: ${e.message})`; }));
  state.since = params.get('since') || '1d';
  try {
    const topo = await (await fetch('vendor/countries-110m.json')).json();
    state.world = topojson.feature(topo, topo.objects.countries);
  } catch (e) {
    state.world = null; // markers still draw, on an empty sphere
  }
  const f = {};
  for (const k of FILTER_KEYS) if (params.get(k)) f[k] = params.get(k);
  await connect();
  await apply(f);
  document.body.dataset.ready = '1';
}

main();
