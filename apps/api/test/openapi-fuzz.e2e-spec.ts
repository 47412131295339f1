import { apiBaseUrl, REPO_ROOT, TEST_SLOT, tokenFor, uniqueId } from '@flashdrop/testing';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The OpenAPI-driven fuzz pass (issue 11): schemathesis (scripts/fuzz/install.sh puts it under
 * the data dir) reads the stack's /docs/openapi.json, generates requests for every operation
 * (valid and not: the document's bounds, its edges, random values) and checks each answer:
 * never a 5xx, only statuses the document lists, the content types it lists, and bodies that
 * match its schemas (the error body on every refusal). Once per caller: anonymous, a fan, a
 * brand, an operator, so each role's routes get past authentication. Bounded: a fixed seed and
 * a few examples per operation, so a run is the same cases each time and takes about a minute.
 */
const DATA = process.env.FLASHDROP_DATA_DIR ?? join(REPO_ROOT, '.data');
const SCHEMATHESIS = join(DATA, 'tools/fuzz-venv/bin/schemathesis');
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
];

function fuzz(caller: string, token?: string): Promise<{ code: number | null; output: string }> {
  const workDir = join(DATA, `fuzz-${TEST_SLOT}`);
  mkdirSync(workDir, { recursive: true });
  const args = [
    'run',
    `${apiBaseUrl()}/docs/openapi.json`,
    ...(token ? ['-H', `Authorization: Bearer ${token}`] : []),
    '--max-examples',
    '10',
    '--seed',
    '11',
    '--workers',
    '2',
    '--checks',
    CHECKS.join(','),
    '--request-timeout',
    '15',
    '--continue-on-failure',
    '--generation-database',
    'none',
    '--no-color',
    '--report',
    'junit',
    '--report-junit-path',
    join(workDir, `${caller}.xml`),
  ];
  return new Promise((resolve) => {
    // Its working directory is the data dir's: schemathesis keeps files of its own there.
    const child = spawn(SCHEMATHESIS, args, { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('OpenAPI fuzz pass (schemathesis) against the test stack', () => {
  it('the fuzzer is installed (scripts/fuzz/install.sh)', () => {
    expect(existsSync(SCHEMATHESIS)).toBe(true);
  });

  it.each([
    ['anonymous', undefined],
    ['fan', () => tokenFor('fan', uniqueId('fuzz-fan'))],
    ['brand', () => tokenFor('brand', uniqueId('fuzz-brand'))],
    ['operator', () => tokenFor('operator', uniqueId('fuzz-ops'))],
  ])(
    'as %s: no 5xx, and every answer as the document says',
    async (caller, token) => {
      const { code, output } = await fuzz(caller, token?.());
      // The whole report on a failure: each case with its curl line to reproduce it.
      if (code !== 0) console.log(output);
      expect(output).toMatch(/Test cases:\s+\d+ generated/);
      expect(code).toBe(0);
    },
    300_000,
  );
});
