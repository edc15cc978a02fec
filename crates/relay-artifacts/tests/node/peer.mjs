// Drives @actions/artifact against ACTIONS_RESULTS_URL/ACTIONS_RUNTIME_TOKEN.
//   node peer.mjs upload <name> <root-dir> <file>...   -> prints {"id","size","digest"}
//   node peer.mjs download <name> <out-dir>            -> prints {"path"}
import { DefaultArtifactClient } from '@actions/artifact';

const [cmd, name, dir, ...files] = process.argv.slice(2);
const client = new DefaultArtifactClient();
if (cmd === 'upload') {
  const r = await client.uploadArtifact(name, files, dir, { retentionDays: 1 });
  console.log(JSON.stringify(r));
} else if (cmd === 'download') {
  const { artifact } = await client.getArtifact(name);
  const r = await client.downloadArtifact(artifact.id, { path: dir });
  console.log(JSON.stringify({ id: artifact.id, path: r.downloadPath, digestMismatch: r.digestMismatch ?? false }));
} else {
  console.error(`unknown command ${cmd}`);
  process.exit(2);
}
