// Fails when src/api/schema.d.ts is not what `npm run gen` makes of
// ../openapi/openapi.json today (run `npm run gen` and commit the result).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fresh = join(mkdtempSync(join(tmpdir(), 'hothour-gen-')), 'schema.d.ts');
execFileSync('npx', ['openapi-typescript', '../openapi/openapi.json', '-o', fresh], { stdio: 'ignore' });
if (readFileSync(fresh, 'utf8') !== readFileSync('src/api/schema.d.ts', 'utf8')) {
  console.error('src/api/schema.d.ts is out of step with openapi/openapi.json: run `npm run gen` in web/ and commit it.');
  process.exit(1);
}
if (existsSync('../openapi/asyncapi.json')) {
  // TODO(contract): generate src/live/frames.ts from the AsyncAPI document and compare it here too.
  console.warn('openapi/asyncapi.json exists: src/live/frames.ts is still written by hand (see its TODO).');
}
console.log('generated API types match openapi/openapi.json');
