'use strict';
// An SMSC built on node-smpp (npm "smpp"), for `scripts/interop.sh`: it accepts
// bind_transceiver with a known system_id and password, answers submit_sm with fresh message
// ids, sends a delivery receipt (deliver_sm, esm_class 0x04, App. B text plus
// receipted_message_id and message_state TLVs; for runs lib.js marks 'text-dec' the text alone
// with a decimal id, for 'data_sm' a data_sm with the text in message_payload) for each part
// that asks for one, answers
// enquire_link and unbind, and probes the client with one enquire_link of its own. Every PDU it
// receives is written to --out as a JSON line with its raw hex, node-smpp's decoding and our
// own (lib.js), for check_smsc.js to judge. Right after each bind it also sends the MO
// messages of lib.js (encoded by node-smpp) for smscast's --inbox.
//
// usage: NODE_PATH=<dir>/node_modules node smsc.js --out FILE --system-id ID
//        (password in INTEROP_PASSWORD); prints "127.0.0.1:PORT" as its first line.
const fs = require('fs');
const smpp = require('smpp');
const lib = require('./lib');

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (i % 2 === 0 ? a.concat([[v.replace(/^--/, ''), all[i + 1]]]) : a), []));
const OUT = args.out;
const SYSTEM_ID = args['system-id'];
const PASSWORD = process.env.INTEROP_PASSWORD;
if (!OUT || !SYSTEM_ID || !PASSWORD) {
  console.error('usage: INTEROP_PASSWORD=... node smsc.js --out FILE --system-id ID');
  process.exit(2);
}
fs.writeFileSync(OUT, '');
const record = (r) => fs.appendFileSync(OUT, JSON.stringify(r) + '\n');

// Keep the raw octets of every decoded PDU so the records hold the wire bytes, not only
// node-smpp's reading of them.
const fromBuffer = smpp.PDU.prototype.fromBuffer;
smpp.PDU.prototype.fromBuffer = function (buf) {
  Object.defineProperty(this, 'raw', { value: Buffer.from(buf), enumerable: false });
  return fromBuffer.call(this, buf);
};

// nodeView is what node-smpp decoded, as plain JSON (buffers as hex).
function nodeView(pdu) {
  const v = {};
  for (const [k, val] of Object.entries(pdu)) {
    if (Buffer.isBuffer(val)) v[k] = { hex: lib.hex(val) };
    else if (val && typeof val === 'object' && 'message' in val) {
      v[k] = { message: Buffer.isBuffer(val.message) ? { hex: lib.hex(val.message) } : val.message, udh: (val.udh || []).map(lib.hex) };
    } else if (val instanceof Date) v[k] = val.toISOString();
    else v[k] = val;
  }
  return v;
}

function ownView(pdu) {
  try {
    switch (pdu.command) {
      case 'submit_sm': case 'deliver_sm': return lib.decodeSM(pdu.raw);
      case 'bind_transceiver': case 'bind_transmitter': case 'bind_receiver': {
        const b = lib.decodeBind(pdu.raw);
        b.password_ok = b.password === PASSWORD; // never write the password itself
        delete b.password;
        return b;
      }
      case 'deliver_sm_resp': return lib.decodeIDResp(pdu.raw, 1);
      case 'data_sm_resp': return lib.decodeIDResp(pdu.raw, 65);
      default: return lib.decodeHeader(pdu.raw);
    }
  } catch (e) {
    return { error: String(e.message || e) };
  }
}

const pad = (n, w = 2) => String(n).padStart(w, '0');
const smppDate = (d) => pad(d.getUTCFullYear() % 100) + pad(d.getUTCMonth() + 1) + pad(d.getUTCDate()) + pad(d.getUTCHours()) + pad(d.getUTCMinutes());

let sessions = 0;
let nextID = 0x5F1E0B00;
const server = smpp.createServer((session) => {
  const sid = ++sessions;
  let bound = false;
  session.on('error', (e) => record({ type: 'error', session: sid, error: String(e.message || e) }));
  session.on('pdu', (pdu) => {
    const r = { type: 'pdu', session: sid, command: pdu.command, raw: lib.hex(pdu.raw || Buffer.alloc(0)), node: nodeView(pdu), own: ownView(pdu) };
    if (r.node.password !== undefined) r.node.password = r.node.password === PASSWORD ? '(correct)' : '(wrong)';
    record(r);
  });
  session.on('unknown', (pdu) => session.send(pdu.response()));
  for (const cmd of ['bind_transmitter', 'bind_receiver']) {
    session.on(cmd, (pdu) => session.send(pdu.response({ command_status: smpp.ESME_RINVCMDID })));
  }
  session.on('bind_transceiver', (pdu) => {
    if (bound) return session.send(pdu.response({ command_status: smpp.ESME_RALYBND }));
    if (pdu.system_id !== SYSTEM_ID || pdu.password !== PASSWORD) {
      return session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
    }
    bound = true;
    // Odd sessions announce sc_interface_version 3.4; even ones answer as node-smpp does out of
    // the box, without it (SMPP.md §3: "assume the SMSC does not support TLVs", yet many do).
    const resp = { system_id: 'NODESMSC' };
    if (sid % 2 === 1) resp.sc_interface_version = 0x34;
    session.send(pdu.response(resp));
    record({ type: 'bind_resp', session: sid, sc_interface_version: resp.sc_interface_version || null });
    // Probe the client's enquire_link handling once, and send it the MO messages.
    setTimeout(() => {
      session.enquire_link({}, (resp) => record({ type: 'enquire_link_resp', session: sid, status: resp.command_status, raw: lib.hex(resp.raw) }));
      for (const mo of lib.MO.messages) {
        session.deliver_sm({
          source_addr_ton: 1, source_addr_npi: 1, source_addr: lib.MO.from, dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: lib.MO.to,
          esm_class: 0, data_coding: mo.data_coding, short_message: mo.text,
        }, (resp) => record({ type: 'mo_resp', session: sid, text: mo.text, status: resp.command_status, raw: lib.hex(resp.raw) }),
        (sent) => record({ type: 'mo_sent', session: sid, text: mo.text, data_coding: mo.data_coding, short_message: lib.hex(sent.short_message) }));
      }
      const total = lib.MO.long.length;
      for (let seq = total; seq >= 1; seq--) {
        const text = lib.MO.long[seq - 1];
        session.deliver_sm({
          source_addr_ton: 1, source_addr_npi: 1, source_addr: lib.MO.from, dest_addr_ton: 0, dest_addr_npi: 0, destination_addr: lib.MO.to,
          esm_class: 0, data_coding: 0, short_message: { udh: Buffer.from([0x05, 0x00, 0x03, sid & 0xFF, total, seq]), message: text },
        }, (resp) => record({ type: 'mo_resp', session: sid, text, status: resp.command_status, raw: lib.hex(resp.raw) }));
      }
    }, 20);
  });
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => {
    session.send(pdu.response());
    session.close();
  });
  session.on('submit_sm', (pdu) => {
    if (!bound) return session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
    const id = (nextID++).toString(16).toUpperCase();
    const submitted = new Date();
    const run = lib.runOf(pdu.destination_addr);
    const receiptFirst = run && run.receiptFirst && (pdu.registered_delivery & 0x03) === 0x01;
    setTimeout(() => {
      session.send(pdu.response({ message_id: id }));
      record({ type: 'submit_sm_resp', session: sid, sequence_number: pdu.sequence_number, message_id: id });
    }, receiptFirst ? 100 : 0);
    if ((pdu.registered_delivery & 0x03) !== 0x01) return;
    const undeliv = /99$/.test(pdu.destination_addr);
    const style = run ? run.receipts : 'tlv';
    const textID = style === 'text-dec' ? String(parseInt(id, 16)).padStart(10, '0') : id;
    const text = `id:${textID} sub:001 dlvrd:${undeliv ? '000' : '001'} submit date:${smppDate(submitted)} done date:${smppDate(new Date())} stat:${undeliv ? 'UNDELIV' : 'DELIVRD'} err:${undeliv ? '001' : '000'} text:interop`;
    setTimeout(() => {
      const dlr = {
        source_addr_ton: pdu.dest_addr_ton, source_addr_npi: pdu.dest_addr_npi, source_addr: pdu.destination_addr,
        dest_addr_ton: pdu.source_addr_ton, dest_addr_npi: pdu.source_addr_npi, destination_addr: pdu.source_addr,
        esm_class: smpp.ESM_CLASS.MC_DELIVERY_RECEIPT, data_coding: 0,
      };
      if (style !== 'text-dec') {
        dlr.receipted_message_id = id;
        dlr.message_state = undeliv ? smpp.MESSAGE_STATE.UNDELIVERABLE : smpp.MESSAGE_STATE.DELIVERED;
        if (undeliv) dlr.network_error_code = Buffer.from([3, 0, 1]);
      }
      const answered = (resp) => record({ type: 'receipt_resp', session: sid, message_id: id, command: resp.command, status: resp.command_status, raw: lib.hex(resp.raw) });
      if (style === 'data_sm') {
        dlr.message_payload = Buffer.from(text, 'ascii');
        session.data_sm(dlr, answered);
      } else {
        dlr.short_message = Buffer.from(text, 'ascii');
        session.deliver_sm(dlr, answered);
      }
      record({ type: 'receipt_sent', session: sid, message_id: id, stat: undeliv ? 'UNDELIV' : 'DELIVRD', style, text });
    }, receiptFirst ? 0 : 20);
  });
});

server.on('error', (e) => { console.error('smsc.js:', e.message); process.exit(1); });
server.listen(0, '127.0.0.1', () => console.log(`127.0.0.1:${server.address().port}`));
const stop = () => {
  for (const s of server.sessions.slice()) s.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
