// run.js: Readability.js (on linkedom) over the same pages bench_extract reads, for the speed
// ratio. Times only parse + extract, on one core (node runs this single-threaded).
// Usage: node run.js [DATA_DIR]   (default $NW_SHARED_DATA, else ../shared/data)
'use strict';
const fs = require('fs');
const path = require('path');
const { parseHTML } = require('linkedom');
const { Readability } = require('@mozilla/readability');

const data = process.argv[2] || process.env.NW_SHARED_DATA || '../shared/data';
const pages = [];
const traf = path.join(data, 'extraction', 'trafilatura');
if (fs.existsSync(path.join(traf, 'evaldata.json'))) {
  const ev = JSON.parse(fs.readFileSync(path.join(traf, 'evaldata.json'), 'utf8'));
  for (const url of Object.keys(ev)) {
    for (const sub of ['eval', 'cache']) {
      const p = path.join(traf, sub, ev[url].file);
      if (fs.existsSync(p)) { pages.push({ corpus: 'trafilatura', p }); break; }
    }
  }
}
const rd = path.join(data, 'extraction', 'readability');
if (fs.existsSync(rd)) {
  for (const d of fs.readdirSync(rd).sort()) {
    const p = path.join(rd, d, 'source.html');
    if (fs.existsSync(p)) pages.push({ corpus: 'readability', p });
  }
}
if (pages.length === 0) {
  console.log(`skipped: no extraction data under ${data}`);
  process.exit(0);
}
const stats = {};
for (const { corpus, p } of pages) {
  const html = fs.readFileSync(p, 'utf8');
  const s = stats[corpus] || (stats[corpus] = { pages: 0, bytes: 0, ms: 0, failed: 0 });
  const t0 = process.cpuUsage();
  try {
    const { document } = parseHTML(html);
    const art = new Readability(document).parse();
    if (!art || !art.textContent) s.failed++;
  } catch (e) {
    s.failed++;
  }
  const dt = process.cpuUsage(t0);
  s.ms += (dt.user + dt.system) / 1000;
  s.pages++;
  s.bytes += Buffer.byteLength(html);
}
for (const [corpus, s] of Object.entries(stats)) {
  console.log(`readability.js ${corpus} speed: ${s.pages} pages, ${(s.bytes / 1e6).toFixed(1)} MB ` +
    `in ${(s.ms / 1000).toFixed(3)} s CPU: ${(s.pages / (s.ms / 1000)).toFixed(1)} pages/s, ` +
    `${(s.bytes / 1e6 / (s.ms / 1000)).toFixed(2)} MB/s (one core), ${s.failed} failed`);
}
