// @sigstore/verify's verdict on bundles, without any identity policy:
//
//   node verify.mjs <trusted_root.json> <bundle.json>...
//
// Prints a JSON array: [{ file, verified, error }]. Bundles must carry a
// transparency-log entry and, like the public-good instance issues them,
// a certificate with an SCT.
import fs from 'node:fs';

import bundle from '@sigstore/bundle';
import verify from '@sigstore/verify';
import specs from '@sigstore/protobuf-specs';

const [rootFile, ...files] = process.argv.slice(2);
const trust = verify.toTrustMaterial(specs.TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootFile, 'utf8'))));
const verifier = new verify.Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 });
const verdicts = files.map((file) => {
  try {
    const b = bundle.bundleFromJSON(JSON.parse(fs.readFileSync(file, 'utf8')));
    verifier.verify(verify.toSignedEntity(b));
    return { file, verified: true, error: null };
  } catch (e) {
    return { file, verified: false, error: `${e.name}: ${e.message}` };
  }
});
console.log(JSON.stringify(verdicts));
