// web_page.mjs: the web page in a real browser (Debian's chromium, headless, driven by
// puppeteer-core). Run by tests/integration/test_web_page.sh against a real `newswire up`:
//   QUERY=http://... FETCH=http://... SHOT=out.png CHROMIUM=/usr/bin/chromium node web_page.mjs
// Exit 0: every check passed; 1: a check failed (message on stderr); 77: chromium cannot start.
// Checks: an article ingested through the fetch API after the page opened appears in the live
// list; a search narrows the list to it; a facet (country) and near= narrow the list; the map has a
// marker for its dateline city; no error reached the page's console. A screenshot is written.
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
  // The page probes /v1/facets to learn whether the server takes the filters itself: a 404
  // there is expected from an older newswire-query, and chromium logs it as a console error.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().includes('/v1/facets')) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  });
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

  await page.click('#clear');
  await waitList(page, 'the list after clearing the facet', (ids) => ids.includes(cairo) && ids.includes(oslo));

  // A geographic filter: within 50 km of Cairo.
  await page.type('#filters input[name="near"]', '30.04,31.24,50');
  await page.click('#filters button[type="submit"]');
  await waitList(page, 'near=Cairo,50km', (ids) => ids.includes(cairo) && !ids.includes(oslo));
  ok('a near= filter narrowed the list to the article placed within 50 km of Cairo');
  await page.click('#clear');
  await waitList(page, 'the list after clearing near', (ids) => ids.includes(cairo) && ids.includes(oslo));
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
