import {
  api,
  apiBaseUrl,
  createDrop,
  fund,
  grabVia,
  openDropBody,
  OrderBody,
  REPO_ROOT,
  slotPort,
  TEST_SLOT,
  tokenFor,
  uniqueId,
} from '@flashdrop/testing';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The OpenAPI-driven fuzz pass (issue 11): schemathesis (scripts/fuzz/install.sh puts it under
 * the data dir) reads the stack's /docs/openapi.json, generates requests for every operation
 * (valid and not: the document's bounds, its edges, random values) and checks each answer:
 * never a 5xx, only statuses the document lists, the content types it lists, and bodies that
 * match its schemas (the error body on every refusal). Once per caller: anonymous, a fan, a
 * brand, an operator, so each role's routes get past authentication. Bounded: a fixed seed and
 * a few examples per operation, so a run is the same cases each time and takes about a minute.
 * The fan, the brand and the operator are seeded with real ids made before the run (their drop,
 * the fan's order, the brand's webhook; `[[operations]]` parameters of a config file of the
 * run's own): their operations reach past 404 to the routes' real answers, whose bodies are
 * checked against the document's success schemas (apps/api/src/openapi/success-bodies.ts).
 */
const DATA = process.env.FLASHDROP_DATA_DIR ?? join(REPO_ROOT, '.data');
const VENV = join(DATA, 'tools/fuzz-venv');
const SCHEMATHESIS = join(VENV, 'bin/schemathesis');
/**
 * Threads per pass: what scripts/fuzz/install.sh found the venv's Python safe with (2, or 1 on a
 * CPython whose ast.parse fails when two threads parse at once: its header says which).
 */
function workers(): string {
  const file = join(VENV, 'flashdrop-workers');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : '1';
}
/** How long one pass may run before it is killed (the test's own timeout is a minute longer). */
const PASS_CAP_MS = 240_000;
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
];

/** Real ids a caller's operations are run with: path parameter name -> value, per path prefix. */
type Seeds = readonly { readonly pathRegex: string; readonly params: Record<string, string> }[];

/**
 * A schemathesis config of the run's own: each seeded path parameter forced to its real id, and
 * an event stream read up to its first event. A stream answers for as long as it is read, so the
 * fuzzer would read each one until its request timeout (the live routes took 55 of the fan
 * pass's 70 s, and 218 of the operator's 229 s); one event is the answer, checked against the
 * document's schema of an event.
 */
function seedConfig(file: string, seeds: Seeds): void {
  const toml =
    'max-stream-events = 1\n\n' +
    seeds
      .map(
        (s) =>
          `[[operations]]\ninclude-path-regex = ${JSON.stringify(s.pathRegex)}\n` +
          `parameters = { ${Object.entries(s.params)
            .map(([name, value]) => `${JSON.stringify(`path.${name}`)} = ${JSON.stringify(value)}`)
            .join(', ')} }\n`,
      )
      .join('\n');
  writeFileSync(file, toml);
}

function fuzz(
  caller: string,
  token?: string,
  seeds: Seeds = [],
): Promise<{ code: number | null; output: string }> {
  const workDir = join(DATA, `fuzz-${TEST_SLOT}`);
  mkdirSync(workDir, { recursive: true });
  const config = join(workDir, `${caller}.toml`);
  seedConfig(config, seeds);
  const args = [
    '--config-file',
    config,
    'run',
    `${apiBaseUrl()}/docs/openapi.json`,
    ...(token ? ['-H', `Authorization: Bearer ${token}`] : []),
    '--max-examples',
    '10',
    '--seed',
    '11',
    '--workers',
    workers(),
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
    const timer = setTimeout(() => child.kill('SIGKILL'), PASS_CAP_MS);
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

  const fan = uniqueId('fuzz-fan');
  const brand = uniqueId('fuzz-brand');
  const seeds: Record<string, Seeds> = {};

  beforeAll(async () => {
    const brandToken = tokenFor('brand', brand);
    const drop = await createDrop(openDropBody({ quantity: 50, perUserLimit: 5 }), brandToken);
    await fund([fan], 1_000_000);
    const order = await grabVia(drop.id, tokenFor('fan', fan));
    expect(order.status).toBe(201);
    // A receiver nobody listens on (loopback: the test profile's webhook policy allows it).
    const webhook = await api<{ id: string }>('POST', '/v1/webhooks', {
      token: brandToken,
      body: { url: `http://127.0.0.1:${slotPort(9)}/fuzz`, events: ['order.paid'] },
    });
    expect(webhook.status).toBe(201);
    const drops = { pathRegex: '^/v1/drops/\\{id\\}', params: { id: drop.id } };
    const orders = {
      pathRegex: '^/v1/orders/\\{id\\}',
      params: { id: (order.body as OrderBody).id },
    };
    const webhooks = { pathRegex: '^/v1/webhooks/\\{id\\}', params: { id: webhook.body.id } };
    seeds.fan = [drops, orders];
    seeds.brand = [drops, webhooks];
    seeds.operator = [
      drops,
      orders,
      webhooks,
      { pathRegex: '^/v1/wallets/\\{fanId\\}', params: { fanId: fan } },
    ];
  }, 60_000);

  it.each([
    ['anonymous', undefined],
    ['fan', () => tokenFor('fan', fan)],
    ['brand', () => tokenFor('brand', brand)],
    ['operator', () => tokenFor('operator', uniqueId('fuzz-ops'))],
  ])(
    'as %s: no 5xx, and every answer as the document says',
    async (caller, token) => {
      const { code, output } = await fuzz(caller, token?.(), seeds[caller]);
      // The whole report on a failure: each case with its curl line to reproduce it.
      if (code !== 0) console.log(output);
      expect(output).toMatch(/Test cases:\s+\d+ generated/);
      expect(code).toBe(0);
    },
    PASS_CAP_MS + 60_000,
  );
});
