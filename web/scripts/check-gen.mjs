// Fails when a generated file is not what `npm run gen` makes of the documents today
// (run `npm run gen` in web/ and commit the result):
// - src/api/schema.d.ts from ../openapi/openapi.json (openapi-typescript);
// - src/live/frames.generated.ts from ../openapi/asyncapi.json (scripts/gen-frames.mjs).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'hothour-gen-'));
const targets = [
  {
    file: 'src/api/schema.d.ts',
    source: 'openapi/openapi.json',
    make: (out) => execFileSync('npx', ['openapi-typescript', '../openapi/openapi.json', '-o', out], { stdio: 'ignore' }),
  },
  {
    file: 'src/live/frames.generated.ts',
    source: 'openapi/asyncapi.json',
    make: (out) => execFileSync(process.execPath, ['scripts/gen-frames.mjs', out], { stdio: ['ignore', 'ignore', 'inherit'] }),
  },
];

let stale = 0;
for (const [i, { file, source, make }] of targets.entries()) {
  const fresh = join(dir, `${i}.ts`);
  make(fresh);
  if (readFileSync(fresh, 'utf8') !== readFileSync(file, 'utf8')) {
    console.error(`${file} is out of step with ${source}: run \`npm run gen\` in web/ and commit it.`);
    stale++;
  } else {
    console.log(`${file} matches ${source}`);
  }
}
if (stale) process.exit(1);
