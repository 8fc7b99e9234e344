// run.js: compromise (npm, pinned in package.json) on the CoNLL-2003 sentences bench_enrich
// scores, with the same metric: entity-level exact match (type and both token boundaries),
// micro P/R/F1 over PER, LOC and ORG, and tokens/s on one core. compromise finds people(),
// places() and organizations() in text; its matches are mapped back to the CoNLL tokens by
// character offsets.
// Usage: node bench/compromise/run.js DATA_DIR [MAX_SENTENCES]
'use strict';
const fs = require('fs');
const path = require('path');
const nlp = require('compromise');

const data = process.argv[2];
const max = process.argv[3] ? parseInt(process.argv[3], 10) : Infinity;
const file = path.join(data, 'ner', 'conll2003', 'valid.txt');
if (!fs.existsSync(file)) {
  console.log(`compromise: skipped (no ${file})`);
  process.exit(0);
}

// sentences: [{tokens: [...], gold: Set("TYPE:start:end")}]
const sentences = [];
let tokens = [], tags = [];
function flush() {
  if (tokens.length === 0) return;
  const gold = new Set();
  for (let i = 0; i < tags.length;) {
    const t = tags[i];
    if (t === 'O' || !/^[BI]-(PER|LOC|ORG)$/.test(t)) { i++; continue; }
    const type = t.slice(2);
    let j = i + 1;
    while (j < tags.length && tags[j] === 'I-' + type) j++;
    gold.add(`${type}:${i}:${j}`);
    i = j;
  }
  sentences.push({tokens, gold});
  tokens = [];
  tags = [];
}
for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
  if (line.trim() === '' ) { flush(); continue; }
  const f = line.split(' ');
  if (f[0] === '-DOCSTART-') continue;
  tokens.push(f[0]);
  tags.push(f[f.length - 1]);
}
flush();
const use = sentences.slice(0, max);

const kinds = [['PER', 'people'], ['LOC', 'places'], ['ORG', 'organizations']];
const preds = [];
let nTokens = 0;
const t0 = process.hrtime.bigint();
for (const s of use) {
  const text = s.tokens.join(' ');
  nTokens += s.tokens.length;
  const doc = nlp(text);
  const found = [];
  for (const [type, method] of kinds) {
    for (const m of doc[method]().json({offset: true})) found.push([type, m.offset.start, m.offset.length]);
  }
  preds.push(found);
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;

// score outside the timed part: map character ranges to token ranges
const per = {PER: [0, 0, 0], LOC: [0, 0, 0], ORG: [0, 0, 0]}; // tp, pred, gold
use.forEach((s, k) => {
  const starts = [];
  let pos = 0;
  for (const t of s.tokens) { starts.push(pos); pos += t.length + 1; }
  const pred = new Set();
  for (const [type, start, len] of preds[k]) {
    const end = start + len;
    let a = -1, b = -1;
    s.tokens.forEach((t, i) => {
      const ts = starts[i], te = ts + t.length;
      if (te > start && ts < end) { if (a < 0) a = i; b = i + 1; }
    });
    if (a >= 0) pred.add(`${type}:${a}:${b}`);
  }
  for (const g of s.gold) per[g.split(':')[0]][2]++;
  for (const p of pred) {
    per[p.split(':')[0]][1]++;
    if (s.gold.has(p)) per[p.split(':')[0]][0]++;
  }
});
const f1 = ([tp, np, ng]) => {
  const p = np ? tp / np : 0, r = ng ? tp / ng : 0;
  return [p, r, p + r ? 2 * p * r / (p + r) : 0];
};
const all = [0, 1, 2].map(i => per.PER[i] + per.LOC[i] + per.ORG[i]);
const [P, R, F] = f1(all);
console.log(`command: node bench/compromise/run.js ${data}${max < Infinity ? ' ' + max : ''}`);
console.log(`compromise ${nlp.version}: ${use.length} sentences, ` +
  `${nTokens} tokens`);
console.log(`compromise NER PER+LOC+ORG: P ${P.toFixed(3)} R ${R.toFixed(3)} F1 ${F.toFixed(3)} ` +
  `(PER ${f1(per.PER)[2].toFixed(3)}, LOC ${f1(per.LOC)[2].toFixed(3)}, ORG ${f1(per.ORG)[2].toFixed(3)})`);
console.log(`compromise NER speed: ${Math.round(nTokens / secs)} tokens/s (${secs.toFixed(1)} s, one core)`);
