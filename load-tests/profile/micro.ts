// CPU cost per request of each hot-path change, measured in isolation (process CPU time, so the
// machine's other load distorts it far less than a throughput figure):
//   node -r ts-node/register/transpile-only -r tsconfig-paths/register load-tests/profile/micro.ts
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { sign, verify } from 'jsonwebtoken';
import pinoHttp from 'pino-http';
import { Writable } from 'node:stream';
import { signToken, TokenVerifier } from '@flashdrop/auth';
import { refusalBody, refusalError } from '@flashdrop/inventory';

const SECRET = 'flashdrop-bench-secret-0123456789';

/** CPU microseconds per call of `fn` over `n` calls (after a warm-up of n/10). */
function cost(n: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < n / 10; i++) fn(i);
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

function line(what: string, before: number, after: number): void {
  console.log(
    `${what.padEnd(58)} ${before.toFixed(2).padStart(8)} us -> ${after.toFixed(2).padStart(7)} us`,
  );
}

const tokens = Array.from({ length: 20_000 }, (_, i) =>
  sign({ sub: `fan-${i}`, role: 'fan' }, SECRET, { algorithm: 'HS256', expiresIn: 3600 }),
);
line(
  'token check, a fan seen for the first time',
  cost(5_000, (i) => verify(tokens[i % tokens.length], SECRET, { algorithms: ['HS256'] })),
  cost(20_000, (i) => new TokenVerifier(SECRET, 0).verify(tokens[i % tokens.length])),
);
line(
  'token signing (load generator, tests)',
  cost(5_000, (i) => sign({ sub: `f${i}`, role: 'fan' }, SECRET, { expiresIn: 60 })),
  cost(20_000, (i) => signToken(SECRET, { sub: `f${i}`, role: 'fan' }, 60)),
);

const refusal = { ok: false as const, code: 'SOLD_OUT' as const };
line(
  'refusal body (SOLD_OUT)',
  cost(200_000, () => refusalError(refusal).toBody()),
  cost(200_000, () => refusalBody(refusal)),
);

const sink = new Writable({ write: (_c, _e, done) => done() });
const logger = pinoHttp(
  {
    level: 'info',
    customLogLevel: (_q: IncomingMessage, res: ServerResponse, err?: Error) =>
      err || res.statusCode >= 500 ? 'error' : 'debug',
    redact: ['req.headers.authorization', 'req.query.access_token'],
  },
  sink,
);
function fakeExchange(i: number): [IncomingMessage, ServerResponse] {
  const req = new IncomingMessage(new Socket());
  req.method = 'POST';
  req.url = `/v1/drops/d0123456789ab/purchases`;
  req.headers = {
    host: '127.0.0.1:3600',
    authorization: `Bearer ${tokens[i % tokens.length]}`,
    'content-type': 'application/json',
    'content-length': '14',
  };
  return [req, new ServerResponse(req)];
}
line(
  'per-request logger at LOG_LEVEL=info (hot route excluded)',
  cost(20_000, (i) => {
    const [req, res] = fakeExchange(i);
    logger(req, res);
    res.emit('finish');
  }),
  cost(20_000, (i) => fakeExchange(i)),
);
