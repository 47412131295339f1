#!/usr/bin/env node
// Prints the environment of a stack profile as KEY=VALUE lines: the one place that knows how a
// profile (scripts/profiles/<name>.env) is shifted by TEST_SLOT, so that several engineers (or
// CI jobs) on one machine can each run a test stack beside the others: slot N moves every port
// by 10*N, uses Redis db 1+N, the database flashdrop_test_N, its own Kafka client id and topic prefix.
// The dev profile also takes a `.env` at the repository root when there is one (copy .env.example):
// your own settings for the stack npm start runs and the commands meet; test and bench stacks never.
// With TEST_REDIS_CLUSTER=1 (npm run test:cluster) the test stack uses the slot's own Redis
// Cluster instead (infra/redis-cluster.sh: ports 7000+10*N .. +5) through REDIS_CLUSTER_NODES.
// Usage: node scripts/profile-env.js <dev|test|bench>   (env TEST_SLOT, default 0; TEST_REDIS_CLUSTER)
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

/** KEY=VALUE lines of an env file (comments and blank lines skipped). */
function readEnvFile(path, into) {
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) into[m[1]] = m[2].trim();
  }
  return into;
}

function profileEnv(profile, slot) {
  const vars = readEnvFile(join(__dirname, 'profiles', `${profile}.env`), {});
  const local = join(__dirname, '..', '.env');
  if (profile === 'dev' && existsSync(local)) readEnvFile(local, vars);
  if (profile === 'test') {
    // Always set for the test stack, so a REDIS_CLUSTER_NODES of the caller's shell never leaks in.
    const first = 7000 + 10 * slot;
    vars.REDIS_CLUSTER_NODES =
      process.env.TEST_REDIS_CLUSTER === '1'
        ? [0, 1, 2, 3, 4, 5].map((i) => `127.0.0.1:${first + i}`).join(',')
        : '';
  }
  if (profile === 'test' && slot > 0) {
    for (const key of [
      'API_PORT',
      'WALLET_PORT',
      'ANALYTICS_HTTP_PORT',
      'WORKER_HTTP_PORT',
      'NOTIFIER_HTTP_PORT',
    ]) {
      vars[key] = String(Number(vars[key]) + 10 * slot);
    }
    vars.REDIS_URL = vars.REDIS_URL.replace(/\/\d+$/, `/${1 + slot}`);
    vars.DATABASE_URL = vars.DATABASE_URL.replace(/\/flashdrop_test$/, `/flashdrop_test_${slot}`);
    vars.KAFKA_CLIENT_ID = `${vars.KAFKA_CLIENT_ID}-${slot}`;
    vars.KAFKA_TOPIC_PREFIX = `test${slot}.`;
  }
  vars.TEST_SLOT = String(slot);
  return vars;
}

module.exports = { profileEnv };

if (require.main === module) {
  const slot = Number(process.env.TEST_SLOT ?? '0');
  if (!Number.isInteger(slot) || slot < 0 || slot > 9) {
    console.error('TEST_SLOT must be an integer 0..9');
    process.exit(2);
  }
  const vars = profileEnv(process.argv[2] ?? 'dev', slot);
  for (const [k, v] of Object.entries(vars)) process.stdout.write(`${k}=${v}\n`);
}
