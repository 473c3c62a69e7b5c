'use strict';
// Shared helpers of the interop harness: the GSM 03.38 tables transcribed from SMPP.md §9, an
// SMPP decoder of our own (so node-smpp's decoding is checked against a second, independent
// reading of the same bytes), the campaign the harness sends, and a tiny TAP-style reporter.

// §9.1 basic table, septet → character; index 0x1B is the escape (null here).
const GSM_BASIC = [
  '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
  'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', null, 'Æ', 'æ', 'ß', 'É',
  ' ', '!', '"', '#', '¤', '%', '&', "'", '(', ')', '*', '+', ',', '-', '.', '/',
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
  '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
  'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
  '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
  'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];
// §9.2 extension table: septet after 0x1B → character.
const GSM_EXT = { 0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\', 0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€' };

const GSM_ENC = new Map();
GSM_BASIC.forEach((c, i) => { if (c !== null) GSM_ENC.set(c, [i]); });
for (const [k, c] of Object.entries(GSM_EXT)) GSM_ENC.set(c, [0x1B, Number(k)]);

// gsmEncode returns the unpacked septets of s, or null when a character has no GSM code.
function gsmEncode(s) {
  const out = [];
  for (const ch of s) {
    const code = GSM_ENC.get(ch);
    if (!code) return null;
    out.push(...code);
  }
  return Buffer.from(out);
}

// gsmDecode decodes unpacked septets; it throws on a septet ≥ 0x80, a dangling escape or an
// unknown extension code, because a correct sender produces none of them.
function gsmDecode(b) {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const v = b[i];
    if (v > 0x7F) throw new Error(`septet 0x${v.toString(16)} at ${i} has its high bit set`);
    if (v === 0x1B) {
      if (i + 1 >= b.length) throw new Error(`escape 0x1B at the end (index ${i})`);
      const c = GSM_EXT[b[++i]];
      if (c === undefined) throw new Error(`unknown extension 1B ${b[i].toString(16)} at ${i - 1}`);
      s += c;
      continue;
    }
    s += GSM_BASIC[v];
  }
  return s;
}

function ucs2Encode(s) {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), 2 * i);
  return b;
}

// ucs2Decode decodes UTF-16BE; it throws on an odd length or an unpaired surrogate, which is
// what a segment split inside a surrogate pair looks like.
function ucs2Decode(b) {
  if (b.length % 2) throw new Error(`odd UCS-2 length ${b.length}`);
  let s = '';
  for (let i = 0; i < b.length; i += 2) {
    const u = b.readUInt16BE(i);
    if (u >= 0xD800 && u <= 0xDBFF) {
      const lo = i + 2 < b.length ? b.readUInt16BE(i + 2) : -1;
      if (lo < 0xDC00 || lo > 0xDFFF) throw new Error(`unpaired high surrogate ${u.toString(16)} at octet ${i}`);
      s += String.fromCharCode(u, lo);
      i += 2;
      continue;
    }
    if (u >= 0xDC00 && u <= 0xDFFF) throw new Error(`unpaired low surrogate ${u.toString(16)} at octet ${i}`);
    s += String.fromCharCode(u);
  }
  return s;
}

const hex = (b) => Buffer.from(b).toString('hex').toUpperCase();

// --- an SMPP decoder of our own (SMPP.md §1, §3, §4) ---------------------------------------

class Reader {
  constructor(buf, off) { this.b = buf; this.o = off; }
  u8() { if (this.o >= this.b.length) throw new Error(`short PDU at ${this.o}`); return this.b[this.o++]; }
  cstr(max) {
    const end = this.b.indexOf(0, this.o);
    if (end < 0) throw new Error(`C-string at ${this.o} has no NUL`);
    if (end - this.o + 1 > max) throw new Error(`C-string at ${this.o} longer than C(${max})`);
    const s = this.b.toString('latin1', this.o, end);
    this.o = end + 1;
    return s;
  }
  oct(n) { if (this.o + n > this.b.length) throw new Error(`octets at ${this.o} overrun the PDU`); const v = this.b.subarray(this.o, this.o + n); this.o += n; return v; }
  tlvs() {
    const out = [];
    while (this.o < this.b.length) {
      if (this.o + 4 > this.b.length) throw new Error(`truncated TLV header at ${this.o}`);
      const tag = this.b.readUInt16BE(this.o), len = this.b.readUInt16BE(this.o + 2);
      this.o += 4;
      out.push({ tag, value: hex(this.oct(len)) });
    }
    return out;
  }
}

function decodeHeader(raw) {
  if (raw.length < 16) throw new Error(`PDU of ${raw.length} octets is shorter than a header`);
  const h = { command_length: raw.readUInt32BE(0), command_id: raw.readUInt32BE(4), command_status: raw.readUInt32BE(8), sequence_number: raw.readUInt32BE(12) };
  if (h.command_length !== raw.length) throw new Error(`command_length ${h.command_length} != ${raw.length} octets read`);
  return h;
}

// decodeSM decodes a submit_sm or deliver_sm (same layout, §3).
function decodeSM(raw) {
  const h = decodeHeader(raw);
  const r = new Reader(raw, 16);
  const p = { ...h };
  p.service_type = r.cstr(6);
  p.source_addr_ton = r.u8(); p.source_addr_npi = r.u8(); p.source_addr = r.cstr(21);
  p.dest_addr_ton = r.u8(); p.dest_addr_npi = r.u8(); p.destination_addr = r.cstr(21);
  p.esm_class = r.u8(); p.protocol_id = r.u8(); p.priority_flag = r.u8();
  p.schedule_delivery_time = r.cstr(17); p.validity_period = r.cstr(17);
  p.registered_delivery = r.u8(); p.replace_if_present_flag = r.u8();
  p.data_coding = r.u8(); p.sm_default_msg_id = r.u8();
  p.sm_length = r.u8();
  if (p.sm_length === 255) throw new Error('sm_length 255 is not allowed');
  p.short_message = hex(r.oct(p.sm_length));
  p.tlvs = r.tlvs();
  return p;
}

function decodeBind(raw) {
  const h = decodeHeader(raw);
  const r = new Reader(raw, 16);
  return { ...h, system_id: r.cstr(16), password: r.cstr(9), system_type: r.cstr(13), interface_version: r.u8(), addr_ton: r.u8(), addr_npi: r.u8(), address_range: r.cstr(41), tlvs: r.tlvs() };
}

// decodeIDResp decodes a *_resp whose body is a message_id C-string (or empty on error).
function decodeIDResp(raw, max) {
  const h = decodeHeader(raw);
  if (raw.length === 16) return { ...h, message_id: null, tlvs: [] };
  const r = new Reader(raw, 16);
  return { ...h, message_id: r.cstr(max), tlvs: r.tlvs() };
}

const TAG = { sar_msg_ref_num: 0x020C, sar_total_segments: 0x020E, sar_segment_seqnum: 0x020F, message_payload: 0x0424, receipted_message_id: 0x001E, message_state: 0x0427, network_error_code: 0x0423, sc_interface_version: 0x0210 };

// --- the campaign sent through node-smpp's SMSC ---------------------------------------------

const GSM_TEXT = 'Sale: €5 off [SPRING] {x} ~^|\\ @£$¥ èéùìòÇØøÅå ΔΦΓΛΩΠΨΣΘΞ ÆæßÉ ¤%&\'"#*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà_\nline 2';
const UCS2_TEXT = 'Привет 👋 мир: “ok” — 20%';
// The € straddles septets 152–153, where an 8-bit-reference UDH part ends: it must move whole
// into part 2 (an escape pair is never split, §10.2).
const LONG_GSM = 'A'.repeat(152) + '€uro [' + 'b'.repeat(140) + '] end of part three @ ' + 'c'.repeat(20);
// The emoji straddles UTF-16 units 66–67 at the end of a 67-unit part: both halves must move.
const LONG_UCS2 = 'ж'.repeat(66) + '👋' + 'ы'.repeat(70) + ' end 📦';

// Each run is one `smscast send` with its own --split; the digit after 491711 names the run so
// records can be told apart. A number ending in 99 gets an UNDELIV receipt. receipts: 'tlv' is
// the App. B text with the receipted_message_id and message_state TLVs; 'text-dec' is the text
// alone with the id written as 10 decimal digits (a common carrier quirk, SMPP.md §8);
// 'data_sm' sends the receipt as a data_sm with TLVs and the text in message_payload (§8).
// receiptFirst: the receipt leaves before the submit_sm_resp that carries its id (a race real
// SMSCs produce: SMPP.md §11.4, responses and requests are independent).
const RUNS = [
  { name: 'udh', split: 'udh', from: 'Acme', receipts: 'tlv', rows: [
    { msisdn: '+491711100001', template: 'gsm', text: GSM_TEXT },
    { msisdn: '+491711100002', template: 'ucs2', text: UCS2_TEXT },
    { msisdn: '+491711100003', template: 'longgsm', text: LONG_GSM },
    { msisdn: '+491711100004', template: 'longucs2', text: LONG_UCS2 },
    { msisdn: '+491711100099', template: 'undeliv', text: 'Plain text, undeliverable' },
  ] },
  { name: 'sar', split: 'sar', from: '+4930123456', receipts: 'tlv', receiptFirst: true, rows: [
    { msisdn: '+491711200003', template: 'longgsm', text: LONG_GSM },
    { msisdn: '+491711200004', template: 'longucs2', text: LONG_UCS2 },
  ] },
  { name: 'udh16', split: 'udh16', from: 'Acme', receipts: 'text-dec', rows: [
    { msisdn: '+491711300003', template: 'longgsm', text: LONG_GSM },
    { msisdn: '+491711300004', template: 'longucs2', text: LONG_UCS2 },
  ] },
  { name: 'latin1', split: 'udh', encoding: 'latin1', from: 'Acme', receipts: 'tlv', rows: [
    { msisdn: '+491711500001', template: 'latin1', text: 'Café Zürich: 5 × 3 ½ ß, ¡olé! ©' },
    { msisdn: '+491711500002', template: 'longlatin1', text: 'Grüße aus Köln, ' + 'é'.repeat(120) + ' ¿Qué tal? ' + 'ñ'.repeat(20) },
  ] },
  { name: 'payload', split: 'payload', from: 'Acme', receipts: 'data_sm', rows: [
    { msisdn: '+491711400003', template: 'longgsm', text: LONG_GSM },
  ] },
];

// Mobile-originated messages smsc.js sends on every session right after the bind, encoded by
// node-smpp itself; smscast must write them to its --inbox.
const MO = { from: '491715550000', to: '12345', messages: [
  { data_coding: 0, text: 'Hi! €5 [ok] @home Äpfel {1} ~' },
  { data_coding: 8, text: 'Ответ 👍 ok' },
],
// A long reply in two parts (GSM 7-bit, a concatenation UDH), sent last part first: the inbox
// must hold it as one message.
long: ['A long reply, in two parts: this is the first, ', 'and this the second.'] };

// Per split: the largest segment in septets (GSM) and octets (UCS-2, Latin-1), §10.2. SAR segments must
// leave room for the 6-octet UDH the SMSC adds.
const SEGMENT = { udh: { gsm: 153, ucs2: 134, latin1: 134 }, udh16: { gsm: 152, ucs2: 132, latin1: 133 }, sar: { gsm: 153, ucs2: 134, latin1: 134 } };

// The sender each `from` maps to, per `smscast send --help` (name 5/0, international 1/1).
// runOf returns the run a destination_addr (without "+") belongs to, or undefined.
function runOf(dest) {
  return RUNS.find((r) => r.rows.some((row) => row.msisdn === '+' + dest));
}

function expectedSource(from) {
  if (from.startsWith('+')) return { ton: 1, npi: 1, addr: from.slice(1) };
  if (/^\d{3,8}$/.test(from)) return { ton: 3, npi: 0, addr: from };
  return { ton: 5, npi: 0, addr: from };
}

// minParts is the smallest number of segments of at most max units each, where a unit group
// (an escape pair, a surrogate pair) is never split: greedy filling is optimal.
function minParts(groups, max) {
  let parts = 1, used = 0;
  for (const g of groups) {
    if (used + g > max) { parts++; used = 0; }
    used += g;
  }
  return parts;
}

// encodeExpected is the user data the text must travel as, found independently of smscast:
// encoding 'latin1' forces ISO-8859-1; otherwise GSM 7-bit when every character has a §9 code,
// else UCS-2. groups are the units no segment may split (escape pairs, surrogate pairs).
function encodeExpected(text, encoding) {
  if (encoding === 'latin1') {
    if ([...text].some((c) => c.charCodeAt(0) > 0xFF)) throw new Error(`${JSON.stringify(text)} is not Latin-1`);
    return { kind: 'latin1', name: 'latin1', dataCoding: 3, bytes: Buffer.from(text, 'latin1'), groups: [...text].map(() => 1), single: 140, decode: (b) => b.toString('latin1'), label: 'ISO-8859-1' };
  }
  const g = gsmEncode(text);
  if (g) return { kind: 'gsm', name: 'gsm7', dataCoding: 0, bytes: g, groups: [...text].map((c) => GSM_ENC.get(c).length), single: 160, decode: gsmDecode, label: '§9 GSM 7-bit (unpacked)' };
  return { kind: 'ucs2', name: 'ucs2', dataCoding: 8, bytes: ucs2Encode(text), groups: [...text].map((c) => c.length * 2), single: 140, decode: ucs2Decode, label: 'UCS-2/UTF-16BE' };
}

// parseCSV reads RFC 4180 CSV (quoted fields, doubled quotes, newlines in quotes) into rows.
function parseCSV(text) {
  const rows = [];
  let row = [], cell = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

// --- reporting --------------------------------------------------------------------------------

class Tally {
  constructor(prefix) { this.prefix = prefix; this.failed = 0; this.passed = 0; }
  check(ok, what, detail) {
    if (ok) { this.passed++; console.log(`ok - ${this.prefix}: ${what}`); } else { this.failed++; console.log(`not ok - ${this.prefix}: ${what}${detail ? `\n    ${String(detail).replace(/\n/g, '\n    ')}` : ''}`); }
    return ok;
  }
  eq(got, want, what) {
    const g = JSON.stringify(got), w = JSON.stringify(want);
    return this.check(g === w, what, `got  ${g}\nwant ${w}`);
  }
}

module.exports = { GSM_BASIC, GSM_EXT, gsmEncode, gsmDecode, ucs2Encode, ucs2Decode, hex, decodeHeader, decodeSM, decodeBind, decodeIDResp, TAG, RUNS, runOf, MO, SEGMENT, expectedSource, minParts, encodeExpected, parseCSV, Tally };
