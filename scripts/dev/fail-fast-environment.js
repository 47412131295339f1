// The mutation script's jest environment (scripts/dev/mutate-lua.ts): once a test or hook of a
// file fails, every later test of that file is skipped. One failure is all a mutant needs to be
// caught, and the script-level suites take minutes each on a loaded box when run to the end.
'use strict';
const { TestEnvironment } = require('jest-environment-node');

class FailFastEnvironment extends TestEnvironment {
  failed = false;

  async handleTestEvent(event) {
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') this.failed = true;
    // jest-circus decides a test is skipped right after test_start, from its mode.
    if (event.name === 'test_start' && this.failed) event.test.mode = 'skip';
  }
}

module.exports = FailFastEnvironment;
