'use strict';
// An ESME built on node-smpp (npm "smpp") that drives `smscast sim`, for scripts/interop.sh.
//
// usage:
//   node esme.js run --addr HOST:PORT --system-id ID --expect FILE
//       (password in INTEROP_PASSWORD) binds, submits the messages below (submit_sm and one
//       data_sm) with registered_delivery 1, checks every response and receipt, answers the receipts,
//       probes enquire_link, an unknown command and a wrong password, unbinds, and writes the
//       counters the simulator must report to FILE.
//   node esme.js summary --expect FILE --stdout FILE --log FILE --rc N
//       checks the simulator's exit status, its one-line JSON summary and its message log.
const fs = require('fs');
const smpp = require('smpp');
const lib = require('./lib');

const [mode, ...rest] = process.argv.slice(2);
const args = Object.fromEntries(rest.reduce((a, v, i, all) => (i % 2 === 0 ? a.concat([[v.replace(/^--/, ''), all[i + 1]]]) : a), []));
const t = new lib.Tally('node→smscast sim');

const fromBuffer = smpp.PDU.prototype.fromBuffer;
smpp.PDU.prototype.fromBuffer = function (buf) {
  Object.defineProperty(this, 'raw', { value: Buffer.from(buf), enumerable: false });
  return fromBuffer.call(this, buf);
};
// A command_id no SMPP version defines, to see the simulator's generic_nack.
smpp.addCommand('interop_unknown', { id: 0x00000099 });

// The messages node-smpp encodes and submits. Destinations: 4917198… is the simulator's
// --reject-prefix, 4917199… its --undeliv-prefix.
const LONG = 'L'.repeat(100) + ' two parts with a UDH built by node-smpp ' + 'x'.repeat(60);
const MESSAGES = [
  { name: 'gsm', dest: '491712100001', data_coding: 0, text: 'Hello €uro [x] {y} ~ @ £ ÄÖÜ äöü ß Δ', parts: 1 },
  { name: 'ucs2', dest: '491712100002', data_coding: 8, text: 'Привет 👋 мир', parts: 1 },
  { name: 'latin1', dest: '491712100003', data_coding: 3, text: 'Café Zürich: 5 × 3 ½', parts: 1 },
  { name: 'udh', dest: '491712100004', data_coding: 0, text: LONG, parts: 2, split: 'udh' },
  { name: 'sar', dest: '491712100005', data_coding: 0, text: LONG, parts: 2, split: 'sar' },
  { name: 'payload', dest: '491712100006', data_coding: 8, text: 'Длинное сообщение в message_payload 📦 '.repeat(4), parts: 1, split: 'payload' },
  { name: 'undeliv', dest: '491719900007', data_coding: 0, text: 'This one is undeliverable', parts: 1, state: 5 },
  // node-smpp writes a Date as an absolute UTC time ("…t00+") and a 12-digit string as relative.
  { name: 'validity-absolute', dest: '491712100009', data_coding: 0, text: 'Valid for an hour', parts: 1, extra: () => ({ validity_period: new Date(Date.now() + 3600e3) }) },
  { name: 'validity-relative', dest: '491712100010', data_coding: 0, text: 'Valid for a day', parts: 1, extra: () => ({ validity_period: '000001000000' }) },
  { name: 'data_sm', dest: '491712100011', data_coding: 0, text: 'data_sm with message_payload: €5 [ok]', parts: 1, command: 'data_sm' },
  { name: 'reject', dest: '491719800008', data_coding: 0, text: 'This one is rejected', parts: 1, reject: true },
];

function pdusOf(m) {
  const base = { source_addr_ton: 5, source_addr_npi: 0, source_addr: 'NodeESME', dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: m.dest, registered_delivery: 1, data_coding: m.data_coding, ...(m.extra ? m.extra() : {}) };
  if (m.split === 'payload' || m.command === 'data_sm') return [{ ...base, message_payload: m.text }];
  if (!m.split) return [{ ...base, short_message: m.text }];
  const cut = 153; // GSM septets per part with an 8-bit-reference UDH (ASCII letters only here)
  const chunks = [m.text.slice(0, cut), m.text.slice(cut)];
  if (m.split === 'udh') return chunks.map((c, i) => ({ ...base, short_message: { udh: Buffer.from([5, 0, 3, 0xA7, 2, i + 1]), message: c } }));
  return chunks.map((c, i) => ({ ...base, sar_msg_ref_num: 0x1234, sar_total_segments: 2, sar_segment_seqnum: i + 1, short_message: c }));
}

function connect(host, port) {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ host, port });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}
const request = (s, cmd, opts) => new Promise((resolve) => s[cmd](opts, resolve));

async function run() {
  const [host, port] = args.addr.split(':');
  const password = process.env.INTEROP_PASSWORD;

  // A wrong password is refused with ESME_RINVPASWD and a header-only response.
  const bad = await connect(host, Number(port));
  const refused = await request(bad, 'bind_transceiver', { system_id: args['system-id'], password: 'wrong', interface_version: 0x34 });
  t.check(refused.command_status === smpp.ESME_RINVPASWD && refused.raw.length === 16, 'a wrong password gets a 16-octet bind_transceiver_resp ESME_RINVPASWD (0x0E)', lib.hex(refused.raw));
  bad.destroy();

  const s = await connect(host, Number(port));
  s.on('error', (e) => t.check(false, 'node-smpp decodes every PDU from the simulator', e.message));
  const receipts = [];
  let allReceipts = () => {};
  s.on('deliver_sm', (pdu) => {
    receipts.push(pdu);
    s.send(pdu.response());
    allReceipts();
  });
  s.on('enquire_link', (pdu) => s.send(pdu.response()));
  let unboundBySim = false;
  s.on('unbind', (pdu) => { unboundBySim = true; s.send(pdu.response()); });

  const bind = await request(s, 'bind_transceiver', { system_id: args['system-id'], password, interface_version: 0x34 });
  t.check(bind.command_status === 0 && bind.system_id, `bind_transceiver accepted (resp ${lib.hex(bind.raw)}, system_id ${JSON.stringify(bind.system_id)}, sc_interface_version ${bind.sc_interface_version})`, `status 0x${bind.command_status.toString(16)}`);

  // Submit everything; responses may come in any order, the window is node's (unbounded).
  const results = await Promise.all(MESSAGES.map((m) => Promise.all(pdusOf(m).map((p) => request(s, m.command || 'submit_sm', p)))));
  const accepted = new Map(); // message id → message
  let acceptedPDUs = 0, rejectedPDUs = 0, submittedPDUs = 0;
  MESSAGES.forEach((m, i) => {
    const resps = results[i];
    submittedPDUs += resps.length;
    if (m.reject) {
      rejectedPDUs += resps.length;
      t.check(resps.every((r) => r.command_status === smpp.ESME_RINVDSTADR && r.raw.length === 16), `${m.name}: --reject-prefix gives a 16-octet submit_sm_resp ESME_RINVDSTADR (0x0B)`, resps.map((r) => lib.hex(r.raw)).join(' '));
      return;
    }
    const respName = `${m.command || 'submit_sm'}_resp`;
    const ok = resps.every((r) => {
      if (r.command_status !== 0 || r.command !== respName) return false;
      const own = lib.decodeIDResp(r.raw, 65);
      return own.message_id && own.message_id === r.message_id && own.tlvs.length === 0;
    });
    t.check(ok, `${m.name}: ${resps.length} ${respName} with status 0 and a message_id C(≤65)`, resps.map((r) => lib.hex(r.raw)).join(' '));
    resps.forEach((r) => { if (r.message_id) accepted.set(r.message_id, m); });
    acceptedPDUs += resps.length;
  });
  t.check(accepted.size === acceptedPDUs, `${acceptedPDUs} distinct message ids, one per accepted part`, `${accepted.size} distinct`);

  // One receipt per accepted part (the simulator's receipts are per part).
  if (receipts.length < acceptedPDUs) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 10000);
      allReceipts = () => { if (receipts.length >= acceptedPDUs) { clearTimeout(timer); resolve(); } };
    });
  }
  t.check(receipts.length === acceptedPDUs, `received ${acceptedPDUs} deliver_sm receipts`, `got ${receipts.length}`);
  const seen = new Set();
  for (const r of receipts) {
    let own;
    try { own = lib.decodeSM(r.raw); } catch (e) { own = { error: e.message }; }
    const id = r.receipted_message_id;
    const m = accepted.get(id);
    const text = r.short_message && typeof r.short_message.message === 'string' ? r.short_message.message : r.message_payload && r.message_payload.message;
    const wantState = (m && m.state) || 2;
    const stat = { 2: 'DELIVRD', 5: 'UNDELIV' }[wantState];
    const problems = [];
    if (own.error) problems.push(`our decoder: ${own.error}`);
    if (!m) problems.push(`receipted_message_id ${JSON.stringify(id)} matches no submit_sm_resp`);
    if (seen.has(id)) problems.push(`second receipt for ${id}`);
    seen.add(id);
    if ((r.esm_class & 0x3C) !== 0x04) problems.push(`esm_class 0x${r.esm_class.toString(16)} is not a delivery receipt (0x04)`);
    if (r.message_state !== wantState) problems.push(`message_state ${r.message_state}, want ${wantState}`);
    if (m && (r.source_addr !== m.dest || r.destination_addr !== 'NodeESME')) problems.push(`addresses ${r.source_addr} → ${r.destination_addr}, want ${m.dest} → NodeESME`);
    if (!own.error) {
      const ownText = own.data_coding === 0 ? lib.gsmDecode(Buffer.from(own.short_message, 'hex')) : Buffer.from(own.short_message, 'hex').toString('latin1');
      if (ownText !== text) problems.push(`node-smpp read the text as ${JSON.stringify(text)}, we read ${JSON.stringify(ownText)}`);
      const tl = Object.fromEntries(own.tlvs.map((x) => [x.tag, x.value]));
      if (tl[lib.TAG.receipted_message_id] !== lib.hex(Buffer.concat([Buffer.from(id || '', 'latin1'), Buffer.from([0])]))) problems.push('receipted_message_id is not the id as a C-string');
    }
    if (typeof text !== 'string' || !new RegExp(`^id:${id} sub:\\d{3} dlvrd:\\d{3} submit date:\\d{10,12} done date:\\d{10,12} stat:${stat} err:\\d{3} [Tt]ext:`).test(text)) problems.push(`text ${JSON.stringify(text)} is not the App. B form with id:${id} stat:${stat}`);
    t.check(problems.length === 0, `receipt for ${m ? m.name : '?'} (${id}): esm_class 0x04, receipted_message_id, message_state ${wantState}, App. B text`, problems.join('\n') + `\n${lib.hex(r.raw)}`);
  }

  const el = await request(s, 'enquire_link', {});
  t.check(el.command === 'enquire_link_resp' && el.command_status === 0 && el.raw.length === 16, 'enquire_link gets a 16-octet enquire_link_resp, status 0', lib.hex(el.raw));
  const nack = await request(s, 'interop_unknown', {});
  t.check(nack.command === 'generic_nack' && nack.command_status === smpp.ESME_RINVCMDID && nack.raw.length === 16, 'an unknown command_id gets generic_nack ESME_RINVCMDID with its sequence number', lib.hex(nack.raw));
  const closed = new Promise((resolve) => s.once('close', resolve));
  const ub = await request(s, 'unbind', {});
  t.check(ub.command === 'unbind_resp' && ub.command_status === 0 && ub.raw.length === 16, 'unbind gets unbind_resp, status 0', lib.hex(ub.raw));
  const closedInTime = await Promise.race([closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
  t.check(closedInTime, 'the simulator closes the connection after unbind_resp');
  if (!closedInTime) s.destroy();
  t.check(!unboundBySim, 'the simulator did not unbind us');

  const expect = {
    counts: { sessions: 1, bind_failures: 1, submits: submittedPDUs, accepted: acceptedPDUs, rejected: rejectedPDUs, throttled: 0, queue_full: 0, receipts_sent: acceptedPDUs, receipts_acked: acceptedPDUs, deliver_sm_resp: acceptedPDUs, drops: 0, unbinds: 0, generic_nacks: 1 },
    messages: MESSAGES.filter((m) => !m.reject).map((m) => ({ command: m.command || 'submit_sm', dest: m.dest, text: m.text, data_coding: m.data_coding, parts: pdusOf(m).length, esm_class: m.split === 'udh' ? 0x40 : 0, state: m.state === 5 ? 'UNDELIV' : 'DELIVRD', ids: [...accepted].filter(([, v]) => v === m).map(([k]) => k) })),
  };
  fs.writeFileSync(args.expect, JSON.stringify(expect, null, 1));
}

function summary() {
  const expect = JSON.parse(fs.readFileSync(args.expect, 'utf8'));
  t.check(args.rc === '0', 'smscast sim exits 0 on SIGTERM', `exit status ${args.rc}`);
  const lines = fs.readFileSync(args.stdout, 'utf8').split('\n').filter(Boolean);
  let sum = null;
  try { sum = JSON.parse(lines[lines.length - 1]); } catch (e) { /* reported below */ }
  t.check(lines.length === 2 && /^127\.0\.0\.1:\d+$/.test(lines[0]) && sum, 'sim prints its address, then one line of JSON summary', lines.join('\n'));
  if (sum) {
    const got = Object.fromEntries(Object.keys(expect.counts).map((k) => [k, sum[k]]));
    t.eq(got, expect.counts, 'the summary counts what node-smpp did');
    t.check(Number.isInteger(sum.max_outstanding) && sum.max_outstanding >= 1, `the summary reports the largest window seen (${sum.max_outstanding})`, JSON.stringify(sum));
  }
  // What the simulator decoded from node-smpp's octets (its --log), message by message.
  const log = fs.existsSync(args.log) ? fs.readFileSync(args.log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  for (const m of expect.messages) {
    const got = log.filter((r) => r.destination && r.destination.addr === m.dest);
    t.eq(got.map((r) => ({ command: r.command, text: r.text, text_error: r.text_error, data_coding: r.data_coding, parts: r.parts, total_parts: r.total_parts, esm_class: r.esm_class, ids: r.ids, source: r.source, state: r.state })),
      [{ command: m.command, text: m.text, data_coding: m.data_coding, parts: m.parts, total_parts: m.parts, esm_class: m.esm_class, ids: m.ids, source: { ton: 5, npi: 0, addr: 'NodeESME' }, state: m.state }],
      `sim decoded node-smpp's ${m.command} to ${m.dest} (${m.parts} part(s), data_coding ${m.data_coding})`);
  }
}

const guard = setTimeout(() => { t.check(false, `esme.js ${mode} finished within 30 s`); process.exit(1); }, 30000);
(mode === 'run' ? run() : Promise.resolve().then(summary))
  .catch((e) => t.check(false, `esme.js ${mode} ran to the end`, e.stack))
  .finally(() => {
    clearTimeout(guard);
    console.log(`# node→smscast sim (${mode}): ${t.passed} passed, ${t.failed} failed`);
    process.exit(t.failed ? 1 : 0);
  });
