import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { join, resolve } from 'node:path';

/** The repository root, found from this file (libs/testing/src). */
export const REPO_ROOT = resolve(__dirname, '../../..');

interface ProfileEnvModule {
  profileEnv(profile: string, slot: number): Record<string, string>;
}

/** The test slot of this run (scripts/profile-env.js): 0 in CI, 1..9 beside other runs. */
export const TEST_SLOT = Number(process.env.TEST_SLOT ?? '0');

/**
 * The `test` profile's variables, shifted by TEST_SLOT: what `npm test` starts its stack with.
 * scripts/profile-env.js is the one place that computes them, for bash and for the tests.
 */
export function testProfileEnv(): Record<string, string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain JS script shared with bash
  const mod = require(join(REPO_ROOT, 'scripts/profile-env.js')) as ProfileEnvModule;
  return mod.profileEnv('test', TEST_SLOT);
}

/**
 * How many rounds a race test repeats: `inTest` in `npm test` (a few of each), SOAK_ROUNDS under
 * `npm run test:soak` (many) if that is more, so long loops never slow the suite everyone runs.
 * For the repetitions of a race only, never for what a round asserts.
 */
export function soakRounds(inTest = 1): number {
  const n = Number(process.env.SOAK_ROUNDS ?? '1');
  return Math.max(inTest, Number.isInteger(n) && n >= 1 ? n : 1);
}

/** `[[1], [2], ...]`, soakRounds(inTest) of them, for `it.each(roundNumbers(3))('... (round %i)')`. */
export function roundNumbers(inTest = 1): [number][] {
  return Array.from({ length: soakRounds(inTest) }, (_, i) => [i + 1]);
}

/** A port for a test's own dedicated server, moved by the slot so parallel runs never meet. */
export function slotPort(base: number): number {
  return base + 10 * TEST_SLOT;
}

let cachedConfig: FlashdropConfig | undefined;

/** The validated config of the test stack (the one `npm test` runs on its own ports). */
export function testConfig(): FlashdropConfig {
  // Loaded once per test file: tokens and URLs are made thousands of times in the races.
  cachedConfig ??= loadConfig(FlashdropConfig, { ...testProfileEnv() });
  return cachedConfig;
}

/** Base URL of the running test stack's API. */
export function apiBaseUrl(): string {
  return process.env.API_URL ?? `http://127.0.0.1:${testConfig().API_PORT}`;
}
