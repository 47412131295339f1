import { ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../..');

/**
 * A peer server of load-tests/peers run as its own process (so it never shares an event loop
 * with the load generator), started through ts-node like the runner itself.
 */
export class PeerProcess {
  private child?: ChildProcess;

  constructor(
    readonly name: 'floor' | 'naive' | 'hello',
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(healthPath = '/health'): Promise<void> {
    const out = openSync(this.logFile, 'a');
    this.child = spawn(
      process.execPath,
      [
        // BENCH_PROFILE=1: the floor can be profiled like the services (SIGWINCH, bench.ts).
        ...(process.env.BENCH_PROFILE === '1' && this.name === 'floor'
          ? ['-r', join(REPO_ROOT, 'load-tests/profile/cpu-profile-preload.js')]
          : []),
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        join(REPO_ROOT, `load-tests/peers/${this.name}-server.ts`),
      ],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, ...this.env, PORT: String(this.port) },
        stdio: ['ignore', out, out],
      },
    );
    // ts-node compiles the peer's whole import graph at start; three peers start at once, and on
    // two shared cores under load that took more than 30 s. A start, not a measurement.
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (this.child.exitCode !== null) {
        throw new Error(`${this.name} peer exited (log: ${this.logFile})`);
      }
      const up = await fetch(`${this.origin}${healthPath}`)
        .then((r) => r.status < 500)
        .catch(() => false);
      if (up) return;
      if (Date.now() > deadline)
        throw new Error(`${this.name} peer did not start: ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((done) => {
      child.once('exit', () => done());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  }
}
