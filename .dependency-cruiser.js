// The architecture rules that the layout shows (docs/architecture.md), checked in npm test over
// apps, libs, scripts, load-tests and simulation. Besides these imports, libs/testing/src/ownership.spec.ts
// checks that each table and Redis key family is spelled by its owner alone.
const TESTS = '(\\.(spec|int-spec|e2e-spec)\\.ts$|/test/)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'apps-are-independent',
      comment:
        'A deployable never imports another deployable; they meet through libs (contracts, events, and the owners of shared data).',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/([^/]+)/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-import-only-libs',
      comment: 'Shared code depends on neither a deployable, a command nor a bench tool.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^(apps|scripts|load-tests|simulation)/' },
    },
    {
      name: 'commands-are-not-libraries',
      comment:
        'scripts/ holds the commands users run; what they do lives in libs and is imported from there.',
      severity: 'error',
      from: { pathNot: '^scripts/' },
      to: { path: '^scripts/.+\\.ts$' },
    },
    {
      name: 'production-never-imports-test-helpers',
      comment: 'libs/testing is for tests (and bench tools) only.',
      severity: 'error',
      from: { path: '^(apps|libs|scripts)/', pathNot: `(${TESTS}|^libs/testing/)` },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'production-never-imports-bench-tools',
      comment:
        'load-tests/ measures the product and simulation/ attacks it; the product never depends on either.',
      severity: 'error',
      from: { path: '^(apps|libs|scripts)/' },
      to: { path: '^(load-tests|simulation)/' },
    },
    {
      name: 'libs-expose-only-their-index',
      comment:
        'A library is used through its index.ts: what it keeps inside (an owner’s keys, entities, SQL) is its own.',
      severity: 'error',
      from: {
        path: '^(libs/[^/]+|apps|scripts|load-tests|simulation)/',
        pathNot: '^libs/testing/',
      },
      to: { path: '^libs/[^/]+/src/', pathNot: '^$1/|^libs/[^/]+/src/index\\.ts$' },
    },
    {
      name: 'tests-reach-raw-keys-through-libs-testing',
      comment:
        'The one door from test code to a library’s inside: libs/testing re-exports the sale’s raw keys (libs/inventory/src/keys.ts) for tests that read and bend Redis.',
      severity: 'error',
      from: { path: '^libs/testing/' },
      to: {
        path: '^libs/(?!testing/)[^/]+/src/',
        pathNot: '^libs/[^/]+/src/index\\.ts$|^libs/inventory/src/keys\\.ts$',
      },
    },
    {
      name: 'sql-only-in-schema-owners',
      comment:
        'Only the owner of a schema speaks SQL to it: libs/sales (sales), libs/ledger (wallet), libs/webhooks (webhooks), on libs/persistence’s connections. Everyone else goes through them.',
      severity: 'error',
      from: {
        path: '^(apps|libs|scripts)/',
        pathNot: `(${TESTS}|^libs/(sales|ledger|webhooks|persistence|testing)/)`,
      },
      to: {
        dependencyTypesNot: ['type-only'],
        path: '(^|/)node_modules/(typeorm|@nestjs/typeorm|pg)/',
      },
    },
    {
      name: 'wallet-transport-only-in-its-client',
      comment:
        'The wallet’s TCP transport: its server in apps/wallet, its one client in libs/wallet-client.',
      severity: 'error',
      from: {
        path: '^(apps|libs|scripts)/',
        pathNot: `(${TESTS}|^apps/wallet/|^libs/wallet-client/)`,
      },
      to: { path: '(^|/)node_modules/@nestjs/microservices/' },
    },
    {
      name: 'contracts-are-types-codes-and-patterns',
      comment: 'libs/contracts holds what every process agrees on, and depends on nothing.',
      severity: 'error',
      from: { path: '^libs/contracts/', pathNot: TESTS },
      to: { pathNot: '^libs/contracts/' },
    },
    {
      name: 'no-circular',
      comment: 'Over everything, the bench tools included.',
      severity: 'error',
      from: { path: '^(apps|libs|scripts|load-tests|simulation)/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '(^dist/|^\\.data/|^load-tests/k6/)' },
  },
};
