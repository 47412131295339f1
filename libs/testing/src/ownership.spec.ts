import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './test-env';

/**
 * One owner for each table and Redis key family (docs/architecture.md): the owner's module is
 * the only production code that spells it; every other process goes through the owner. The
 * import side of the same rule is .dependency-cruiser.js (an owner's inside is its own).
 */
/** A schema's tables (and functions) as SQL names them, or as a string naming the table. */
function sqlNames(schema: string, tables: string): RegExp {
  return new RegExp(
    `\\b(from|into|update|join|table|on|exists|select)\\s+${schema}\\.\\w|['"\`]${schema}\\.(${tables})['"\`]`,
    'i',
  );
}

const OWNERS: readonly { what: string; spelling: RegExp; owners: readonly string[] }[] = [
  {
    what: 'the sales tables (sales.drops, orders, draws, draw_entrants, allocations)',
    spelling: sqlNames('sales', 'drops|orders|draws|draw_entrants|allocations'),
    owners: ['libs/sales/src/'],
  },
  {
    what: 'the wallet tables and ledger functions (wallet.*)',
    spelling: sqlNames('wallet', 'accounts|transfers|entries|payments|outbox'),
    owners: ['libs/ledger/src/'],
  },
  {
    what: 'the webhooks tables (webhooks.endpoints, webhooks.deliveries, webhooks.attempts)',
    spelling: sqlNames('webhooks', 'endpoints|deliveries|attempts'),
    owners: ['libs/webhooks/src/'],
  },
  {
    what: "the sale's Redis keys and channel ({d:ID}:*, drops:index, drops:active, flashdrop:standing)",
    spelling: /\{d:|drops:(index|active)|flashdrop:standing/,
    owners: ['libs/inventory/src/'],
  },
  {
    what: "the worker singletons' leases (locks:*)",
    spelling: /['"`]locks:/,
    owners: ['apps/worker/src/singleton/singleton-loop.ts'],
  },
  {
    what: "the analytics' keys ({d:ID}:a:*, {a:wallet}:*, analytics:changed)",
    spelling: /:a:|\{a:wallet\}|analytics:changed/,
    owners: ['apps/analytics/src/stats/analytics-keys.ts'],
  },
];

const SOURCES = /\.(ts|js|lua)$/;
const TEST_CODE = /(\.(spec|int-spec|e2e-spec)\.ts$|\/test\/|^libs\/testing\/)/;
const COMMENT = /^\s*(\/\/|\/\*|\*|--)/;

function productionFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...productionFiles(path));
    else if (SOURCES.test(path) && !TEST_CODE.test(path)) out.push(path);
  }
  return out;
}

describe('each table and key family is spelled by its owner alone', () => {
  const files = ['apps', 'libs', 'scripts'].flatMap(productionFiles);

  it('finds the production code to check', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it.each(OWNERS.map((o) => [o.what, o]))('%s', (_what, { spelling, owners }) => {
    const strays: string[] = [];
    for (const file of files) {
      if (owners.some((owner) => file.startsWith(owner))) continue;
      readFileSync(join(REPO_ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (!COMMENT.test(line) && spelling.test(line)) {
            strays.push(`${relative('.', file)}:${i + 1}: ${line.trim()}`);
          }
        });
    }
    expect(strays).toEqual([]);
  });
});
