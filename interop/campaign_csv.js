'use strict';
// Writes the recipients and templates CSV of one run of lib.js RUNS for `smscast send`.
// usage: node campaign_csv.js RUN DIR  → DIR/RUN.recipients.csv, DIR/RUN.templates.csv
const fs = require('fs');
const path = require('path');
const { RUNS } = require('./lib');

const [name, dir] = process.argv.slice(2);
const run = RUNS.find((r) => r.name === name);
if (!run || !dir) {
  console.error(`usage: node campaign_csv.js (${RUNS.map((r) => r.name).join('|')}) DIR`);
  process.exit(2);
}
const q = (s) => `"${s.replace(/"/g, '""')}"`;
fs.writeFileSync(path.join(dir, `${name}.recipients.csv`), 'msisdn,template\n' + run.rows.map((r) => `${r.msisdn},${r.template}\n`).join(''));
fs.writeFileSync(path.join(dir, `${name}.templates.csv`), 'id,text,from\n' + run.rows.map((r) => `${r.template},${q(r.text)},${q(run.from)}\n`).join(''));
