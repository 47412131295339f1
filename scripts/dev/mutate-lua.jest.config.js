// jest's config for scripts/dev/mutate-lua.ts: the int tier of jest.config.js, with a file's
// tests skipped after its first failure (fail-fast-environment.js).
'use strict';
const { join } = require('node:path');
const { projects } = require('../../jest.config');

const int = projects.find((p) => p.displayName === 'int');
module.exports = {
  ...int,
  rootDir: join(__dirname, '../..'),
  testEnvironment: join(__dirname, 'fail-fast-environment.js'),
};
