import { REPO_ROOT, slotPort, testProfileEnv } from '@flashdrop/testing';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { DEVELOPMENT_JWT_SECRET } from './flashdrop-config';

type Service = 'api' | 'wallet' | 'analytics' | 'worker';
const SERVICES: Service[] = ['api', 'wallet', 'analytics', 'worker'];

/**
 * Boots a built service (dist/apps/<name>/main.js) with the test profile plus `env`, on ports of
 * this test's own, and answers its exit code and output, or `running` if it was still up after
 * `graceMs` (then it is stopped).
 */
function boot(service: Service, env: Record<string, string>, graceMs = 20_000) {
  const ports = {
    API_PORT: String(slotPort(4308)),
    WALLET_PORT: String(slotPort(4309)),
    ANALYTICS_HTTP_PORT: String(slotPort(4318)),
    WORKER_HTTP_PORT: String(slotPort(4319)),
  };
  const child = spawn(process.execPath, [join(REPO_ROOT, `dist/apps/${service}/main.js`)], {
    env: { ...process.env, ...testProfileEnv(), ...ports, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise<{ code: number | 'running'; output: string }>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: 'running', output });
    }, graceMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}

/**
 * NODE_ENV=production with a secret that is not one (the published development JWT secret, or
 * one shorter than 32 bytes, or a wallet listening beyond loopback without its shared secret)
 * stops every service at boot, with a message that names the variable and never prints it.
 */
describe('production settings are checked at boot, by every service', () => {
  it.each(SERVICES)(
    '%s: the development JWT secret stops it, naming JWT_SECRET',
    async (s) => {
      const { code, output } = await boot(s, {
        NODE_ENV: 'production',
        JWT_SECRET: DEVELOPMENT_JWT_SECRET,
      });
      expect(code).toBe(1);
      expect(output).toContain('JWT_SECRET');
      expect(output).not.toContain(DEVELOPMENT_JWT_SECRET);
    },
    60_000,
  );

  it.each(SERVICES)(
    '%s: a 31-byte JWT secret stops it',
    async (s) => {
      const secret = 'x'.repeat(31);
      const { code, output } = await boot(s, { NODE_ENV: 'production', JWT_SECRET: secret });
      expect(code).toBe(1);
      expect(output).toContain('JWT_SECRET=<31 bytes>');
      expect(output).not.toContain(secret);
    },
    60_000,
  );

  it.each(SERVICES)(
    '%s: a wallet reached beyond loopback without WALLET_SECRET stops it',
    async (s) => {
      const { code, output } = await boot(s, { WALLET_HOST: '0.0.0.0' });
      expect(code).toBe(1);
      expect(output).toContain('WALLET_SECRET');
    },
    60_000,
  );
});
