// @sigstore/verify's verdict on the fake Sigstore's bundles, with the
// identity policy a deploy holds them to:
//
//   node sigstore_js.cjs <spec.json>
//
// spec: { peers: <dir whose node_modules has @sigstore/*>, root: <trusted_root.json>,
//         cases: [{ name, bundle: <file>, san, repository, commit, ref, digest }] }
// Prints a JSON array: [{ name, verified, error }]. The log entry is
// required (and its signed entry timestamp is the signing time); there is
// no CT log, so no SCT is asked for, as with @sigstore/mock's certificates.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const peer = createRequire(path.join(path.resolve(spec.peers), 'package.json'));
const bundle = peer('@sigstore/bundle');
const verify = peer('@sigstore/verify');
const specs = peer('@sigstore/protobuf-specs');

const trust = verify.toTrustMaterial(
  specs.TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(spec.root, 'utf8'))),
);
const verifier = new verify.Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 1 });
const utf8 = (s) => Buffer.concat([Buffer.from([0x0c, Buffer.byteLength(s)]), Buffer.from(s)]);
const oid = (arc, value) => ({ oid: { id: [1, 3, 6, 1, 4, 1, 57264, 1, arc] }, value: utf8(value) });
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const verdicts = spec.cases.map((c) => {
  try {
    const json = JSON.parse(fs.readFileSync(c.bundle, 'utf8'));
    const b = bundle.bundleFromJSON(json);
    verifier.verify(verify.toSignedEntity(b), {
      subjectAlternativeName: `^${escape(c.san)}$`,
      extensions: { issuer: 'https://token.actions.githubusercontent.com' },
      oids: [oid(12, `https://github.com/${c.repository}`), oid(13, c.commit), oid(14, c.ref)],
    });
    const st = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64'));
    if (st.predicateType !== 'https://slsa.dev/provenance/v1') {
      throw new Error(`predicate type is ${st.predicateType}`);
    }
    if (!st.subject.some((s) => `sha256:${s.digest.sha256}` === c.digest)) {
      throw new Error(`subject digest is not ${c.digest}`);
    }
    return { name: c.name, verified: true, error: null };
  } catch (e) {
    return { name: c.name, verified: false, error: `${e.name}: ${e.message}` };
  }
});
console.log(JSON.stringify(verdicts));
