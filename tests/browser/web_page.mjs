// web_page.mjs: the web page in a real browser (Debian's chromium, headless, driven by
// puppeteer-core). Run by tests/integration/test_web_page.sh against a real `newswire up`:
//   QUERY=http://... FETCH=http://... SHOT=out.png CHROMIUM=/usr/bin/chromium node web_page.mjs
// Exit 0: every check passed; 1: a check failed (message on stderr); 77: chromium cannot start.
// Checks: an article ingested through the fetch API after the page opened appears in the live
// list; a search narrows the list to it; a facet (country) and near= narrow the list; the map has a
// marker for its dateline city; no error reached the page's console. That the server filters,
// counts and pages: the filters reach /v1/articles and /v1/facets as parameters, the chips and
// the timeline show what /v1/facets answers this script itself, and with one article per page
// (?limit=1) the chips still count both articles and "More" follows the "next" cursor.
// A screenshot is written.
// With QUERY_TOKEN and TOKEN (a newswire-query with a token file): the page given the token
// (?token=) streams and lists; without it, it says so instead of listing.
import puppeteer from 'puppeteer-core';
import { setTimeout as sleep } from 'node:timers/promises';

const { QUERY, FETCH, SHOT, QUERY_TOKEN, TOKEN, CHROMIUM = '/usr/bin/chromium' } = process.env;
const T = 60000; // per wait: a sanitizer build on two busy cores is slow

function fail(msg) {
  console.error(`FAIL: ${msg}`);
  process.exit(1);
}
function ok(msg) {
  console.log(`ok - ${msg}`);
}

async function api(path) {
  const r = await fetch(`${QUERY}${path}`);
  if (r.status !== 200) fail(`GET ${path}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

async function ingest(name, text) {
  const r = await fetch(`${FETCH}/v1/articles?url=${encodeURIComponent(`https://example.org/${name}`)}`, {
    method: 'POST', headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: text,
  });
  if (r.status !== 202) fail(`ingest ${name}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()).id;
}

const listIds = (page) => page.$$eval('#articles li', (lis) => lis.map((li) => li.dataset.id));

async function waitList(page, what, pred) {
  const deadline = Date.now() + T;
  let ids = [];
  while (Date.now() < deadline) {
    ids = await listIds(page);
    if (pred(ids)) return ids;
    await sleep(200);
  }
  fail(`${what}: the list holds ${JSON.stringify(ids)}`);
}

let browser;
try {
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --no-sandbox: the suite runs as root, where chromium's sandbox refuses to start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    timeout: T,
  });
} catch (e) {
  console.log(`SKIP: chromium cannot start (${CHROMIUM}): ${e.message.split('\n')[0]}`);
  process.exit(77);
}

try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // Chromium logs every 4xx as "Failed to load resource"; the response handler names them.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  const asked = []; // the API requests the page made, as URLs
  page.on('request', (r) => { if (r.url().includes('/v1/')) asked.push(new URL(r.url())); });
  page.on('requestfailed', (r) => {
    if (!r.url().includes('/v1/stream')) errors.push(`requestfailed: ${r.url()}`);
  });

  // One article before the page opens (the backfill), one after (live).
  const oslo = await ingest('oslo-ferry', 'Oslo ferry timetable changes\n\nOslo, Norway - The ferry company said on Monday that the winter timetable for the Oslo fjord would start a week early because of ice, and commuters should check departures.\n');
  await page.goto(`${QUERY}/`, { waitUntil: 'load', timeout: T });
  await page.waitForSelector('body[data-ready="1"]', { timeout: T });
  await page.waitForSelector('#status[data-state="live"]', { timeout: T });
  await waitList(page, 'the backfill of the stream', (ids) => ids.includes(oslo));
  ok('the page loaded, the stream is live and backfilled an article stored before');
  const mapPaths = await page.$$eval('#map path.country', (p) => p.length);
  if (mapPaths < 100) fail(`the map drew ${mapPaths} country shapes (world-atlas has 177)`);
  ok(`the map drew ${mapPaths} countries offline`);

  const cairo = await ingest('cairo-talks', 'Ceasefire talks resume in Cairo\n\nCairo, Egypt - Negotiators returned to Cairo on Tuesday for a new round of ceasefire talks, Egyptian officials said, as mediators pressed both sides to accept a truce and the exchange of hostages.\n');
  await waitList(page, 'the live list after an ingest', (ids) => ids.includes(cairo) && ids.includes(oslo));
  const first = (await listIds(page))[0];
  if (first !== cairo) fail(`the live article is not at the top (top: ${first})`);
  ok('an article ingested through the fetch API appeared live at the top of the list');

  // The dateline city on the map: a marker for Cairo.
  await page.waitForSelector('#map circle.marker[data-name="Cairo"]', { timeout: T });
  ok('the map has a marker for the dateline city (Cairo)');

  // Search narrows the list.
  await page.type('#filters input[name="q"]', 'ceasefire');
  await page.click('#filters button[type="submit"]');
  await waitList(page, 'a search for "ceasefire"', (ids) => ids.length >= 1 && ids.includes(cairo) && !ids.includes(oslo));
  ok('a search narrowed the list to the matching article');
  await page.click('#clear');
  await waitList(page, 'the list after clearing the search', (ids) => ids.includes(cairo) && ids.includes(oslo));

  // A facet narrows the list: the country chip of Norway.
  await page.waitForSelector('#facets .chip[data-facet="country"][data-value="no"]', { timeout: T });
  await page.click('#facets .chip[data-facet="country"][data-value="no"]');
  await waitList(page, 'the country facet "no"', (ids) => ids.includes(oslo) && !ids.includes(cairo));
  const onMap = await page.$$eval('#map circle.marker', (cs) => cs.map((c) => c.dataset.name));
  if (onMap.includes('Cairo') || !onMap.includes('Oslo')) fail(`the map after the facet shows ${JSON.stringify(onMap)}`);
  ok('a facet filter (country) narrowed the list and the map');
  for (const path of ['/v1/articles', '/v1/facets']) {
    if (!asked.some((u) => u.pathname === path && u.searchParams.get('country') === 'no')) {
      fail(`the page never asked ${path} with country=no: ${asked.map(String).join(' ')}`);
    }
  }
  if (asked.some((u) => u.searchParams.has('by'))) fail('the page still sends by= (the parameter is facet=)');
  // The language chip under the filter shows the server's count for it.
  const langAns = await api('/v1/facets?facet=lang&country=no&top=1000');
  const en = langAns.values.find((v) => v.value === 'en');
  if (!en) fail(`/v1/facets?facet=lang&country=no has no "en": ${JSON.stringify(langAns)}`);
  await page.waitForSelector(`#facets .chip[data-facet="lang"][data-value="en"][data-count="${en.count}"]`, { timeout: T });
  ok(`the filter went to /v1/articles and /v1/facets; the lang chip shows /v1/facets' count (en ${en.count})`);

  await page.click('#clear');
  await waitList(page, 'the list after clearing the facet', (ids) => ids.includes(cairo) && ids.includes(oslo));

  // A geographic filter: within 50 km of Cairo.
  await page.type('#filters input[name="near"]', '30.04,31.24,50');
  await page.click('#filters button[type="submit"]');
  await waitList(page, 'near=Cairo,50km', (ids) => ids.includes(cairo) && !ids.includes(oslo));
  ok('a near= filter narrowed the list to the article placed within 50 km of Cairo');
  await page.click('#clear');
  await waitList(page, 'the list after clearing near', (ids) => ids.includes(cairo) && ids.includes(oslo));
  // Pages of one article from yesterday on: the list holds one, with "More" and the server's
  // total; the chips and the timeline count both (the page could not count what it has not
  // loaded); "More" fetches the next page by the cursor.
  const from = new Date(Date.now() - 864e5).toISOString().slice(0, 10);
  await page.goto(`${QUERY}/?limit=1&from=${from}`, { waitUntil: 'load', timeout: T });
  await page.waitForSelector('body[data-ready="1"]', { timeout: T });
  const total = (await api(`/v1/articles?from=${from}&limit=1`)).total;
  if (total !== 2) fail(`/v1/articles?from=${from} counts ${total} articles, expected 2`);
  const one = await waitList(page, 'a page of one article', (ids) => ids.length === 1);
  const countText = await page.$eval('#count', (e) => e.textContent);
  if (countText !== `(1 of ${total})`) fail(`the count says ${countText}, expected (1 of ${total})`);
  const countries = await api(`/v1/facets?facet=country&from=${from}&top=12&bucket=none`);
  for (const c of ['eg', 'no']) {
    const v = countries.values.find((x) => x.value === c);
    if (!v) fail(`/v1/facets?facet=country has no ${c}: ${JSON.stringify(countries)}`);
    await page.waitForSelector(`#facets .chip[data-facet="country"][data-value="${c}"][data-count="${v.count}"]`, { timeout: T });
  }
  const bars = await page.$$eval('#timeline rect', (rs) => rs.reduce((n, r) => n + Number(r.dataset.count), 0));
  if (bars !== total) fail(`the timeline counts ${bars} articles, /v1/articles ${total}`);
  ok(`with one article loaded, the chips (eg, no) and the timeline (${bars}) show /v1/facets' counts`);
  await page.click('#more');
  const two = await waitList(page, 'the second page', (ids) => ids.length === 2);
  if (two[0] !== one[0] || !two.includes(cairo) || !two.includes(oslo)) fail(`pages: ${JSON.stringify(two)}`);
  if (!asked.some((u) => u.pathname === '/v1/articles' && u.searchParams.get('cursor'))) fail('"More" sent no cursor');
  ok('"More" loaded the next page with the "next" cursor');

  if (SHOT) {
    await page.screenshot({ path: SHOT, fullPage: true });
    ok(`screenshot: ${SHOT}`);
  }
  if (errors.length) fail(`the page reported errors:\n  ${errors.join('\n  ')}`);
  ok('no errors in the page');

  if (QUERY_TOKEN && TOKEN) {
    const p2 = await browser.newPage();
    await p2.goto(`${QUERY_TOKEN}/?token=${encodeURIComponent(TOKEN)}`, { waitUntil: 'load', timeout: T });
    await p2.waitForSelector('#status[data-state="live"]', { timeout: T });
    await waitList(p2, 'the page with a token', (ids) => ids.includes(cairo) && ids.includes(oslo));
    const late = await ingest('late-token', 'Token test story\n\nLima, Peru - A story sent while the page reads its stream with a bearer token, the test said.\n');
    await waitList(p2, 'a live article with a token', (ids) => ids[0] === late);
    ok('with a bearer token: the stream (fetch-based SSE reader) backfills and goes live');
    await p2.evaluate(() => localStorage.clear());
    const p3 = await browser.newPage();
    await p3.goto(`${QUERY_TOKEN}/`, { waitUntil: 'load', timeout: T });
    await sleep(3000);
    const n = (await listIds(p3)).length;
    const st = await p3.$eval('#status', (e) => e.dataset.state || '');
    if (n !== 0 || st === 'live') fail(`without a token the page listed ${n} articles, status ${st}`);
    ok(`without a token: nothing listed, status "${st}"`);
  }
} catch (e) {
  fail(e.stack || e.message);
} finally {
  await browser.close();
}
