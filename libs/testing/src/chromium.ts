import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for headless Chromium on a server: no sandbox (root), no GPU, nothing phoning home. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/**
 * Debian's `chromium`, installed on first use when missing (a fresh machine): answers its path,
 * or why it cannot be had (then the browser tests fail with that message, unless
 * `browserTestsMaySkip()`).
 */
export function ensureChromium(): { path: string } | { missing: string } {
  if (existsSync(CHROMIUM_PATH)) return { path: CHROMIUM_PATH };
  try {
    execFileSync('bash', ['-c', 'apt-get update -q && apt-get install -y -q chromium'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 600_000,
    });
  } catch (error) {
    return { missing: `apt-get install chromium failed: ${(error as Error).message}` };
  }
  return existsSync(CHROMIUM_PATH)
    ? { path: CHROMIUM_PATH }
    : { missing: `${CHROMIUM_PATH} still missing after apt-get install chromium` };
}

/**
 * Whether a machine without a browser may skip the browser tests instead of failing them: only
 * when asked for by hand (SKIP_BROWSER_TESTS=1), and never in CI (CI set), where a missing
 * browser must fail the run rather than let it pass without the dashboard ever drawn.
 */
export function browserTestsMaySkip(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.SKIP_BROWSER_TESTS === '1' && !env.CI;
}
