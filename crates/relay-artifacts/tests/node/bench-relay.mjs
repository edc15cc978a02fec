// The official way to relay another run's artifact with @actions/artifact:
// download it (REST /zip redirect, streamed and extracted), then upload the
// extracted files as a new artifact of this run (re-zipped).
//   node bench-relay.mjs <artifact-id> <owner/repo> <run-id> <out-dir> <new-name> [compression-level]
// Env: GITHUB_TOKEN, GITHUB_API_URL, ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_TOKEN.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';

const [id, repository, runId, outDir, newName, level] = process.argv.slice(2);
const [owner, repo] = repository.split('/');
const client = new DefaultArtifactClient();
const { downloadPath } = await client.downloadArtifact(Number(id), {
  path: outDir,
  findBy: {
    token: process.env.GITHUB_TOKEN,
    workflowRunId: Number(runId),
    repositoryOwner: owner,
    repositoryName: repo,
  },
});
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else files.push(p);
  }
};
walk(downloadPath);
const options = level === undefined ? {} : { compressionLevel: Number(level) };
const up = await client.uploadArtifact(newName, files, downloadPath, options);
console.log(JSON.stringify({ files: files.length, ...up }));
