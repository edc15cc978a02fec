// Makes real Sigstore bundles with Sigstore's own JavaScript signer
// (@sigstore/sign) against @sigstore/mock's Fulcio, Rekor and TSA (a
// certificate carrying GitHub Actions' OIDC claims), writes the matching
// trusted_root.json, and records @sigstore/verify's verdict on each case.
//
//   node sign.mjs <out-dir>
//
// Writes <out-dir>/trusted_root.json, <out-dir>/<case>.json (one bundle
// each) and <out-dir>/cases.json: [{ name, bundle, digest, commit,
// sigstore: { verified, error, checked } }].
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

import sign from '@sigstore/sign';
import bundle from '@sigstore/bundle';
import verify from '@sigstore/verify';
import specs from '@sigstore/protobuf-specs';
import sigmock from '@sigstore/mock';

const require = createRequire(import.meta.url);
// @sigstore/mock's nock wiring (the package has no exports map).
const { mock } = require('@sigstore/mock/dist/mock.js');
const { generateKeyPair } = require('@sigstore/mock/dist/util/key.js');

const out = process.argv[2];
if (!out) throw new Error('usage: node sign.mjs <out-dir>');
fs.mkdirSync(out, { recursive: true });

const FULCIO = 'https://fulcio.mock.test';
const OTHER_FULCIO = 'https://fulcio.other.test';
const REKOR = 'https://rekor.mock.test';
const TSA = 'https://tsa.mock.test';
const ISSUER = 'https://token.actions.githubusercontent.com';
const REPO = 'octo/app';
const COMMIT = '8c1f0b7d2e4a6c8e0f1a3b5c7d9e1f2a3b4c5d6e';
const DIGEST = crypto.createHash('sha256').update('the image').digest('hex');
const OTHER_DIGEST = crypto.createHash('sha256').update('another image').digest('hex');
const MAIN = 'refs/heads/main';
const SAN = (repo, file, ref) => `https://github.com/${repo}/.github/workflows/${file}@${ref}`;

const b64 = (buf) => Buffer.from(buf).toString('base64');
const b64url = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const since = '2000-01-01T00:00:00Z';

// The services: one Fulcio whose root is trusted, one whose root is not,
// one whose clock is an hour behind (its certificates expire before the
// log integrates the entry), a Rekor and a TSA.
const caKey = generateKeyPair('prime256v1');
const ca = await sigmock.initializeCA(caKey);
const otherCa = await sigmock.initializeCA(generateKeyPair('prime256v1'));
const pastCa = await sigmock.initializeCA(caKey, undefined, new Date(Date.now() - 3600_000));
const tlogKey = generateKeyPair('prime256v1');
const tlog = await sigmock.initializeTLog(REKOR, tlogKey);
const tsa = await sigmock.initializeTSA(generateKeyPair('prime256v1'));
// The TSA stamps whole seconds. DER drops a fraction's trailing zeros
// (X.690 11.7.3), so a time at .120 s is written `.12`, and
// @sigstore/core's GeneralizedTime reader takes only three digits: it would
// refuse about one stamp in ten as "invalid time" (ours reads any fraction;
// src/tsa.rs tests it). Whole seconds keep the comparison about the bundle.
tsa.getCurrentTime = () => new Date(Math.floor(Date.now() / 1000) * 1000);

const spki = tlogKey.publicKey.export({ format: 'der', type: 'spki' });
const trustedRoot = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [{
    baseUrl: REKOR,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: b64(spki), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: since } },
    logId: { keyId: b64(crypto.createHash('sha256').update(spki).digest()) },
  }],
  certificateAuthorities: [{
    subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
    uri: FULCIO,
    certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
    validFor: { start: since },
  }],
  ctlogs: [],
  timestampAuthorities: [{
    subject: { organization: 'sigstore.mock', commonName: 'sigstore-tsa' },
    uri: TSA,
    certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
    validFor: { start: since },
  }],
};
fs.writeFileSync(path.join(out, 'trusted_root.json'), JSON.stringify(trustedRoot, null, 2));

// The OIDC token GitHub Actions would hand the job (mock Fulcio reads the
// claims without checking a signature; `san` becomes the certificate SAN).
function token({ repo = REPO, workflowRepo = repo, file = 'build.yml', ref = MAIN, sha = COMMIT }) {
  const claims = {
    iss: ISSUER,
    sub: `repo:${repo}:ref:${ref}`,
    san: SAN(workflowRepo, file, ref),
    repository: repo,
    repository_owner: repo.split('/')[0],
    ref,
    sha,
    event_name: 'push',
    workflow: 'build',
    job_workflow_ref: `${workflowRepo}/.github/workflows/${file}@${ref}`,
    job_workflow_sha: sha,
    runner_environment: 'github-hosted',
    run_id: '42',
    run_attempt: '1',
  };
  return `${b64url({ alg: 'none' })}.${b64url(claims)}.`;
}

function statement(digest) {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'ghcr.io/octo/app', digest: { sha256: digest } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: 'https://actions.github.io/buildtypes/workflow/v1',
        externalParameters: { workflow: { ref: MAIN, repository: `https://github.com/${REPO}`, path: '.github/workflows/build.yml' } },
        resolvedDependencies: [{ uri: `git+https://github.com/${REPO}@${MAIN}`, digest: { gitCommit: COMMIT } }],
      },
      runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' }, metadata: { invocationId: `https://github.com/${REPO}/actions/runs/42/attempts/1` } },
    },
  };
}

/**
 * Signs a statement through the mock services and returns the bundle's
 * JSON. The log entries are `intoto` ones: mock Rekor stores a `dsse`
 * proposal as it was proposed, where the real Rekor rewrites it into
 * hashes (real `dsse` entries are checked with the vendored real bundles).
 */
async function signed({ authority = ca, url = FULCIO, claims = {}, digest = DIGEST, rekor = true, timestamp = false } = {}) {
  mock(url, sigmock.fulcioHandler(authority, { subjectClaim: 'san' }));
  const witnesses = [];
  if (rekor) {
    mock(REKOR, sigmock.rekorHandler(tlog));
    witnesses.push(new sign.RekorWitness({ rekorBaseURL: REKOR, entryType: 'intoto' }));
  }
  if (timestamp) {
    mock(TSA, sigmock.tsaHandler(tsa));
    witnesses.push(new sign.TSAWitness({ tsaBaseURL: TSA }));
  }
  const signer = new sign.FulcioSigner({
    fulcioBaseURL: url,
    identityProvider: { getToken: async () => token(claims) },
  });
  const builder = new sign.DSSEBundleBuilder({ signer, witnesses });
  const b = await builder.create({
    data: Buffer.from(JSON.stringify(statement(digest))),
    type: 'application/vnd.in-toto+json',
  });
  return bundle.bundleToJSON(b);
}

const utf8 = (s) => Buffer.concat([Buffer.from([0x0c, Buffer.byteLength(s)]), Buffer.from(s)]);
const oid = (arc, value) => ({ oid: { id: [1, 3, 6, 1, 4, 1, 57264, 1, arc] }, value: utf8(value) });
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

// What @sigstore/verify is asked to check beyond the bundle itself: the
// exact SAN of the allowed workflow (its ref included), the issuer, and
// the source repository, commit and ref extensions. The subject digest is
// not its job: the script checks it explicitly on the verified payload.
const policy = {
  subjectAlternativeName: `^${escape(SAN(REPO, 'build.yml', MAIN))}$`,
  extensions: { issuer: ISSUER },
  oids: [oid(12, `https://github.com/${REPO}`), oid(13, COMMIT), oid(14, MAIN)],
};
const checked = 'bundle (chain, signature, tlog or TSA) + SAN ^…build.yml@refs/heads/main$ + issuer + OIDs .12/.13/.14 + explicit sha256 subject check';

function judge(json, { expectDigest = DIGEST, tsaOnly = false }) {
  const trust = verify.toTrustMaterial(specs.TrustedRoot.fromJSON(trustedRoot));
  // Public-good-like bundles need their log entry; GitHub-private-like
  // bundles their timestamp. No SCTs: the mock CA has no CT log.
  const verifier = new verify.Verifier(trust, tsaOnly
    ? { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 1 }
    : { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 1 });
  try {
    const b = bundle.bundleFromJSON(json);
    verifier.verify(verify.toSignedEntity(b), policy);
    const st = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64'));
    if (!st.subject.some((s) => s.digest.sha256 === expectDigest)) {
      throw new Error(`subject digest is not sha256:${expectDigest}`);
    }
    return { verified: true, error: null, checked };
  } catch (e) {
    return { verified: false, error: `${e.name}: ${e.message}`, checked };
  }
}

const cases = [];
async function add(name, json, opts = {}) {
  const file = `${name}.json`;
  fs.writeFileSync(path.join(out, file), JSON.stringify(json, null, 2));
  const digest = opts.expectDigest ?? DIGEST;
  cases.push({ name, bundle: file, digest: `sha256:${digest}`, commit: COMMIT, sigstore: judge(json, opts) });
}

const good = await signed();
await add('good', good);
await add('good-log-and-timestamp', await signed({ timestamp: true }));
await add('good-timestamp-only', await signed({ rekor: false, timestamp: true }), { tsaOnly: true });
await add('wrong-digest', good, { expectDigest: OTHER_DIGEST });
await add('wrong-workflow', await signed({ claims: { workflowRepo: 'evil/tools' } }));
await add('wrong-ref', await signed({ claims: { ref: 'refs/heads/feature' } }));
await add('wrong-commit', await signed({ claims: { sha: '0'.repeat(40) } }));
// A ref that carries markup and a workflow command, for the escaping of
// whatever a certificate says on its way to a log or a summary.
await add('hostile-ref', await signed({ claims: { ref: 'refs/heads/main\n::error::pwned <img src=x onerror=alert(1)> | @admin' } }));
const tampered = structuredClone(good);
tampered.dsseEnvelope.payload = b64(JSON.stringify(statement(OTHER_DIGEST)));
await add('tampered-envelope', tampered, { expectDigest: OTHER_DIGEST });
await add('expired-certificate', await signed({ authority: pastCa }));
await add('another-ca', await signed({ authority: otherCa, url: OTHER_FULCIO }));
const unlogged = structuredClone(good);
unlogged.verificationMaterial.tlogEntries = [];
await add('missing-log-entry', unlogged);
const badStamp = await signed({ rekor: false, timestamp: true });
const ts = Buffer.from(badStamp.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp, 'base64');
ts[ts.length - 5] ^= 1;
badStamp.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp = b64(ts);
await add('tampered-timestamp', badStamp, { tsaOnly: true });

fs.writeFileSync(path.join(out, 'cases.json'), JSON.stringify(cases, null, 2));
for (const c of cases) {
  console.log(`${c.name}: ${c.sigstore.verified ? 'verified' : c.sigstore.error}`);
}
