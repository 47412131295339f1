import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root, found from this file (libs/testing/src). */
export const REPO_ROOT = resolve(__dirname, '../../..');

/** Parses a KEY=VALUE env file (comments and blank lines skipped). */
export function readEnvFile(path: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) vars[m[1]] = m[2].trim();
  }
  return vars;
}

/** The `test` profile's variables: what `npm test` starts its stack with. */
export function testProfileEnv(): Record<string, string> {
  return readEnvFile(join(REPO_ROOT, 'scripts/profiles/test.env'));
}

/** The validated config of the test stack (the one `npm test` runs on its own ports). */
export function testConfig(): FlashdropConfig {
  return loadConfig(FlashdropConfig, { ...testProfileEnv() });
}

/** Base URL of the running test stack's API. */
export function apiBaseUrl(): string {
  return process.env.API_URL ?? `http://127.0.0.1:${testConfig().API_PORT}`;
}
