'use strict';
// Judges a campaign that `smscast send` sent to smsc.js (node-smpp as the SMSC): every PDU that
// node-smpp decoded must agree with our own decoding of the same octets and with what the
// campaign (lib.js RUNS) says should be on the wire, and smscast's reports must show every row
// accepted with node's message ids and the receipt state node sent.
//
// usage: node check_smsc.js --records FILE --dir DIR --system-id ID
//        DIR holds <run>.rc (smscast's exit status) and <run>.report.jsonl for each run.
const fs = require('fs');
const path = require('path');
const lib = require('./lib');

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (i % 2 === 0 ? a.concat([[v.replace(/^--/, ''), all[i + 1]]]) : a), []));
const records = fs.readFileSync(args.records, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const t = new lib.Tally('smscast→node');

// --- the wire as a whole ---------------------------------------------------------------------
const errors = records.filter((r) => r.type === 'error' || (r.own && r.own.error));
t.check(errors.length === 0, 'node-smpp and our decoder read every PDU without an error', errors.map((e) => JSON.stringify(e)).join('\n'));
const pdus = records.filter((r) => r.type === 'pdu');
const unexpected = pdus.filter((r) => !['bind_transceiver', 'submit_sm', 'enquire_link', 'enquire_link_resp', 'deliver_sm_resp', 'data_sm_resp', 'unbind'].includes(r.command));
t.check(unexpected.length === 0, 'smscast sent only bind_transceiver, submit_sm, enquire_link(_resp), deliver_sm_resp, data_sm_resp and unbind', unexpected.map((r) => `${r.command} ${r.raw}`).join('\n'));

const MANDATORY = ['command_length', 'command_id', 'command_status', 'sequence_number', 'service_type', 'source_addr_ton', 'source_addr_npi', 'source_addr', 'dest_addr_ton', 'dest_addr_npi', 'destination_addr', 'esm_class', 'protocol_id', 'priority_flag', 'schedule_delivery_time', 'validity_period', 'registered_delivery', 'replace_if_present_flag', 'data_coding', 'sm_default_msg_id'];
const submits = pdus.filter((r) => r.command === 'submit_sm');
const disagree = [];
for (const s of submits) {
  for (const k of MANDATORY) if (s.node[k] !== s.own[k]) disagree.push(`seq ${s.own.sequence_number} ${k}: node ${JSON.stringify(s.node[k])} ours ${JSON.stringify(s.own[k])}`);
  for (const [name, tag] of Object.entries(lib.TAG)) {
    const own = s.own.tlvs.find((x) => x.tag === tag);
    if (name === 'message_payload' || !own) continue;
    const v = parseInt(own.value, 16);
    if (s.node[name] !== v) disagree.push(`seq ${s.own.sequence_number} ${name}: node ${s.node[name]} ours ${v}`);
  }
}
t.check(disagree.length === 0, `node-smpp's reading of ${submits.length} submit_sm equals ours field by field`, disagree.join('\n'));

const binds = records.filter((r) => r.type === 'bind_resp');
t.check(binds.some((b) => b.sc_interface_version === null) && binds.some((b) => b.sc_interface_version === 0x34), 'smscast bound both with and without sc_interface_version in bind_transceiver_resp', JSON.stringify(binds));

// Per session: bind fields, the enquire_link probe, sequence numbers, receipts answered, unbind.
const sessions = [...new Set(pdus.map((r) => r.session))];
for (const sid of sessions) {
  const mine = pdus.filter((r) => r.session === sid);
  const bind = mine[0];
  t.check(bind && bind.command === 'bind_transceiver', `session ${sid}: the first PDU is bind_transceiver`, bind && bind.command);
  if (bind && bind.command === 'bind_transceiver') {
    const b = bind.own;
    t.eq({ system_id: b.system_id, password_ok: b.password_ok, system_type: b.system_type, interface_version: b.interface_version, addr_ton: b.addr_ton, addr_npi: b.addr_npi, address_range: b.address_range, tlvs: b.tlvs },
      { system_id: args['system-id'], password_ok: true, system_type: '', interface_version: 0x34, addr_ton: 0, addr_npi: 0, address_range: '', tlvs: [] }, `session ${sid}: bind_transceiver fields (${bind.raw.replace(/^(.{32})(.*)$/, '$1…')})`);
  }
  const el = records.filter((r) => r.type === 'enquire_link_resp' && r.session === sid);
  t.check(el.length === 1 && el[0].status === 0 && el[0].raw.length === 32, `session ${sid}: answers node's enquire_link with a 16-octet enquire_link_resp, status 0`, JSON.stringify(el));
  const reqs = mine.filter((r) => !r.command.endsWith('_resp')).map((r) => r.own.sequence_number);
  t.check(reqs.every((s, i) => s >= 1 && s <= 0x7FFFFFFF && (i === 0 || s > reqs[i - 1])), `session ${sid}: request sequence numbers rise within 1..0x7FFFFFFF`, reqs.join(','));
  const sent = records.filter((r) => r.type === 'receipt_sent' && r.session === sid);
  const resps = records.filter((r) => r.type === 'receipt_resp' && r.session === sid);
  // deliver_sm_resp is always 17 octets (message_id C(1) = 00); data_sm_resp carries a
  // message_id C(≤65), normally empty, and optional TLVs (§3).
  const bad = resps.filter((r) => r.status !== 0 || (r.command === 'deliver_sm_resp' ? !/^000000118000000500000000[0-9A-F]{8}00$/.test(r.raw) : r.command !== 'data_sm_resp' || lib.decodeIDResp(Buffer.from(r.raw, 'hex'), 65).command_id !== 0x80000103));
  const kinds = [...new Set(sent.map((r) => (r.style === 'data_sm' ? 'data_sm_resp' : '17-octet deliver_sm_resp')))].join(' / ');
  t.check(sent.length > 0 && resps.length === sent.length && bad.length === 0, `session ${sid}: all ${sent.length} receipts answered with a ${kinds}, status 0`, `sent ${sent.length}, answered ${resps.length}, bad: ${bad.map((r) => r.raw).join(' ')}`);
  t.check(mine[mine.length - 1].command === 'unbind', `session ${sid}: ends with unbind`, mine[mine.length - 1].command);
  const moResp = records.filter((r) => r.type === 'mo_resp' && r.session === sid);
  const moCount = lib.MO.messages.length + lib.MO.long.length;
  t.check(moResp.length === moCount && moResp.every((r) => r.status === 0 && /^000000118000000500000000[0-9A-F]{8}00$/.test(r.raw)), `session ${sid}: all ${moCount} MO deliver_sm (the parts of the long one included) answered with a 17-octet deliver_sm_resp, status 0`, JSON.stringify(moResp));
}

// node-smpp's own encoding of the MO texts must be the §9 / UTF-16BE octets, or an inbox
// mismatch below would be node-smpp's fault, not smscast's.
const moSent = records.filter((r) => r.type === 'mo_sent');
t.check(moSent.length > 0 && moSent.every((r) => r.short_message === lib.hex(r.data_coding === 0 ? lib.gsmEncode(r.text) : lib.ucs2Encode(r.text))), 'node-smpp encodes the MO texts as SMPP.md §9 / UTF-16BE say', JSON.stringify(moSent));

// --- each run and row ----------------------------------------------------------------------------
const idOf = new Map(records.filter((r) => r.type === 'submit_sm_resp').map((r) => [`${r.session}/${r.sequence_number}`, r.message_id]));
const stateOf = new Map(records.filter((r) => r.type === 'receipt_sent').map((r) => [r.message_id, r.stat]));

for (const run of lib.RUNS) {
  const rcFile = path.join(args.dir, `${run.name}.rc`);
  const rc = fs.existsSync(rcFile) ? fs.readFileSync(rcFile, 'utf8').trim() : '(missing)';
  t.check(rc === '0', `run ${run.name}: smscast send exited 0`, `exit status ${rc}; see ${path.join(args.dir, run.name + '.log')}`);
  const repFile = path.join(args.dir, `${run.name}.report.jsonl`);
  const report = fs.existsSync(repFile) ? fs.readFileSync(repFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const src = lib.expectedSource(run.from);
  const inboxFile = path.join(args.dir, `${run.name}.inbox.csv`);
  const inbox = fs.existsSync(inboxFile) ? lib.parseCSV(fs.readFileSync(inboxFile, 'utf8')) : [];
  // Sorted: smscast handles each deliver_sm on its own goroutine, and SMPP promises no order.
  const sorted = (rows) => rows.map((r) => JSON.stringify(r)).sort();
  const moTexts = [...lib.MO.messages.map((m) => m.text), lib.MO.long.join('')];
  t.eq([inbox[0], ...sorted(inbox.slice(1).map((r) => [r[1], r[2], r[3]]))], [['time', 'from', 'to', 'text'], ...sorted(moTexts.map((text) => [lib.MO.from, lib.MO.to, text]))],
    `run ${run.name}: --inbox holds node-smpp's MO messages (GSM 7-bit and UCS-2), decoded, the long one joined from its two parts`);
  for (const row of run.rows) {
    const what = `run ${run.name}, ${row.template} → ${row.msisdn}`;
    const dest = row.msisdn.slice(1);
    const parts = submits.filter((s) => s.own.destination_addr === dest);
    const exp = lib.encodeExpected(row.text, run.encoding);
    const single = exp.bytes.length <= exp.single;
    const n = run.split === 'payload' || single ? 1 : lib.minParts(exp.groups, lib.SEGMENT[run.split][exp.kind]);
    if (!t.check(parts.length === n, `${what}: ${n} submit_sm (no part missing or sent twice)`, `got ${parts.length}`)) continue;

    // Fields every part shares.
    const common = parts.map((p) => ({ service_type: p.own.service_type, src: [p.own.source_addr_ton, p.own.source_addr_npi, p.own.source_addr], dst: [p.own.dest_addr_ton, p.own.dest_addr_npi, p.own.destination_addr], protocol_id: p.own.protocol_id, priority_flag: p.own.priority_flag, schedule: p.own.schedule_delivery_time, validity: p.own.validity_period, registered_delivery: p.own.registered_delivery, replace: p.own.replace_if_present_flag, data_coding: p.own.data_coding, sm_default_msg_id: p.own.sm_default_msg_id }));
    const want = { service_type: '', src: [src.ton, src.npi, src.addr], dst: [1, 1, dest], protocol_id: 0, priority_flag: 0, schedule: '', validity: '', registered_delivery: 1, replace: 0, data_coding: exp.dataCoding, sm_default_msg_id: 0 };
    t.eq(common, parts.map(() => want), `${what}: addresses (TON/NPI), data_coding 0x0${exp.dataCoding}, registered_delivery and the other mandatory fields`);

    const tlv = (p, name) => { const x = p.own.tlvs.find((y) => y.tag === lib.TAG[name]); return x ? x.value : undefined; };
    const bodies = [];
    const problems = [];
    parts.forEach((p, i) => {
      const sm = Buffer.from(p.own.short_message, 'hex');
      const hasSAR = ['sar_msg_ref_num', 'sar_total_segments', 'sar_segment_seqnum'].some((k) => tlv(p, k) !== undefined);
      if (run.split === 'payload') {
        if (p.own.sm_length !== 0) problems.push(`part ${i + 1}: sm_length ${p.own.sm_length}, want 0 with message_payload`);
        if (p.own.esm_class !== 0) problems.push(`part ${i + 1}: esm_class 0x${p.own.esm_class.toString(16)}, want 0x00`);
        if (hasSAR) problems.push(`part ${i + 1}: sar_* TLVs with message_payload`);
        bodies.push(Buffer.from(tlv(p, 'message_payload') || '', 'hex'));
        return;
      }
      if (tlv(p, 'message_payload') !== undefined) problems.push(`part ${i + 1}: message_payload present with --split ${run.split}`);
      if (n === 1) {
        if (p.own.esm_class !== 0) problems.push(`esm_class 0x${p.own.esm_class.toString(16)}, want 0x00`);
        if (hasSAR) problems.push('sar_* TLVs on a one-part message');
        bodies.push(sm);
        return;
      }
      const max = lib.SEGMENT[run.split][exp.kind];
      if (run.split === 'sar') {
        if (p.own.esm_class !== 0) problems.push(`part ${i + 1}: esm_class 0x${p.own.esm_class.toString(16)}, want 0x00 (UDHI must be 0 with sar_*)`);
        const ref = tlv(p, 'sar_msg_ref_num'), tot = tlv(p, 'sar_total_segments'), seq = tlv(p, 'sar_segment_seqnum');
        const ref0 = tlv(parts[0], 'sar_msg_ref_num');
        if (!ref || ref.length !== 4 || ref !== ref0) problems.push(`part ${i + 1}: sar_msg_ref_num ${ref}, want 2 octets equal in all parts (${ref0})`);
        if (tot !== n.toString(16).padStart(2, '0').toUpperCase()) problems.push(`part ${i + 1}: sar_total_segments ${tot}, want ${n} (1 octet)`);
        if (seq !== (i + 1).toString(16).padStart(2, '0').toUpperCase()) problems.push(`part ${i + 1}: sar_segment_seqnum ${seq}, want ${i + 1} (1 octet)`);
        const nodeSAR = [p.node.sar_msg_ref_num, p.node.sar_total_segments, p.node.sar_segment_seqnum];
        if (nodeSAR[0] !== parseInt(ref, 16) || nodeSAR[1] !== n || nodeSAR[2] !== i + 1) problems.push(`part ${i + 1}: node-smpp read sar_* as ${nodeSAR}`);
        if (sm.length > max) problems.push(`part ${i + 1}: ${sm.length} octets, more than ${max} (no room for the SMSC's UDH)`);
        bodies.push(sm);
        return;
      }
      // UDH (8- or 16-bit reference), §10.1.
      if (p.own.esm_class !== 0x40) problems.push(`part ${i + 1}: esm_class 0x${p.own.esm_class.toString(16)}, want 0x40 (UDHI)`);
      if (hasSAR) problems.push(`part ${i + 1}: sar_* TLVs combined with a UDH`);
      const udhLen = run.split === 'udh' ? 6 : 7;
      const udh = sm.subarray(0, udhLen);
      const ref0 = Buffer.from(parts[0].own.short_message, 'hex').subarray(3, udhLen - 2);
      const wantUDH = Buffer.concat([run.split === 'udh' ? Buffer.from([5, 0, 3]) : Buffer.from([6, 8, 4]), ref0, Buffer.from([n, i + 1])]);
      if (!udh.equals(wantUDH)) problems.push(`part ${i + 1}: UDH ${lib.hex(udh)}, want ${lib.hex(wantUDH)}`);
      const nodeUDH = (p.node.short_message && p.node.short_message.udh) || [];
      if (nodeUDH.length !== 1 || nodeUDH[0] !== lib.hex(udh.subarray(1))) problems.push(`part ${i + 1}: node-smpp read the UDH as ${JSON.stringify(nodeUDH)}`);
      const body = sm.subarray(udhLen);
      if (body.length > max) problems.push(`part ${i + 1}: ${body.length} units after the UDH, more than ${max}`);
      bodies.push(body);
    });
    t.check(problems.length === 0, `${what}: ${run.split === 'payload' ? 'message_payload' : n > 1 ? (run.split === 'sar' ? 'sar_* TLVs' : 'UDH') + ', esm_class and segment sizes' : 'esm_class and no segmentation'}`, problems.join('\n') + '\n' + parts.map((p) => p.raw).join('\n'));

    // The octets themselves: independent encoding from SMPP.md §9 / UTF-16BE.
    const all = Buffer.concat(bodies);
    t.check(all.equals(exp.bytes), `${what}: user data octets equal the ${exp.label} encoding of the text`, `got  ${lib.hex(all)}\nwant ${lib.hex(exp.bytes)}`);
    // Every segment decodes on its own: no escape or surrogate pair split across parts.
    const own = [];
    let splitErr = '';
    for (const b of bodies) {
      try { own.push(exp.decode(b)); } catch (e) { splitErr += e.message + '\n'; }
    }
    t.check(!splitErr && own.join('') === row.text, `${what}: each part decodes on its own and they join to the text`, splitErr || `got ${JSON.stringify(own.join(''))}`);
    // node-smpp's own text decoding (its GSM table / iconv UTF-16BE / Latin-1).
    const nodeText = parts.map((p) => { const m = run.split === 'payload' ? p.node.message_payload : p.node.short_message; return m && typeof m.message === 'string' ? m.message : JSON.stringify(m); }).join('');
    t.check(nodeText === row.text, `${what}: node-smpp decodes the text`, `got  ${JSON.stringify(nodeText)}\nwant ${JSON.stringify(row.text)}`);

    // smscast's report for the row.
    const ids = parts.map((p) => idOf.get(`${p.session}/${p.own.sequence_number}`));
    const rep = report.filter((r) => r.msisdn === dest || r.msisdn === row.msisdn);
    const wantStat = ids.map((id) => stateOf.get(id)).includes('UNDELIV') ? 'UNDELIV' : 'DELIVRD';
    t.eq(rep.map((r) => ({ template: r.template, encoding: r.encoding, parts: r.parts, message_ids: r.message_ids, submit_status: r.submit_status, receipt_status: r.receipt_status })),
      [{ template: row.template, encoding: exp.name, parts: n, message_ids: ids, submit_status: 'accepted', receipt_status: wantStat }], `${what}: report row accepted with node's ids, receipt ${wantStat} (${{ tlv: 'deliver_sm receipts with TLVs', 'text-dec': 'text-only receipts, decimal ids', data_sm: 'data_sm receipts' }[run.receipts]}${run.receiptFirst ? ', each before its submit_sm_resp' : ''})`);
  }
}
console.log(`# smscast→node: ${t.passed} passed, ${t.failed} failed`);
process.exit(t.failed ? 1 : 0);
