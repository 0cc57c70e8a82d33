// audit_chain.js — the audit chain's documented encodings (docs/STORE.md,
// "Audit hash" and "Keyed chain"), written independently of the C code, for
// tests/integration/test_audit_key.sh.  Rows come from sqlite3 -json with
// `at` as text (ns since the epoch exceed 2^53).
//
//   node audit_chain.js rewrite ROWS.json    SQL re-hashing every row of ROWS as
//                                            an unkeyed chain (SHA-256),
//                                            renumbered from 1, and moving the
//                                            head: what someone with the file
//                                            but not the key can do
//   node audit_chain.js verify ROWS.json KEY  walk a keyed chain with the key
//                                            in file KEY (hex); exit 1 at the
//                                            first bad row
//   node audit_chain.js kid KEY              the key id: first 8 hex digits of
//                                            SHA-256(key)
'use strict';
const crypto = require('crypto');
const fs = require('fs');

function encode(tag, seq, at, fields, prev) {
  const head = Buffer.alloc(16);
  head.writeBigUInt64BE(BigInt(seq), 0);
  head.writeBigInt64BE(BigInt(at), 8);
  const parts = [Buffer.from(tag, 'latin1'), head];
  for (const f of fields) {
    const b = Buffer.from(f, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    parts.push(len, b);
  }
  parts.push(Buffer.from(prev, 'hex'));
  return Buffer.concat(parts);
}

const quote = (s) => "'" + String(s).replace(/'/g, "''") + "'";
const readKey = (file) => Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
const keyId = (key) => crypto.createHash('sha256').update(key).digest('hex').slice(0, 8);
const readRows = (file) => JSON.parse(fs.readFileSync(file, 'utf8').trim() || '[]');

function rewrite(rows) {
  const out = ['BEGIN;'];
  let prev = '0'.repeat(64);
  rows.forEach((r, i) => {
    const seq = i + 1;
    const h = crypto.createHash('sha256')
      .update(encode('HHAUDIT1', seq, r.at, [r.kind, r.corr, r.payload], prev)).digest('hex');
    out.push(`UPDATE audit SET seq = ${seq}, prev_hash = ${quote(prev)}, hash = ${quote(h)}, ` +
             `key_id = NULL WHERE seq = ${r.seq};`);
    prev = h;
  });
  out.push(`UPDATE audit_head SET seq = ${rows.length}, hash = ${quote(prev)};`, 'COMMIT;');
  console.log(out.join('\n'));
}

function verify(rows, key) {
  const kid = keyId(key);
  let prev = '0'.repeat(64);
  rows.forEach((r, i) => {
    const mac = crypto.createHmac('sha256', key)
      .update(encode('HHAUDITK', r.seq, r.at, [r.kind, r.corr, r.payload, r.key_id], prev))
      .digest('hex');
    if (r.seq !== i + 1 || r.prev_hash !== prev || r.key_id !== kid || mac !== r.hash) {
      console.log('bad at', r.seq);
      process.exit(1);
    }
    prev = r.hash;
  });
  console.log('node: OK', rows.length);
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'rewrite') rewrite(readRows(a));
else if (mode === 'verify') verify(readRows(a), readKey(b));
else if (mode === 'kid') console.log(keyId(readKey(a)));
else { console.error('usage: audit_chain.js rewrite ROWS | verify ROWS KEY | kid KEY'); process.exit(2); }
