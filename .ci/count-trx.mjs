// Sums test outcomes from TRX files and checks that every expected test project produced one.
// usage: node count-trx.mjs <results-dir> <ProjectName>...
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const [dir, ...expected] = process.argv.slice(2);
let passed = 0, failed = 0, skipped = 0, problems = [];
const files = existsSync(dir) ? readdirSync(dir).filter(f => f.endsWith('.trx')) : [];
for (const name of expected) {
  if (!files.includes(`${name}.trx`)) problems.push(`no results for test project ${name}`);
}
for (const file of files) {
  const xml = readFileSync(join(dir, file), 'utf8');
  for (const m of xml.matchAll(/<UnitTestResult\b[^>]*\boutcome="([A-Za-z]+)"/g)) {
    if (m[1] === 'Passed') passed++;
    else if (m[1] === 'NotExecuted' || m[1] === 'Inconclusive') skipped++;
    else failed++;
  }
}
for (const p of problems) console.error(`error: ${p}`);
console.log(`${passed} passed, ${failed + problems.length} failed, ${skipped} skipped`);
process.exit(problems.length === 0 && failed === 0 ? 0 : 1);
