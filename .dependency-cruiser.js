// The architecture rules that the layout shows (README "How the parts fit"), checked in npm test.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'apps-are-independent',
      comment:
        'A deployable never imports another deployable; they meet through libs/contracts and libs/events.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/([^/]+)/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-never-import-apps',
      comment: 'Shared code must not depend on a deployable.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'production-code-never-imports-testing',
      comment: 'libs/testing is for tests only.',
      severity: 'error',
      from: {
        path: '^(apps|libs)/',
        pathNot: '(\\.(spec|int-spec|e2e-spec)\\.ts$|^libs/testing/|/test/)',
      },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '(^dist/|^node_modules/|^\\.data/)' },
  },
};
