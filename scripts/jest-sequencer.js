// jest's default order (slowest and failed first), except that the OpenAPI coverage check runs
// last: it reads the statuses every other e2e test saw (libs/testing api(), API_STATUS_LOG).
const Sequencer = require('@jest/test-sequencer').default;

const LAST = /openapi-coverage\.e2e-spec\.ts$/;

class LastIsCoverage extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    return [
      ...sorted.filter((t) => !LAST.test(t.path)),
      ...sorted.filter((t) => LAST.test(t.path)),
    ];
  }
}

module.exports = LastIsCoverage;
