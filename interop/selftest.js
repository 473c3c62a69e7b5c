'use strict';
// Proves check_smsc.js is not vacuous: it reruns the checker on copies of a passing run, each
// with one defect planted, and expects the checker to fail on exactly the check that defect
// concerns.
// usage: node selftest.js --records FILE --dir DIR --system-id ID
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const lib = require('./lib');

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (i % 2 === 0 ? a.concat([[v.replace(/^--/, ''), all[i + 1]]]) : a), []));
const t = new lib.Tally('checker self-test');
const lines = fs.readFileSync(args.records, 'utf8').split('\n').filter(Boolean);
const isSubmit = (r, dest) => r.type === 'pdu' && r.command === 'submit_sm' && r.own.destination_addr === dest;

const DEFECTS = [
  { name: '€ sent as a plain "e" (1B 65 → 65)', expect: /^not ok - .*gsm → \+491711100001: user data octets/m,
    records: (rs) => rs.map((r) => { if (isSubmit(r, '491711100001')) r.own.short_message = r.own.short_message.replace('1B65', '65'); return r; }) },
  { name: 'one part of a 3-part UDH message lost', expect: /^not ok - .*run udh, longgsm .*: 3 submit_sm/m,
    records: (rs) => { const i = rs.findIndex((r) => isSubmit(r, '491711100003')); return rs.filter((_, j) => j !== i); } },
  { name: 'a UDH reference differing between parts', expect: /^not ok - .*run udh16, longucs2 .*: UDH, esm_class/m,
    records: (rs) => { let n = 0; return rs.map((r) => { if (isSubmit(r, '491711300004') && n++ === 1) r.own.short_message = r.own.short_message.slice(0, 6) + 'FFFF' + r.own.short_message.slice(10); return r; }); } },
  { name: 'sar_segment_seqnum 1 twice', expect: /^not ok - .*run sar, longgsm .*: sar_\* TLVs/m,
    records: (rs) => { let n = 0; return rs.map((r) => { if (isSubmit(r, '491711200003') && n++ === 1) r.own.tlvs.find((x) => x.tag === lib.TAG.sar_segment_seqnum).value = '01'; return r; }); } },
  { name: 'a report row left PENDING', expect: /^not ok - .*run udh, ucs2 .*: report row/m,
    report: (name, text) => (name === 'udh.report.jsonl' ? text.replace(/("msisdn":"491711100002".*?"receipt_status":)"DELIVRD"/, '$1"PENDING"') : text) },
];

for (const d of DEFECTS) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'interop-selftest-'));
  try {
    for (const f of fs.readdirSync(args.dir)) {
      const src = path.join(args.dir, f);
      if (fs.statSync(src).isFile()) fs.writeFileSync(path.join(dir, f), d.report ? d.report(f, fs.readFileSync(src, 'utf8')) : fs.readFileSync(src));
    }
    const recs = lines.map((l) => JSON.parse(l));
    fs.writeFileSync(path.join(dir, 'records.jsonl'), (d.records ? d.records(recs) : recs).map((r) => JSON.stringify(r)).join('\n') + '\n');
    let out = '', status = 0;
    try {
      out = execFileSync(process.execPath, [path.join(__dirname, 'check_smsc.js'), '--records', path.join(dir, 'records.jsonl'), '--dir', dir, '--system-id', args['system-id']], { encoding: 'utf8' });
    } catch (e) { out = e.stdout; status = e.status; }
    const failed = out.split('\n').filter((l) => l.startsWith('not ok'));
    t.check(status === 1 && d.expect.test(out), `the checker catches ${d.name}`, `exit ${status}; its failures:\n${failed.join('\n') || '(none)'}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`# checker self-test: ${t.passed} passed, ${t.failed} failed`);
process.exit(t.failed ? 1 : 0);
