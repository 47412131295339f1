import { Progress } from '@flashdrop/cli';
import { Agent, request } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * The demo's built-in traffic generator: plain keep-alive HTTP on loopback with a bounded
 * number of requests in flight, so the demo never floods the machine it shares.
 */
export class Traffic {
  private readonly agent: Agent;

  constructor(
    private readonly origin: URL,
    readonly concurrency: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  }

  send(method: string, path: string, token?: string, body?: unknown): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.origin.hostname,
          port: this.origin.port,
          method,
          path,
          agent: this.agent,
          timeout: 15_000,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  async json<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
    const answer = await this.send(method, path, token, body);
    if (answer.status >= 300) {
      throw new Error(`${method} ${path}: ${answer.status} ${answer.body.slice(0, 300)}`);
    }
    return JSON.parse(answer.body) as T;
  }

  /**
   * Runs `fn(i)` for i in 0..count-1 with at most `concurrency` in flight; with `progress`, says
   * how far it got every two seconds (on stderr).
   */
  async each(count: number, fn: (i: number) => Promise<void>, progress?: string): Promise<void> {
    const report = progress === undefined ? undefined : new Progress(progress, count);
    let next = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: Math.min(this.concurrency, count) }, async () => {
        while (next < count) {
          await fn(next++);
          report?.tick(++done);
        }
      }),
    );
  }

  close(): void {
    this.agent.destroy();
  }
}
