// tlog_client.mjs - an independent log and witness client for the witness tests, written from
// the C2SP texts (signed-note, tlog-checkpoint, tlog-witness, tlog-cosignature) with Node's
// crypto only: RFC 6962 tree and consistency proofs, Ed25519 checkpoint signatures (type 0x01),
// and verification of the witness's cosignature/v1 (type 0x04) lines. Shares no code with Defter.
//
//   node tlog_client.mjs statuses URL WITNESS_VKEY STATEFILE   every add-checkpoint status code
//   node tlog_client.mjs concurrent URL WITNESS_VKEY STATEFILE N  N concurrent adds, no rollback
//   node tlog_client.mjs keygen ORIGIN STATEFILE               print the log's vkey
//   node tlog_client.mjs add URL WITNESS_VKEY STATEFILE OLD NEW  one add; prints status
//   node tlog_client.mjs verify-note WITNESS_VKEY LOG_VKEY < note  check a cosigned checkpoint
import crypto from 'node:crypto';
import fs from 'node:fs';

const sha256 = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (d) => sha256(Buffer.from([0]), d);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);

// RFC 6962 2.1: MTH over leaf hashes
function mth(leaves) {
  if (leaves.length === 0) return sha256(Buffer.alloc(0));
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
// RFC 6962 2.1.2: PROOF(m, D[n]) = SUBPROOF(m, D[n], true)
function subproof(m, leaves, b) {
  const n = leaves.length;
  if (m === n) return b ? [] : [mth(leaves)];
  let k = 1;
  while (k * 2 < n) k *= 2;
  if (m <= k) return [...subproof(m, leaves.slice(0, k), b), mth(leaves.slice(k))];
  return [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

const keyId = (name, type, pub) =>
  sha256(Buffer.from(name, 'utf8'), Buffer.from('\n'), Buffer.from([type]), pub).subarray(0, 4);

function parseVkey(vkey) {
  const i = vkey.indexOf('+');
  const j = vkey.indexOf('+', i + 1);
  const [name, hex, b64] = [vkey.slice(0, i), vkey.slice(i + 1, j), vkey.slice(j + 1)];
  const raw = Buffer.from(b64, 'base64');
  const type = raw[0];
  const pub = raw.subarray(1);
  if (pub.length !== 32 || keyId(name, type, pub).toString('hex') !== hex.toLowerCase())
    throw new Error('bad vkey ' + vkey);
  const key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
  return { name, type, pub, id: keyId(name, type, pub), key };
}

function loadState(file) {
  const st = JSON.parse(fs.readFileSync(file, 'utf8'));
  st.sk = crypto.createPrivateKey({ key: Buffer.from(st.pkcs8, 'base64'), format: 'der', type: 'pkcs8' });
  st.pub = Buffer.from(crypto.createPublicKey(st.sk).export({ format: 'jwk' }).x, 'base64url');
  st.leaves = [];
  for (let i = 0; i < 512; i++) st.leaves.push(leafHash(Buffer.from(`${st.origin} entry ${i}`)));
  return st;
}

function keygen(origin, file) {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
  fs.writeFileSync(file, JSON.stringify({ origin, pkcs8 }), { mode: 0o600 });
  const st = loadState(file);
  return vkeyOf(st);
}
const vkeyOf = (st) =>
  `${st.origin}+${keyId(st.origin, 1, st.pub).toString('hex')}+${Buffer.concat([Buffer.from([1]), st.pub]).toString('base64')}`;

function checkpoint(st, size, { root = null, sk = st.sk, pub = st.pub, name = st.origin } = {}) {
  const r = root || mth(st.leaves.slice(0, size));
  const text = `${st.origin}\n${size}\n${r.toString('base64')}\n`;
  const sig = crypto.sign(null, Buffer.from(text), sk);
  const line = `— ${name} ${Buffer.concat([keyId(name, 1, pub), sig]).toString('base64')}\n`;
  return { text, note: `${text}\n${line}` };
}

function body(old, proof, note) {
  return `old ${old}\n` + proof.map((h) => h.toString('base64') + '\n').join('') + '\n' + note;
}

async function post(url, b) {
  const res = await fetch(url + '/add-checkpoint', { method: 'POST', body: b });
  return { status: res.status, ctype: res.headers.get('content-type'), retry: res.headers.get('retry-after'), text: await res.text() };
}

// Verify the witness's cosignature/v1 lines (text: response body) over checkpoint text.
function verifyCosig(w, ckText, lines) {
  let ok = 0;
  for (const line of lines.split('\n').filter((l) => l.length)) {
    if (!line.startsWith('— ')) throw new Error('not a signature line: ' + line);
    const [name, b64] = line.slice(2).split(' ');
    const raw = Buffer.from(b64, 'base64');
    if (name !== w.name || !raw.subarray(0, 4).equals(w.id)) continue;
    if (raw.length !== 4 + 8 + 64) throw new Error('cosignature of wrong length');
    const t = raw.readBigUInt64BE(4);
    if (t === 0n || t >= 2n ** 63n) throw new Error('cosignature time ' + t);
    const msg = Buffer.from(`cosignature/v1\ntime ${t}\n${ckText}`);
    if (!crypto.verify(null, msg, w.key, raw.subarray(12))) throw new Error('cosignature does not verify');
    ok++;
  }
  return ok;
}

let checks = 0;
function expect(cond, what) {
  if (!cond) { console.error('FAIL: ' + what); process.exit(1); }
  checks++;
}

async function statuses(url, wvkey, file) {
  const w = parseVkey(wvkey);
  expect(w.type === 4, 'witness vkey has type 0x04');
  const st = loadState(file);
  let r;
  // 404: an origin the witness does not know
  const other = { ...st, origin: st.origin + '-unknown' };
  r = await post(url, body(0, [], checkpoint(other, 3).note));
  expect(r.status === 404, `unknown origin gives 404 (got ${r.status})`);
  // 403: signed by another key under the log's name
  const { privateKey: wrong } = crypto.generateKeyPairSync('ed25519');
  const wrongPub = Buffer.from(crypto.createPublicKey(wrong).export({ format: 'jwk' }).x, 'base64url');
  r = await post(url, body(0, [], checkpoint(st, 3, { sk: wrong, pub: wrongPub }).note));
  expect(r.status === 403, `unknown key gives 403 (got ${r.status})`);
  // 403: right name and key id, broken signature
  const good = checkpoint(st, 3);
  const raw = Buffer.from(good.note.slice(good.note.lastIndexOf(' ') + 1).trim(), 'base64');
  raw[10] ^= 1;
  const forged = `${good.text}\n— ${st.origin} ${raw.toString('base64')}\n`;
  r = await post(url, body(0, [], forged));
  expect(r.status === 403, `bad signature by the trusted key gives 403 (got ${r.status})`);
  // 400: malformed requests
  for (const bad of ['', 'old 01\n\n' + checkpoint(st, 3).note, 'old 0\n' + checkpoint(st, 3).note,
    'old 0\nnot-base64\n\n' + checkpoint(st, 3).note, 'old -1\n\n' + checkpoint(st, 3).note,
    'old 0\n\nexample\n3\n', 'old 0\n\n' + checkpoint(st, 3).text]) {
    r = await post(url, bad);
    expect(r.status === 400, `malformed body gives 400 (got ${r.status}): ${JSON.stringify(bad.slice(0, 30))}`);
  }
  r = await post(url, body(5, [], checkpoint(st, 3).note));
  expect(r.status === 400, `old > size gives 400 (got ${r.status})`);
  // 413: over 64 KiB
  r = await post(url, 'old 0\n' + 'A'.repeat(70000));
  expect(r.status === 413, `a body over 64 KiB gives 413 (got ${r.status})`);
  // 422: a proof from size 0
  r = await post(url, body(0, [st.leaves[0]], checkpoint(st, 3).note));
  expect(r.status === 422, `a proof with old 0 gives 422 (got ${r.status})`);
  // 422: size 0 with a root other than the empty tree's
  r = await post(url, body(0, [], checkpoint(st, 0, { root: st.leaves[1] }).note));
  expect(r.status === 422, `size 0 with a non-empty root gives 422 (got ${r.status})`);
  // 200: first checkpoint, old 0
  let ck = checkpoint(st, 5);
  r = await post(url, body(0, [], ck.note));
  expect(r.status === 200, `first checkpoint gives 200 (got ${r.status}: ${r.text})`);
  expect(verifyCosig(w, ck.text, r.text) === 1, 'the cosignature verifies with Node crypto');
  // 409: old differs from the witness's size; body SIZE\n, text/x.tlog.size
  r = await post(url, body(0, [], checkpoint(st, 7).note));
  expect(r.status === 409 && r.text === '5\n' && r.ctype === 'text/x.tlog.size',
    `stale old gives 409 "5\\n" text/x.tlog.size (got ${r.status} ${JSON.stringify(r.text)} ${r.ctype})`);
  r = await post(url, body(3, subproof(3, st.leaves.slice(0, 7), true), checkpoint(st, 7).note));
  expect(r.status === 409 && r.text === '5\n', `old 3 against 5 gives 409 (got ${r.status})`);
  // 200: extend 5 -> 9 with a real proof
  ck = checkpoint(st, 9);
  r = await post(url, body(5, subproof(5, st.leaves.slice(0, 9), true), ck.note));
  expect(r.status === 200 && verifyCosig(w, ck.text, r.text) === 1, `5 -> 9 gives 200 and a valid cosignature (got ${r.status})`);
  // 422: a proof that does not verify
  const bad = subproof(9, st.leaves.slice(0, 12), true);
  bad[0] = st.leaves[100];
  r = await post(url, body(9, bad, checkpoint(st, 12).note));
  expect(r.status === 422, `a wrong proof gives 422 (got ${r.status})`);
  // 422: a proof between equal sizes that is not empty, and the same size with another root
  r = await post(url, body(9, [], checkpoint(st, 9, { root: st.leaves[7] }).note));
  expect(r.status === 422, `same size, another root gives 422 (got ${r.status})`);
  // 200: the same checkpoint again
  ck = checkpoint(st, 9);
  r = await post(url, body(9, [], ck.note));
  expect(r.status === 200 && verifyCosig(w, ck.text, r.text) === 1, `the same checkpoint again gives 200 (got ${r.status})`);
  // a checkpoint that carries other signatures too is fine
  ck = checkpoint(st, 10);
  const extra = ck.note + `— someone.else/w ${Buffer.alloc(76, 7).toString('base64')}\n`;
  r = await post(url, body(9, subproof(9, st.leaves.slice(0, 10), true), extra));
  expect(r.status === 200 && verifyCosig(w, ck.text, r.text) === 1, `other signatures are ignored (got ${r.status})`);
  // GET <prefix>/<hex sha256(origin)>/checkpoint
  const hex = sha256(Buffer.from(st.origin)).toString('hex');
  let g = await fetch(`${url}/${hex}/checkpoint`);
  let gt = await g.text();
  expect(g.status === 200 && gt.startsWith(ck.text + '\n'), `GET checkpoint gives the latest (got ${g.status})`);
  expect(verifyCosig(w, ck.text, gt.slice(ck.text.length + 1)) === 1, 'the served checkpoint carries a valid cosignature');
  g = await fetch(`${url}/${sha256(Buffer.from('nobody')).toString('hex')}/checkpoint`);
  expect(g.status === 404, `GET of an unknown log gives 404 (got ${g.status})`);
  g = await fetch(`${url}/add-checkpoint`);
  expect(g.status === 405, `GET add-checkpoint gives 405 (got ${g.status})`);
  console.log(`ok ${checks} checks`);
}

async function concurrent(url, wvkey, file, n) {
  const w = parseVkey(wvkey);
  const st = loadState(file);
  let r = await post(url, body(0, [], checkpoint(st, 10).note));
  expect(r.status === 200, `start at 10 (got ${r.status} ${r.text})`);
  const accepted = [];
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const target = 11 + ((i * 37) % 400);
    const guess = [10, 11, 50, 100, 200][i % 5];
    jobs.push((async () => {
      let old = guess <= target ? guess : 10;
      for (let attempt = 0; attempt < 50; attempt++) {
        const ck = checkpoint(st, target);
        const proof = old === 0 ? [] : subproof(old, st.leaves.slice(0, target), true);
        const res = await post(url, body(old, proof, ck.note));
        if (res.status === 200) {
          expect(verifyCosig(w, ck.text, res.text) === 1, 'concurrent cosignature verifies');
          accepted.push({ old, size: target });
          return;
        }
        if (res.status !== 409) throw new Error(`unexpected ${res.status}: ${res.text}`);
        const now = Number(res.text.trim());
        if (now > target) return; // the witness moved past us: never back
        old = now;
      }
    })());
  }
  await Promise.all(jobs);
  // Accepted updates must form one chain 10 -> ... -> final: a rollback would break it.
  accepted.sort((a, b) => a.size - b.size || a.old - b.old);
  let cur = 10;
  for (const a of accepted) {
    expect(a.old === cur, `chain of accepted sizes is unbroken at ${cur} (next: ${a.old} -> ${a.size})`);
    cur = a.size;
  }
  const hex = sha256(Buffer.from(st.origin)).toString('hex');
  const g = await fetch(`${url}/${hex}/checkpoint`);
  const text = await g.text();
  expect(Number(text.split('\n')[1]) === cur, `the witness ends at the largest accepted size ${cur}`);
  r = await post(url, body(0, [], checkpoint(st, 10).note));
  expect(r.status === 409 && Number(r.text) === cur, 'a late old request cannot roll back');
  console.log(`ok ${checks} checks, ${accepted.length} accepted, final size ${cur}`);
}

async function addOne(url, wvkey, file, old, size) {
  const w = parseVkey(wvkey);
  const st = loadState(file);
  const ck = checkpoint(st, size);
  const proof = old === 0 || old === size ? [] : subproof(old, st.leaves.slice(0, size), true);
  const r = await post(url, body(old, proof, ck.note));
  if (r.status === 200) expect(verifyCosig(w, ck.text, r.text) === 1, 'cosignature verifies');
  console.log(`${r.status} ${r.text.trim()}`);
}

// A cosigned checkpoint on stdin: the log's signature and >= 1 cosignature of each witness vkey.
function verifyNote(wvkeys, logvkey) {
  const note = fs.readFileSync(0, 'utf8');
  const sep = note.indexOf('\n\n');
  const text = note.slice(0, sep + 1);
  const lines = note.slice(sep + 2);
  const lg = parseVkey(logvkey);
  let logOk = false;
  for (const line of lines.split('\n').filter((l) => l.length)) {
    const [name, b64] = line.slice(2).split(' ');
    const raw = Buffer.from(b64, 'base64');
    if (name === lg.name && raw.subarray(0, 4).equals(lg.id))
      logOk = crypto.verify(null, Buffer.from(text), lg.key, raw.subarray(4));
  }
  expect(logOk, 'the log signature verifies');
  let n = 0;
  for (const v of wvkeys.split(',')) n += verifyCosig(parseVkey(v), text, lines) > 0 ? 1 : 0;
  console.log(`ok log signature and ${n} witness cosignatures`);
}

const [cmd, ...a] = process.argv.slice(2);
try {
  if (cmd === 'keygen') console.log(keygen(a[0], a[1]));
  else if (cmd === 'statuses') await statuses(a[0], a[1], a[2]);
  else if (cmd === 'concurrent') await concurrent(a[0], a[1], a[2], Number(a[3]));
  else if (cmd === 'add') await addOne(a[0], a[1], a[2], Number(a[3]), Number(a[4]));
  else if (cmd === 'verify-note') verifyNote(a[0], a[1]);
  else { console.error('unknown command'); process.exit(2); }
} catch (e) {
  console.error("FAIL: " + e.message + " " + (e.cause ? e.cause.code + " " + e.cause.message : ""));
  process.exit(1);
}
