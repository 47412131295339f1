// Three test tiers, named by file (STYLE.md §10):
//   *.spec.ts      pure logic, beside the code
//   *.int-spec.ts  against the real Redis, PostgreSQL and Kafka (started by infra/)
//   *.e2e-spec.ts  through HTTP against the running stack (started by the test run)
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  transform: { '^.+\\.ts$': ['ts-jest', {}] },
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  testEnvironment: 'node',
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.data/'],
};

module.exports = {
  testSequencer: '<rootDir>/scripts/jest-sequencer.js',
  // A run whose tests are over but whose process cannot end fails, naming what holds it.
  globalTeardown: '<rootDir>/scripts/jest-exit-watch.js',
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,scripts,load-tests,simulation}/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs,scripts,load-tests,simulation}/**/*.int-spec.ts'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/{apps,libs,scripts,load-tests,simulation}/**/*.e2e-spec.ts'],
    },
  ],
};
