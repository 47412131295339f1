/**
 * By hand, never in CI: does every write of the sale's Lua scripts have a test that notices it
 * gone? Comments out one write at a time (a `redis.call` of a writing command, or an `emit` of
 * an event), runs the tests that drive the scripts, puts the line back, and reports each mutant
 * the tests let through: a missing test, or a write that does nothing.
 *
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register scripts/dev/mutate-lua.ts --help
 *
 * Run it with the variables of a test slot (FLASHDROP_DATA_DIR, TEST_SLOT), the shared servers up.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { defineCommand, runCommand } from '@flashdrop/cli';

const ROOT = join(__dirname, '../..');
const LUA_DIR = join(ROOT, 'libs/inventory/src/lua');
/** The int tier, each file stopping at its first failed test (fail-fast-environment.js). */
const JEST_CONFIG = join(__dirname, 'mutate-lua.jest.config.js');

const WRITES = [
  'SET',
  'SETNX',
  'DEL',
  'UNLINK',
  'INCR',
  'INCRBY',
  'DECR',
  'DECRBY',
  'HSET',
  'HSETNX',
  'HMSET',
  'HINCRBY',
  'HDEL',
  'ZADD',
  'ZREM',
  'ZINCRBY',
  'SADD',
  'SREM',
  'LPUSH',
  'RPUSH',
  'LTRIM',
  'XADD',
  'XTRIM',
  'XACK',
  'EXPIRE',
  'PEXPIRE',
  'PEXPIREAT',
];
const WRITE_CALL = new RegExp(`redis\\.call\\(\\s*'(${WRITES.join('|')})'`, 'i');
const EMIT_CALL = /(^|[^\w.])emit\(/;

const command = defineCommand({
  usage:
    'node -r ts-node/register/transpile-only -r tsconfig-paths/register scripts/dev/mutate-lua.ts',
  title: 'which Lua writes can be deleted with every test still passing',
  summary:
    "Comments out each write of libs/inventory's Lua scripts in turn (a redis.call of a writing " +
    'command, or an emit), runs the tests that drive the scripts against the real Redis, restores ' +
    'the line, and lists the mutants every test let through. By hand only: one jest run per ' +
    'mutant, each file stopping at its first failed test (15-60 s a mutant on 2 shared cores).',
  flags: {
    skip: { type: 'integer', value: 'N', description: 'start after the first N mutants' },
    only: {
      type: 'string',
      value: 'WHERE,...',
      description:
        'only these mutants, by where --list puts them (libs/inventory/src/lua/grab.lua:129,...)',
    },
    script: {
      type: 'string',
      value: 'NAME',
      description: 'only this script (e.g. grab.lua); default every one, _lib.lua included',
    },
    tests: {
      type: 'string',
      value: 'REGEX',
      description:
        'the jest files to run per mutant (default the script-level suites of libs/inventory:' +
        ' inventory, rerun, script-safety, waitlist, campaigns, refunds)',
    },
    max: { type: 'integer', value: 'N', description: 'stop after N mutants' },
    list: { type: 'boolean', description: 'list the mutants and run nothing' },
  },
  details: [
    'Exit codes: 0 every mutant was caught, 1 some survived, 2 a bad command line.',
    'Each file is restored after its run, and on Ctrl-C.',
    'Each caught mutant is named with the first test that failed on it (jest stops at the first' +
      ' failing file: a caught mutant costs one file, a survivor the whole set).',
  ],
  examples: [
    '... mutate-lua.ts --list',
    '... mutate-lua.ts --script=grab.lua',
    "... mutate-lua.ts --script=expire_due.lua --tests='inventory.int-spec|purchase.e2e-spec'",
  ],
});

interface Mutant {
  readonly file: string;
  /** 0-based lines commented out (a call spread over several lines goes whole). */
  readonly lines: readonly number[];
  readonly text: string;
}

/** The writes of one script: each call, with the lines it spans until its parentheses close. */
export function mutantsOf(file: string, source: string): Mutant[] {
  const lines = source.split('\n');
  const mutants: Mutant[] = [];
  for (let i = 0; i < lines.length; i++) {
    const code = lines[i].replace(/--.*$/, '');
    if (!WRITE_CALL.test(code) && !(EMIT_CALL.test(code) && !/function\s+emit\(/.test(code))) {
      continue;
    }
    const span = [i];
    let depth = balance(code);
    while (depth > 0 && span[span.length - 1] + 1 < lines.length) {
      const next = span[span.length - 1] + 1;
      span.push(next);
      depth += balance(lines[next].replace(/--.*$/, ''));
    }
    mutants.push({ file, lines: span, text: lines[i].trim() });
    i = span[span.length - 1];
  }
  return mutants;
}

function balance(code: string): number {
  return (code.match(/\(/g) ?? []).length - (code.match(/\)/g) ?? []).length;
}

function mutate(source: string, m: Mutant): string {
  const lines = source.split('\n');
  for (const i of m.lines) lines[i] = `-- MUTANT ${lines[i]}`;
  return lines.join('\n');
}

async function main(flags: {
  skip?: number;
  only?: string;
  script?: string;
  tests?: string;
  max?: number;
  list: boolean;
}): Promise<number> {
  const files = readdirSync(LUA_DIR)
    .filter((f) => f.endsWith('.lua') && (!flags.script || f === flags.script))
    .map((f) => join(LUA_DIR, f));
  if (files.length === 0)
    throw new Error(`no script ${flags.script} in ${relative(ROOT, LUA_DIR)}`);
  const all = files.flatMap((f) => mutantsOf(f, readFileSync(f, 'utf8')));
  const where = (m: Mutant) => `${relative(ROOT, m.file)}:${m.lines[0] + 1}`;
  const only = flags.only?.split(',').filter(Boolean);
  const chosen = only ? all.filter((m) => only.includes(where(m))) : all;
  if (only && chosen.length !== only.length)
    throw new Error(`--only names a write that is not a mutant: ${flags.only}`);
  const from = flags.skip ?? 0;
  const mutants = chosen.slice(from, flags.max ? from + flags.max : undefined);
  if (flags.list) {
    for (const m of mutants) console.log(`${where(m)}  ${m.text}`);
    console.log(`${mutants.length} mutants`);
    return 0;
  }

  // Every script-level suite: a write one of them checks (the fan's order list: rerun and
  // script-safety) is not a survivor. failover.int-spec is left out: it kills cluster nodes.
  const tests =
    flags.tests ??
    'libs/inventory/src/(inventory|rerun|script-safety|waitlist|campaigns|refunds)\\.int-spec\\.ts';
  const survivors: Mutant[] = [];
  let restore: (() => void) | undefined;
  process.on('SIGINT', () => {
    restore?.();
    process.exit(130);
  });
  // A suite that fails unmutated would "catch" every mutant: run it once as it is first.
  console.error(`baseline: ${tests} with no mutant`);
  // Once more if it fails: on a loaded box a timing-bound case can miss once (seen: refunds'
  // "parked while paused" at nice 19, load 17); twice is a real failure.
  let baseline = runJest(tests);
  if (baseline.status !== 0) {
    console.error(`baseline failed once (${baseline.failed}): running it again`);
    baseline = runJest(tests);
  }
  if (baseline.status !== 0) {
    console.error(`the suites fail with no mutant (${baseline.failed}): nothing to judge`);
    return 2;
  }
  for (const [n, m] of mutants.entries()) {
    const original = readFileSync(m.file, 'utf8');
    restore = () => writeFileSync(m.file, original);
    writeFileSync(m.file, mutate(original, m));
    const started = Date.now();
    try {
      const { status, failed } = runJest(tests);
      const outcome = status === 0 ? 'SURVIVED' : `caught by ${failed}`;
      if (status === 0) survivors.push(m);
      console.error(
        `${new Date().toISOString()} mutant ${from + n + 1} of ${all.length} ${where(m)}: ${outcome} ` +
          `(${Math.round((Date.now() - started) / 1000)} s)  ${m.text}`,
      );
    } finally {
      restore();
      restore = undefined;
    }
  }
  console.log(`${mutants.length} mutants, ${survivors.length} survived every test:`);
  for (const m of survivors) console.log(`  ${where(m)}  ${m.text}`);
  return survivors.length === 0 ? 0 : 1;
}

/**
 * One jest run of the suites, stopping at the first failing file: its exit status and the first
 * failed test, read off jest's own report on stderr (`--bail` ends the run before any --json
 * report is written).
 */
function runJest(tests: string): { status: number | null; failed: string } {
  const run = spawnSync(
    'npx',
    [
      'jest',
      '--config',
      JEST_CONFIG,
      '--runInBand',
      '--silent',
      '--bail',
      '--testPathPattern',
      tests,
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 900_000,
    },
  );
  return { status: run.status, failed: firstFailure(run.stderr ?? '') };
}

/** `file > test name` of the first failure jest reports (or the reason there is none). */
export function firstFailure(stderr: string): string {
  // A pipe, not a terminal: jest writes no colour codes to match around.
  const file = /^FAIL\s+(?:\w+\s+)?(\S+)/m.exec(stderr)?.[1];
  const test = /^\s*● (?!Console)(.+?)\s*$/m.exec(stderr)?.[1];
  if (!file && !test) return 'jest (no failure reported: it crashed or timed out)';
  return `${file ?? 'jest'} > ${test ?? '(no test named)'}`;
}

if (require.main === module) {
  runCommand(command, process.argv.slice(2), main).then((code) => process.exit(code));
}
