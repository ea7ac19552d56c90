/*
 * verify.js - the bundle verifier of defter-verify.html: the same checks, in the same order and
 * with the same messages, as src/bundle/verify.c and src/bundle/zipread.c
 * (docs/bundle-format.md, "Verifying"). Reads the bundle with Blob.slice, checks Ed25519 with
 * WebCrypto, hashes with its own incremental SHA-256 (WebCrypto's digest is one-shot).
 *
 * No network, no storage: everything happens on the bytes of the chosen file.
 */
'use strict';

class Fail extends Error {}
const fail = (msg) => { throw new Fail(msg); };
const DAMAGED = 'not a valid bundle: the ZIP structure is damaged or truncated';
const MEDIA_TYPE = 'application/vnd.defter.bundle.v1+json';

/* ---- SHA-256, incremental (FIPS 180-4) ---- */
const K256 = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);

class Sha256 {
  constructor() {
    this.h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.buf = new Uint8Array(64);
    this.fill = 0;
    this.total = 0;
    this.w = new Uint32Array(64);
  }
  block(p, o) {
    const w = this.w, h = this.h;
    for (let i = 0; i < 16; i++) {
      w[i] = (p[o + 4 * i] << 24) | (p[o + 4 * i + 1] << 16) | (p[o + 4 * i + 2] << 8) | p[o + 4 * i + 3];
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15], b = w[i - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K256[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  update(p) {
    let i = 0;
    this.total += p.length;
    if (this.fill > 0) {
      const n = Math.min(64 - this.fill, p.length);
      this.buf.set(p.subarray(0, n), this.fill);
      this.fill += n;
      i = n;
      if (this.fill < 64) return this;
      this.block(this.buf, 0);
      this.fill = 0;
    }
    for (; i + 64 <= p.length; i += 64) this.block(p, i);
    if (i < p.length) {
      this.buf.set(p.subarray(i), 0);
      this.fill = p.length - i;
    }
    return this;
  }
  digest() {
    const bits = this.total * 8;
    const pad = new Uint8Array(((this.fill < 56) ? 56 : 120) - this.fill + 8);
    pad[0] = 0x80;
    const hi = Math.floor(bits / 0x100000000), lo = bits >>> 0;
    const n = pad.length;
    pad[n - 8] = hi >>> 24; pad[n - 7] = hi >>> 16; pad[n - 6] = hi >>> 8; pad[n - 5] = hi;
    pad[n - 4] = lo >>> 24; pad[n - 3] = lo >>> 16; pad[n - 2] = lo >>> 8; pad[n - 1] = lo;
    this.total -= n; /* padding is not message */
    this.update(pad);
    const out = new Uint8Array(32);
    for (let i = 0; i < 8; i++) {
      out[4 * i] = this.h[i] >>> 24; out[4 * i + 1] = this.h[i] >>> 16;
      out[4 * i + 2] = this.h[i] >>> 8; out[4 * i + 3] = this.h[i];
    }
    return out;
  }
}
const sha256 = (...parts) => { const h = new Sha256(); for (const p of parts) h.update(p); return h.digest(); };

/* ---- CRC-32 ---- */
const CRC = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = (c & 1) ? (0xedb88320 ^ (c >>> 1)) : (c >>> 1);
    t[i] = c >>> 0;
  }
  return t;
})();
function crc32(crc, p) {
  crc = ~crc >>> 0;
  for (let i = 0; i < p.length; i++) crc = (CRC[(crc ^ p[i]) & 0xff] ^ (crc >>> 8)) >>> 0;
  return (~crc) >>> 0;
}

/* ---- bytes ---- */
const enc = new TextEncoder();
const utf8 = (s) => enc.encode(s);
const concat = (...a) => {
  const out = new Uint8Array(a.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of a) { out.set(x, o); o += x.length; }
  return out;
};
const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const cmpBytes = (a, b) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
};
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function b64encode(b) {
  let s = '';
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] || 0) << 8) | (b[i + 2] || 0);
    s += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < b.length ? B64[(n >> 6) & 63] : '=') +
      (i + 2 < b.length ? B64[n & 63] : '=');
  }
  return s;
}
/* Strict, as dft_b64_decode: padding required, canonical, no whitespace. null when invalid. */
function b64decode(s) {
  if (typeof s !== 'string' || s.length % 4 !== 0) return null;
  const out = [];
  for (let i = 0; i < s.length; i += 4) {
    const v = [0, 0, 0, 0];
    let pad = 0;
    for (let k = 0; k < 4; k++) {
      const c = s[i + k];
      if (c === '=' && i + 4 === s.length && k >= 2) { pad++; continue; }
      if (pad > 0) return null;
      const x = B64.indexOf(c);
      if (x < 0) return null;
      v[k] = x;
    }
    const w = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    if ((pad === 1 && (w & 0xff) !== 0) || (pad === 2 && (w & 0xffff) !== 0)) return null;
    out.push((w >> 16) & 255);
    if (pad < 2) out.push((w >> 8) & 255);
    if (pad < 1) out.push(w & 255);
  }
  return new Uint8Array(out);
}
const hash32 = (s) => (typeof s === 'string' && s.length === 44) ? b64decode(s) : null;

/* ---- strict JSON, as jansson with JSON_REJECT_DUPLICATES ---- */
class JInt { constructor(v) { this.v = v; } } /* an integer (BigInt) */
class JReal { constructor(v) { this.v = v; } }
function parseJson(bytes) {
  let text;
  try { text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); } catch (e) { return undefined; }
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const bad = () => { throw new SyntaxError('json'); };
  const value = (depth) => {
    if (depth > 2048) bad();
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const m = new Map();
      ws();
      if (text[i] === '}') { i++; return m; }
      for (;;) {
        ws();
        if (text[i] !== '"') bad();
        const k = str();
        if (m.has(k)) bad();
        ws();
        if (text[i++] !== ':') bad();
        m.set(k, value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return m; }
        bad();
      }
    }
    if (c === '[') {
      i++;
      const a = [];
      ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return a; }
        bad();
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) bad();
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const v = BigInt(m[0]);
      if (v > 9223372036854775807n || v < -9223372036854775808n) bad();
      return new JInt(v);
    }
    const r = Number(m[0]);
    if (!isFinite(r)) bad();
    return new JReal(r);
  };
  const str = () => {
    i++;
    let s = '';
    for (;;) {
      if (i >= text.length) bad();
      const c = text[i++];
      if (c === '"') return s;
      if (c < ' ') bad();
      if (c !== '\\') { s += c; continue; }
      const e = text[i++];
      const simple = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e in simple) { s += simple[e]; continue; }
      if (e !== 'u') bad();
      const u = () => {
        const h = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) bad();
        i += 4;
        return parseInt(h, 16);
      };
      let cp = u();
      if (cp === 0) bad();
      if (cp >= 0xd800 && cp <= 0xdbff) {
        if (text[i] !== '\\' || text[i + 1] !== 'u') bad();
        i += 2;
        const lo = u();
        if (lo < 0xdc00 || lo > 0xdfff) bad();
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      } else if (cp >= 0xdc00 && cp <= 0xdfff) bad();
      s += String.fromCodePoint(cp);
    }
  };
  try {
    const v = value(0);
    ws();
    if (i !== text.length) return undefined;
    return v;
  } catch (e) {
    if (e instanceof SyntaxError || e instanceof RangeError) return undefined;
    throw e;
  }
}
const isObj = (v) => v instanceof Map;
const isInt = (v) => v instanceof JInt;
const isStr = (v) => typeof v === 'string';
const get = (o, k) => (isObj(o) ? o.get(k) : undefined);
const intVal = (v) => v.v;
function jequal(a, b) {
  if (a instanceof JInt && b instanceof JInt) return a.v === b.v;
  if (a instanceof JReal && b instanceof JReal) return a.v === b.v;
  if (isStr(a) || typeof a === 'boolean' || a === null) return a === b;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, k) => jequal(x, b[k]));
  if (isObj(a)) {
    if (!isObj(b) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !jequal(v, b.get(k))) return false;
    return true;
  }
  return false;
}
/* To plain JS for the report. */
function plain(v) {
  if (v instanceof JInt) return Number(v.v);
  if (v instanceof JReal) return v.v;
  if (Array.isArray(v)) return v.map(plain);
  if (isObj(v)) { const o = {}; for (const [k, x] of v) o[k] = plain(x); return o; }
  return v;
}

/* Canonical JSON (docs/vault-format.md): compact, keys sorted by UTF-8 bytes. */
function canonString(s) {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c < 0x20) out += '\\u00' + c.toString(16).toUpperCase().padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}
function canon(v) {
  if (isStr(v)) return canonString(v);
  if (v instanceof JInt) return v.v.toString();
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (v === null) return 'null';
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']';
  if (isObj(v)) {
    const keys = [...v.keys()].sort((a, b) => cmpBytes(utf8(a), utf8(b)));
    return '{' + keys.map((k) => canonString(k) + ':' + canon(v.get(k))).join(',') + '}';
  }
  throw new Fail('real'); /* records hold no fractional numbers */
}

/* ---- Ed25519 through WebCrypto ---- */
async function edVerify(pub, sig, msg) {
  try {
    const key = await crypto.subtle.importKey('raw', pub, { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, key, sig, msg);
  } catch (e) {
    return false;
  }
}

/* ---- Merkle proofs (RFC 9162) ---- */
const node = (l, r) => sha256(Uint8Array.of(1), l, r);
const bitLen = (x) => (x === 0n ? 0 : x.toString(2).length);
const popcount = (x) => [...x.toString(2)].filter((c) => c === '1').length;
function inclusionLen(index, size) {
  if (index >= size) return 0;
  const inner = bitLen(index ^ (size - 1n));
  return inner + popcount(index >> BigInt(inner));
}
function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size || proof.length !== inclusionLen(index, size)) return false;
  let fn = index, sn = size - 1n, r = leaf;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) || fn === sn) {
      r = node(p, r);
      while (!(fn & 1n) && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else r = node(r, p);
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && eq(r, root);
}
function consistencyLen(m, n) {
  if (m === 0n || m >= n) return 0;
  let level = 0n;
  while (!((m >> level) & 1n)) level++;
  const index = (m - 1n) >> level, last = (n - 1n) >> level;
  return inclusionLen(index, last + 1n) + (index !== 0n ? 1 : 0);
}
function verifyConsistency(m, n, r1, r2, proof) {
  if (m === 0n || m > n) return false;
  if (m === n) return proof.length === 0 && eq(r1, r2);
  if (proof.length !== consistencyLen(m, n)) return false;
  let i = 0, first;
  if ((m & (m - 1n)) === 0n) first = r1; else first = proof[i++];
  let fn = m - 1n, sn = n - 1n;
  while (fn & 1n) { fn >>= 1n; sn >>= 1n; }
  let fr = first, sr = first;
  for (; i < proof.length; i++) {
    if (sn === 0n) return false;
    if ((fn & 1n) || fn === sn) {
      fr = node(proof[i], fr); sr = node(proof[i], sr);
      while (!(fn & 1n) && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
    } else sr = node(sr, proof[i]);
    fn >>= 1n; sn >>= 1n;
  }
  return sn === 0n && eq(fr, r1) && eq(sr, r2);
}

/* ---- C2SP signed notes, verifier keys, checkpoints (as src/log/note.c, checkpoint.c) ---- */
const isSpace = (c) => (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0x85 || c === 0xa0 ||
  c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f ||
  c === 0x205f || c === 0x3000;
function nameValid(s) {
  const b = utf8(s);
  if (b.length === 0 || b.length > 255) return false;
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (isSpace(c) || c === 0x2b || c < 0x20 || c === 0x7f) return false;
  }
  return true;
}
function keyId(name, alg, pub) {
  const h = sha256(utf8(name), Uint8Array.of(0x0a, alg), pub);
  return ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
}
function parseVkey(v) {
  if (!isStr(v)) return null;
  const p = v.indexOf('+');
  if (p < 0) return null;
  const name = v.slice(0, p), rest = v.slice(p + 1);
  if (!nameValid(name) || utf8(rest).length < 10 || rest[8] !== '+') return null;
  if (!/^[0-9a-fA-F]{8}$/.test(rest.slice(0, 8))) return null;
  const key = b64decode(rest.slice(9));
  if (!key || key.length !== 33 || (key[0] !== 1 && key[0] !== 4)) return null;
  const id = parseInt(rest.slice(0, 8), 16) >>> 0;
  const pub = key.slice(1);
  if (id !== keyId(name, key[0], pub)) return null;
  return { name, alg: key[0], pub, id };
}
function formatVkey(k) {
  return k.name + '+' + k.id.toString(16).padStart(8, '0') + '+' + b64encode(concat(Uint8Array.of(k.alg), k.pub));
}
function parseNote(s) {
  const b = utf8(s);
  if (b.length > 65536 || b.length === 0 || b[b.length - 1] !== 0x0a) return null;
  let line = 0;
  for (const c of b) {
    if (c === 0x0a) { line = 0; continue; }
    if (c < 0x20 || c === 0x7f) return null;
    if (++line > 4096) return null;
  }
  let sep = -1;
  for (let i = b.length - 2; i >= 0; i--) if (b[i] === 0x0a && b[i + 1] === 0x0a) { sep = i; break; }
  if (sep <= 0 || b[0] === 0x0a) return null;
  const text = b.slice(0, sep + 1);
  let pos = sep + 2;
  if (pos >= b.length) return null;
  const sigs = [];
  const dec = new TextDecoder();
  while (pos < b.length) {
    let nl = b.indexOf(0x0a, pos);
    const l = b.slice(pos, nl);
    if (sigs.length === 32) return null;
    if (l.length < 4 || l[0] !== 0xe2 || l[1] !== 0x80 || l[2] !== 0x94 || l[3] !== 0x20) return null;
    const sp = l.indexOf(0x20, 4);
    if (sp < 0) return null;
    const name = dec.decode(l.slice(4, sp));
    if (!nameValid(name)) return null;
    const raw = b64decode(dec.decode(l.slice(sp + 1)));
    if (!raw || l.length === sp + 1 || raw.length < 5) return null;
    sigs.push({ name, id: ((raw[0] << 24) | (raw[1] << 16) | (raw[2] << 8) | raw[3]) >>> 0, sig: raw.slice(4) });
    pos = nl + 1;
  }
  return { text, sigs };
}
async function noteVerify(n, keys) {
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) if (keys[i].id === keys[j].id && keys[i].name === keys[j].name) return null;
  }
  const verified = keys.map(() => false);
  let count = 0;
  for (const s of n.sigs) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (s.id !== k.id || s.name !== k.name) continue;
      let ok = false;
      if (k.alg === 1) ok = s.sig.length === 64 && await edVerify(k.pub, s.sig, n.text);
      else if (k.alg === 4 && s.sig.length === 72) {
        let t = 0n;
        for (let q = 0; q < 8; q++) t = (t << 8n) | BigInt(s.sig[q]);
        if (t <= 9223372036854775807n) {
          const msg = concat(utf8('cosignature/v1\ntime ' + t.toString() + '\n'), n.text);
          ok = await edVerify(k.pub, s.sig.slice(8), msg);
        }
      }
      if (!ok) return null;
      verified[i] = true;
      count++;
    }
  }
  return count === 0 ? null : verified;
}
function parseCheckpoint(text) {
  const s = new TextDecoder().decode(text);
  const lines = s.split('\n');
  if (lines.length !== 4 || lines[3] !== '' || lines.slice(0, 3).some((l) => l === '')) return null;
  const [origin, size, root] = lines;
  if (utf8(origin).length > 255 || origin.includes(' ') || origin.includes('+') ||
    [...origin].some((ch) => ch.codePointAt(0) < 0x20 || ch.codePointAt(0) === 0x7f)) return null;
  if (!/^(0|[1-9][0-9]{0,18})$/.test(size) || BigInt(size) > (1n << 62n)) return null;
  const r = hash32(root);
  if (!r || r.length !== 32) return null;
  return { origin, size: BigInt(size), root: r };
}
async function checkpointOpen(note, logKey, witnesses) {
  if (!isStr(note)) return null;
  const n = parseNote(note);
  if (!n) return null;
  const v = await noteVerify(n, [logKey, ...witnesses]);
  if (!v || !v[0]) return null;
  const c = parseCheckpoint(n.text);
  if (!c || c.origin !== logKey.name) return null;
  c.cosigs = v.slice(1).filter((x) => x).length;
  return c;
}
function originOf(pub) { return 'defter.vault/' + hex(sha256(pub)).slice(0, 16); }

/* ---- the strict ZIP reader (as zipread.c) ---- */
const le = (b, o, n) => { let v = 0n; for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[o + i]); return v; };
class Zip {
  constructor(blob) { this.blob = blob; this.size = BigInt(blob.size); }
  async read(off, n) {
    if (off > this.size || BigInt(n) > this.size - off) fail(DAMAGED);
    const b = new Uint8Array(await this.blob.slice(Number(off), Number(off) + n).arrayBuffer());
    if (b.length !== n) fail(DAMAGED);
    return b;
  }
  async open() {
    const U32 = 0xffffffffn;
    if (this.size < 22n) fail(DAMAGED);
    const e = await this.read(this.size - 22n, 22);
    if (le(e, 0, 4) !== 0x06054b50n || le(e, 4, 2) !== 0n || le(e, 6, 2) !== 0n ||
      le(e, 8, 2) !== le(e, 10, 2) || le(e, 20, 2) !== 0n) fail(DAMAGED);
    let n = le(e, 10, 2), cdSize = le(e, 12, 4), cdOff = le(e, 16, 4);
    let end = this.size - 22n;
    if (n === 0xffffn || cdSize === U32 || cdOff === U32) {
      if (end < 76n) fail(DAMAGED);
      const loc = await this.read(end - 20n, 20);
      if (le(loc, 0, 4) !== 0x07064b50n || le(loc, 4, 4) !== 0n || le(loc, 16, 4) !== 1n ||
        le(loc, 8, 8) !== end - 76n) fail(DAMAGED);
      const r = await this.read(end - 76n, 56);
      if (le(r, 0, 4) !== 0x06064b50n || le(r, 4, 8) !== 44n || le(r, 12, 2) !== 0x033fn ||
        le(r, 14, 2) !== 45n || le(r, 16, 4) !== 0n || le(r, 20, 4) !== 0n || le(r, 24, 8) !== le(r, 32, 8)) fail(DAMAGED);
      const n64 = le(r, 32, 8), s64 = le(r, 40, 8), o64 = le(r, 48, 8);
      if ((n !== 0xffffn && n !== n64) || (cdSize !== U32 && cdSize !== s64) || (cdOff !== U32 && cdOff !== o64)) fail(DAMAGED);
      n = n64; cdSize = s64; cdOff = o64; end -= 76n;
    }
    if (n === 0n || n > 1000000n || cdSize > (256n << 20n) || cdOff > end || end - cdOff !== cdSize) fail(DAMAGED);
    const cd = await this.read(cdOff, Number(cdSize));
    const zip64 = (x, fields) => {
      if (x.length === 0) return fields.every((f) => f.v !== U32);
      if (x.length < 4 || le(x, 0, 2) !== 1n || le(x, 2, 2) !== BigInt(x.length - 4)) return false;
      let p = 4;
      for (const f of fields) {
        if (f.v === U32) {
          if (p + 8 > x.length) return false;
          f.v = le(x, p, 8); p += 8;
        }
      }
      return p === x.length && p > 4;
    };
    this.entries = [];
    let pos = 0, expect = 0n;
    for (let i = 0n; i < n; i++) {
      if (cd.length - pos < 46 || le(cd, pos, 4) !== 0x02014b50n) fail(DAMAGED);
      const nameLen = Number(le(cd, pos + 28, 2)), extraLen = Number(le(cd, pos + 30, 2));
      if (cd.length - pos - 46 < nameLen + extraLen || nameLen === 0 || nameLen > 128) fail(DAMAGED);
      const cs = { v: le(cd, pos + 20, 4) }, us = { v: le(cd, pos + 24, 4) }, lo = { v: le(cd, pos + 42, 4) };
      const wide = cs.v === U32 || us.v === U32 || lo.v === U32;
      const nameBytes = cd.slice(pos + 46, pos + 46 + nameLen);
      const name = new TextDecoder().decode(nameBytes);
      const crc = Number(le(cd, pos + 16, 4));
      if (nameBytes.includes(0) || le(cd, pos + 4, 2) !== 0x033fn || le(cd, pos + 6, 2) !== (wide ? 45n : 10n) ||
        le(cd, pos + 8, 2) !== 0n || le(cd, pos + 10, 2) !== 0n || le(cd, pos + 12, 2) !== 0n ||
        le(cd, pos + 14, 2) !== 0x21n || le(cd, pos + 32, 2) !== 0n || le(cd, pos + 34, 2) !== 0n ||
        le(cd, pos + 36, 2) !== 0n || le(cd, pos + 38, 4) !== 0x81a40000n ||
        !zip64(cd.slice(pos + 46 + nameLen, pos + 46 + nameLen + extraLen), [us, cs, lo]) ||
        cs.v !== us.v || lo.v !== expect) fail(DAMAGED);
      pos += 46 + nameLen + extraLen;
      const l = await this.read(lo.v, 30);
      const lname = Number(le(l, 26, 2)), lextra = Number(le(l, 28, 2));
      const lcs = { v: le(l, 18, 4) }, lus = { v: le(l, 22, 4) };
      const lwide = lcs.v === U32 || lus.v === U32;
      const disagree = `not a valid bundle: the headers of entry '${name}' disagree (lying sizes?)`;
      if (le(l, 0, 4) !== 0x04034b50n || le(l, 4, 2) !== (lwide ? 45n : 10n) || le(l, 6, 2) !== 0n ||
        le(l, 8, 2) !== 0n || le(l, 10, 2) !== 0n || le(l, 12, 2) !== 0x21n ||
        Number(le(l, 14, 4)) !== crc || lname !== nameLen || lextra > 64) fail(disagree);
      const lvar = await this.read(lo.v + 30n, lname + lextra);
      if (!eq(lvar.slice(0, lname), nameBytes) || !zip64(lvar.slice(lname), [lus, lcs]) ||
        lus.v !== us.v || lcs.v !== cs.v) fail(disagree);
      const offset = lo.v + 30n + BigInt(lname + lextra);
      if (offset > cdOff || cdOff - offset < us.v) fail(`not a valid bundle: entry '${name}' runs past its place (lying sizes?)`);
      this.entries.push({ name, offset, size: us.v, crc });
      expect = offset + us.v;
    }
    if (pos !== cd.length || expect !== cdOff) fail(DAMAGED);
  }
}

/* ---- the checks (as verify.c) ---- */
const DIGITS = /^[0-9]+$/, HEX64 = /^[0-9a-f]{64}$/, IDCH = /^[a-z0-9_]+$/;
function nameExpected(s) {
  if (s === 'manifest.json') return true;
  if (s.startsWith('entries/')) {
    const m = /^entries\/(.*)\.(envelope|tlog-proof)$/.exec(s);
    return !!m && DIGITS.test(m[1]) && (m[1].length === 1 || m[1][0] !== '0') && m[1].length <= 19;
  }
  if (s.startsWith('records/') || s.startsWith('custody/')) {
    const t = s.slice(8);
    return t.endsWith('.json') && t.length - 5 <= 64 && IDCH.test(t.slice(0, -5));
  }
  if (s.startsWith('evidence/')) return HEX64.test(s.slice(9));
  return false;
}

class Verifier {
  constructor(blob, policy) {
    this.zip = new Zip(blob);
    this.policy = policy;
    this.names = new Map();
    this.used = new Set();
  }
  find(name, max) {
    if (!this.names.has(name)) fail(`entry '${name}' named in the manifest is missing`);
    this.used.add(name);
    const e = this.zip.entries[this.names.get(name)];
    if (e.size > max) fail(`entry '${name}' is too large`);
    return e;
  }
  async load(name, max) {
    const e = this.find(name, max);
    const b = await this.zip.read(e.offset, Number(e.size));
    if (crc32(0, b) !== e.crc) fail(`entry '${name}' is damaged (its checksum is wrong)`);
    return b;
  }
  async json(name, max) {
    const v = parseJson(await this.load(name, max));
    if (!isObj(v)) fail(`entry '${name}' is not a valid JSON object`);
    return v;
  }
  index() {
    this.zip.entries.forEach((e, i) => {
      const n = e.name;
      const safe = n.length > 0 && n.length <= 128 && n[0] !== '/' && !n.includes('..') &&
        !n.includes('//') && /^[A-Za-z0-9_.\/-]+$/.test(n);
      if (!safe) fail("the bundle holds an unsafe entry name (absolute, '..' or odd characters)");
      if (this.names.has(n)) fail(`the bundle holds entry '${n}' twice`);
      if (!nameExpected(n)) fail(`the bundle holds an unexpected entry '${n}'`);
      this.names.set(n, i);
    });
  }
  shape() {
    const m = this.m;
    const keys = ['mediaType', 'profile', 'log', 'witnesses', 'envelopes', 'records', 'evidence'];
    for (const k of keys) if (!m.has(k)) fail(`the manifest has no "${k}"`);
    if (m.size !== keys.length || m.get('mediaType') !== MEDIA_TYPE) fail('the manifest is not a Defter bundle v1 manifest');
    const log = m.get('log'), wit = m.get('witnesses');
    if (!isStr(m.get('profile')) || !isObj(log) || log.size !== 4 || !isObj(wit) || wit.size !== 4 ||
      !Array.isArray(m.get('envelopes')) || !Array.isArray(m.get('records')) || !Array.isArray(m.get('evidence'))) {
      fail('the manifest is malformed');
    }
  }
  trust() {
    const log = this.m.get('log'), wit = this.m.get('witnesses');
    const lk = parseVkey(get(log, 'vkey'));
    if (!lk || lk.alg !== 1) fail("the bundle's log key is not a valid verifier key");
    const origin = originOf(lk.pub);
    if (origin !== lk.name || get(log, 'origin') !== origin) fail("the bundle's log key does not match its origin name");
    this.logKey = lk;
    let keys = get(wit, 'keys'), k = get(wit, 'policy');
    const p = this.policy;
    if (p) {
      const pk = parseVkey(get(p, 'log'));
      if (!pk || pk.alg !== 1) fail("the policy's log key is not a valid verifier key");
      if (!eq(pk.pub, lk.pub)) fail('the bundle is signed by another log than the policy trusts');
      keys = get(p, 'witnesses'); k = get(p, 'quorum');
      this.trusted = true;
    }
    if (!Array.isArray(keys) || keys.length > 31 || !isInt(k) || k.v < 0n || k.v > BigInt(keys.length)) {
      fail(`the ${p ? "policy's" : "bundle's"} witness keys or quorum are malformed`);
    }
    this.quorum = k.v;
    this.wit = keys.map((w) => {
      const v = parseVkey(w);
      if (!v || v.alg !== 4) fail('a witness key is not a valid verifier key');
      return v;
    });
  }
  async log() {
    const log = this.m.get('log'), wit = this.m.get('witnesses');
    this.latest = await checkpointOpen(get(log, 'checkpoint'), this.logKey, this.wit);
    if (!this.latest) fail('the log checkpoint does not verify under the log and witness keys');
    const size = get(log, 'size');
    if (!isInt(size) || size.v < 0n || size.v !== this.latest.size) fail("the manifest's log size differs from its checkpoint");
    this.latestNote = get(log, 'checkpoint');
    const cos = get(wit, 'cosigned'), cons = get(wit, 'consistency');
    if (cos === null) {
      if (cons !== null) fail('the manifest has a consistency proof but no cosigned checkpoint');
      return;
    }
    this.cosigned = await checkpointOpen(cos, this.logKey, this.wit);
    if (!this.cosigned) fail('the cosigned checkpoint does not verify under the log and witness keys');
    this.cosignedNote = cos;
    const bad = 'the log checkpoint is not consistent with the cosigned checkpoint';
    const os = get(cons, 'old_size'), ns = get(cons, 'new_size'), pr = get(cons, 'proof');
    if (!isObj(cons) || !isInt(os) || !isInt(ns) || os.v !== this.cosigned.size || ns.v !== this.latest.size) fail(bad);
    if (!Array.isArray(pr) || pr.length > 64) fail(bad);
    const proof = pr.map((h) => hash32(h));
    if (proof.some((h) => !h || h.length !== 32)) fail(bad);
    if (this.cosigned.size === 0n || this.cosigned.size > this.latest.size ||
      !verifyConsistency(this.cosigned.size, this.latest.size, this.cosigned.root, this.latest.root, proof)) fail(bad);
  }
  async envelope(e, k) {
    const ij = get(e, 'index'), en = get(e, 'envelope'), pn = get(e, 'proof');
    const bad = "the manifest's list of envelopes is malformed";
    if (!isObj(e) || e.size !== 3 || !isInt(ij) || ij.v < 0n || !isStr(en) || !isStr(pn)) fail(bad);
    const index = ij.v;
    if (en !== `entries/${index}.envelope` || pn !== `entries/${index}.tlog-proof` ||
      (k > 0 && this.envs[k - 1].index >= index)) fail(bad);
    const env = await this.load(en, 1 << 30);
    const ptext = await this.load(pn, 65536 + 8192);
    const dv = new DataView(env.buffer, env.byteOffset, env.length);
    const head = env.slice(0, 137);
    if (env.length < 165 + 16 || !eq(env.slice(0, 4), utf8('DFTE')) || env[4] !== 1 ||
      dv.getUint32(161) !== env.length - 165 || !(await inspectHead(head))) {
      fail(`envelope '${en}' is malformed or its signature does not verify`);
    }
    const p = parseProof(ptext);
    if (!p || p.index !== index) fail(`the tlog-proof '${pn}' is malformed`);
    let cp = null, cosigned = false;
    if (eq(p.checkpoint, utf8(this.latestNote))) cp = this.latest;
    else if (this.cosigned && eq(p.checkpoint, utf8(this.cosignedNote))) { cp = this.cosigned; cosigned = true; }
    if (!cp) fail(`the tlog-proof '${pn}' carries a checkpoint the manifest does not`);
    const leaf = sha256(Uint8Array.of(0), env);
    if (!verifyInclusion(index, cp.size, leaf, p.hashes, cp.root)) fail(`envelope '${en}' is not in the log: its inclusion proof fails`);
    this.envs.push({ index, cosigned, head: b64encode(head), leaf, size: cp.size, root: cp.root });
  }
  async history(doc, id, file, state) {
    const ops = get(doc, 'operations');
    if (!Array.isArray(ops) || ops.length === 0) fail(`'${file}' lists no operations`);
    let withheld = 0;
    for (const o of ops) {
      const ij = get(o, 'index'), sj = get(o, 'seq'), d = get(o, 'disclosure');
      if (!isObj(o) || o.size !== 3 || !isInt(ij) || !isInt(sj) || !isObj(d) || ij.v < 0n) fail(`'${file}' has a malformed operation`);
      const env = this.envs.find((x) => x.index === ij.v);
      if (!env) fail(`'${file}' has an operation whose envelope is not in the bundle`);
      if (get(d, 'head') !== env.head || !jequal(get(d, 'index'), sj)) fail(`'${file}' has an operation that is not from its envelope`);
      const revealed = await disclosureVerify(d);
      if (!revealed) fail(`'${file}' has an operation whose disclosed fields do not match the signed digests`);
      const rec = revealed.get('record'), to = revealed.get('to'), action = revealed.get('action');
      if (!isStr(action) || ((!isStr(rec) || rec !== id) && (!isStr(to) || to !== id))) {
        fail(`'${file}' has an operation that does not touch its record`);
      }
      withheld += get(d, 'withheld').length;
      const type = revealed.get('type');
      if (action === 'create' && rec === id && isStr(type) && state.type !== undefined && state.type !== type) {
        fail(`'${file}' claims another type than its signed creation`);
      }
      if (rec === id && (action === 'create' || action === 'update')) {
        for (const [k, v] of revealed) {
          if (!k.startsWith('fields/')) continue;
          if (v === null) state.fields.delete(k.slice(7)); else state.fields.set(k.slice(7), v);
        }
      }
      const item = new Map(revealed);
      item.set('index', new JInt(ij.v));
      item.set('withheld', new JInt(BigInt(get(d, 'withheld').length)));
      item.set('witnessed', env.cosigned);
      state.ops.push(item);
    }
    state.withheld = withheld;
  }
  async records() {
    this.records = [];
    for (const r of this.m.get('records')) {
      const id = get(r, 'id'), type = get(r, 'type'), file = get(r, 'file');
      if (!isObj(r) || r.size !== 3 || !isStr(id) || !isStr(type) || !isStr(file) || utf8(id).length > 64 ||
        file !== `records/${id}.json`) fail("the manifest's list of records is malformed");
      const doc = await this.json(file, 256 << 20);
      if (doc.size !== 3 || get(doc, 'id') !== id || get(doc, 'type') !== type) fail(`'${file}' does not name the record the manifest lists`);
      const state = { id, type, fields: new Map(), ops: [], withheld: 0 };
      this.records.push(state);
      await this.history(doc, id, file, state);
    }
  }
  async evidence(progress) {
    this.evidence = [];
    for (const e of this.m.get('evidence')) {
      const id = get(e, 'id'), sha = get(e, 'sha256'), custody = get(e, 'custody');
      const file = get(e, 'file'), size = get(e, 'size'), record = get(e, 'record');
      const bad = "the manifest's list of evidence is malformed";
      if (!isObj(e) || e.size !== 6 || !isStr(id) || utf8(id).length > 64 || !isStr(sha) || !HEX64.test(sha) ||
        !isStr(custody) || !isInt(size) || size.v < 0n || !isStr(record) || !(file === null || isStr(file))) fail(bad);
      if (custody !== `custody/${id}.json` || (isStr(file) && file !== `evidence/${sha}`)) fail(bad);
      const doc = await this.json(custody, 256 << 20);
      if (doc.size !== 2 || get(doc, 'id') !== id) fail(`'${custody}' does not name the evidence the manifest lists`);
      const state = { id, sha256: sha, size: Number(size.v), record, fields: new Map(), ops: [], withheld: 0 };
      this.evidence.push(state);
      await this.history(doc, id, custody, state);
      const vouched = state.ops.some((op) => op.get('action') === 'evidence' && op.get('to') === id &&
        op.get('fields/sha256') === sha && (!op.has('fields/size') || jequal(op.get('fields/size'), size)) &&
        (!op.has('record') || jequal(op.get('record'), record)));
      if (!vouched) fail(`evidence '${id}' has no signed operation that records its SHA-256`);
      state.file = isStr(file);
      if (isStr(file)) {
        const ent = this.find(file, 1n << 42n);
        const h = new Sha256();
        let crc = 0;
        const CH = 1 << 20;
        for (let off = 0n; off < ent.size;) {
          const n = Number(ent.size - off < BigInt(CH) ? ent.size - off : BigInt(CH));
          const b = await this.zip.read(ent.offset + off, n);
          h.update(b);
          crc = crc32(crc, b);
          off += BigInt(n);
          if (progress) progress(file, off, ent.size);
        }
        if (crc !== ent.crc) fail(`entry '${file}' is damaged (its checksum is wrong)`);
        if (hex(h.digest()) !== sha || ent.size !== size.v) fail(`evidence file '${file}' does not match its signed SHA-256`);
      }
    }
  }
  async run(progress) {
    await this.zip.open();
    this.index();
    this.m = await this.json('manifest.json', 64 << 20);
    this.shape();
    this.trust();
    await this.log();
    const envs = this.m.get('envelopes');
    if (envs.length > 1000000) fail("the manifest's list of envelopes is malformed");
    this.envs = [];
    for (let k = 0; k < envs.length; k++) await this.envelope(envs[k], k);
    await this.records();
    await this.evidence(progress);
    for (const n of this.names.keys()) if (!this.used.has(n)) fail(`entry '${n}' is not named in the manifest`);
    const witnessed = this.envs.filter((e) => e.cosigned).length;
    const cosigs = this.cosigned ? this.cosigned.cosigs : 0;
    if (this.quorum > 0n && (!this.cosigned || BigInt(cosigs) < this.quorum)) {
      fail(`the witness quorum is not met: the cosigned checkpoint has ${cosigs} of the ${this.quorum} cosignatures required`);
    }
    if (this.trusted && this.quorum > 0n && witnessed < this.envs.length) {
      fail(`the witness quorum is not met: ${this.envs.length - witnessed} of ${this.envs.length} envelopes are not covered by the cosigned checkpoint`);
    }
    const st = (s) => ({ ...s, fields: plain(s.fields), ops: s.ops.map(plain) });
    return {
      ok: true,
      profile: this.m.get('profile'),
      log: { origin: this.logKey.name, vkey: formatVkey(this.logKey), size: Number(this.latest.size), trusted: !!this.trusted },
      witnesses: { keys: this.wit.length, quorum: Number(this.quorum), cosignatures: cosigs,
        cosigned_size: this.cosigned ? Number(this.cosigned.size) : 0, envelopes_witnessed: witnessed },
      envelopes: this.envs.length,
      entries: this.envs.map((e) => ({ index: Number(e.index), leaf_hash: b64encode(e.leaf), size: Number(e.size), root: b64encode(e.root), witnessed: e.cosigned })),
      records: this.records.map(st),
      evidence: this.evidence.map(st),
    };
  }
}

async function inspectHead(head) {
  if (!eq(head.slice(0, 4), utf8('DFTE')) || head[4] !== 1) return false;
  const n = new DataView(head.buffer, head.byteOffset, head.length).getUint32(37);
  if (n === 0) return false;
  return edVerify(head.slice(5, 37), head.slice(73, 137), concat(utf8('defter/envelope/v1\n'), head.slice(0, 73)));
}

function parseProof(b) {
  if (b.length > 65536 + 8192) return null;
  const H = utf8('c2sp.org/tlog-proof@v1\n');
  if (b.length < H.length || !eq(b.slice(0, H.length), H)) return null;
  let pos = H.length;
  const dec = new TextDecoder('latin1');
  const next = () => {
    if (pos >= b.length) return null;
    const nl = b.indexOf(0x0a, pos);
    if (nl < 0) return null;
    const l = b.slice(pos, nl);
    pos = nl + 1;
    return l;
  };
  let l = next();
  if (!l) return null;
  if (l.length > 6 && dec.decode(l.slice(0, 6)) === 'extra ') {
    const x = b64decode(dec.decode(l.slice(6)));
    if (!x || x.length > 4096) return null;
    l = next();
    if (!l) return null;
  }
  const s = dec.decode(l);
  if (!/^index (0|[1-9][0-9]{0,18})$/.test(s)) return null;
  const index = BigInt(s.slice(6));
  const hashes = [];
  for (;;) {
    l = next();
    if (!l) return null;
    if (l.length === 0) break;
    if (hashes.length === 64) return null;
    const h = hash32(dec.decode(l));
    if (!h || h.length !== 32) return null;
    hashes.push(h);
  }
  if (pos >= b.length) return null;
  return { index, hashes, checkpoint: b.slice(pos) };
}

/* As dft_disclosure_verify: the revealed items (a Map name -> value), or null. */
async function disclosureVerify(d) {
  const v = get(d, 'v'), head = get(d, 'head'), ij = get(d, 'index');
  const revealed = get(d, 'revealed'), withheld = get(d, 'withheld'), path = get(d, 'path');
  if (!isObj(d) || d.size !== 6 || !isInt(v) || !isStr(head) || !isInt(ij) || !Array.isArray(revealed) ||
    !Array.isArray(withheld) || !Array.isArray(path)) return null;
  if (v.v !== 1n) return null;
  const h = b64decode(head);
  if (!h || h.length !== 137) return null;
  const nr = revealed.length, nw = withheld.length;
  if (path.length > 64 || nr + nw === 0 || nr > (1 << 25) || nw > (1 << 25)) return null;
  if (!(await inspectHead(h))) return null;
  const count = BigInt(new DataView(h.buffer, h.byteOffset, h.length).getUint32(37));
  if (ij.v < 0n || ij.v >= count) return null;
  const proof = path.map(hash32);
  if (proof.some((x) => !x || x.length !== 32)) return null;
  const digests = withheld.map(hash32);
  if (digests.some((x) => !x || x.length !== 32)) return null;
  const values = new Map();
  for (const it of revealed) {
    const name = get(it, 'name'), salt = get(it, 'salt');
    if (!isObj(it) || it.size !== 3 || !isStr(name) || !isStr(salt) || !it.has('value')) return null;
    const s = b64decode(salt);
    if (!s || s.length !== 16) return null;
    if (values.has(name)) return null;
    let c;
    try { c = canon(it.get('value')); } catch (e) { return null; }
    digests.push(sha256(s, utf8('[' + canonString(name) + ',' + c + ']')));
    values.set(name, it.get('value'));
  }
  digests.sort(cmpBytes);
  const opHash = sha256(Uint8Array.of(2), ...digests);
  const leaf = sha256(Uint8Array.of(0), opHash);
  if (!verifyInclusion(ij.v, count, leaf, proof, h.slice(41, 73))) return null;
  return values;
}

/* Verify a bundle (a Blob or anything with size and slice().arrayBuffer()). policyText may be
 * null. Returns the report, or {ok: false, error} naming the first failing item. */
async function verifyBundle(blob, policyText, progress) {
  let policy = null;
  if (policyText != null) {
    policy = parseJson(utf8(policyText));
    if (!isObj(policy)) return { ok: false, error: 'the policy is not a JSON object', usage: true };
  }
  try {
    return await new Verifier(blob, policy).run(progress);
  } catch (e) {
    if (e instanceof Fail) return { ok: false, error: e.message };
    return { ok: false, error: 'internal error: ' + e.message };
  }
}

if (typeof module !== 'undefined') module.exports = { verifyBundle, Sha256, sha256, hex };
