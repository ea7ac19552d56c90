/*
 * ui.js - the page around verify.js: file picker or drop, progress, verdict, details. Text only
 * through textContent (names in bundles are hostile input).
 */
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  };
  let policyText = null;

  /* Fingerprint of this page's verifier code: the one inline script, as the CSP pins it. */
  const code = document.scripts[0].textContent;
  $('self-hash').textContent = hex(sha256(new TextEncoder().encode(code)));

  function show(report) {
    const v = $('verdict'), d = $('details');
    v.replaceChildren();
    d.replaceChildren();
    if (!report.ok) {
      v.className = 'bad';
      v.append(el('strong', 'NOT VERIFIED: '), el('span', report.error, 'message'));
      return;
    }
    v.className = 'good';
    v.append(el('strong', 'VERIFIED'), el('span', ` (${report.profile} profile)`, 'message'));
    const log = report.log, w = report.witnesses;
    d.append(el('p', `Log ${log.origin}, tree size ${log.size}.`));
    d.append(el('p', `Log key: ${log.vkey}`, 'key'));
    if (!log.trusted) d.append(el('p', 'No trust policy given: compare this key with one obtained apart from the bundle.', 'warn'));
    d.append(el('p', `Witnesses: ${w.keys} keys, quorum ${w.quorum}, ${w.cosignatures} cosignatures on tree size ${w.cosigned_size}; ${w.envelopes_witnessed} of ${report.envelopes} envelopes witnessed.`));
    for (const r of report.records) {
      const s = el('section');
      s.append(el('h2', `${r.id} (${r.type})`));
      s.append(el('p', `${r.ops.length} operations, ${r.withheld} items withheld (shown as digests only)`));
      const t = el('table');
      for (const [k, val] of Object.entries(r.fields)) {
        const tr = el('tr');
        tr.append(el('th', k), el('td', typeof val === 'string' ? val : JSON.stringify(val)));
        t.append(tr);
      }
      s.append(t);
      d.append(s);
    }
    for (const e of report.evidence) {
      d.append(el('p', `${e.id}: evidence sha256 ${e.sha256}, ${e.size} bytes, ${e.file ? 'file checked' : 'file not included'}, ${e.ops.length} custody operations`, 'evidence'));
    }
  }

  async function run(file) {
    $('verdict').className = '';
    $('verdict').textContent = 'checking ' + file.name + ' …';
    $('details').replaceChildren();
    const t0 = performance.now();
    const report = await verifyBundle(file, policyText, (name, done, total) => {
      $('progress').textContent = `${name}: ${Math.floor(Number(done) * 100 / Number(total))} %`;
    });
    $('progress').textContent = `checked in ${Math.round(performance.now() - t0)} ms`;
    document.body.dataset.done = String(Number(document.body.dataset.done || 0) + 1);
    show(report);
  }

  $('bundle').addEventListener('change', (ev) => { if (ev.target.files[0]) run(ev.target.files[0]); });
  $('policy').addEventListener('change', async (ev) => {
    const f = ev.target.files[0];
    policyText = f ? await f.text() : null;
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const f = ev.dataTransfer.files[0];
    if (f) run(f);
  });
})();
