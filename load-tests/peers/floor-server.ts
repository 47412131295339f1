// The floors the benchmark compares the stack with, one per operation: a minimal Fastify +
// ioredis (auto-pipelining) server running the SAME Lua scripts (libs/inventory, through the same
// Inventory class) against Redis with AOF `appendfsync always`, and for money the wallet's own
// batch functions over `pg` (floor-wallet.ts). No Nest, no guard, no validation pipe, no logs,
// no metrics, no events relayed: the fan id is read from the token's payload without checking
// its signature (the stack checks it), so each route is what its operation costs at best:
// - grab: grab.lua, one round trip;
// - reservation: reserve.lua, one round trip;
// - payment: begin_payment.lua, wallet.debit_orders (batched like the wallet), complete_payment.lua;
// - credit: wallet.credit_batch (batched like the wallet), to fund the payment floor's fans.
// The payment and credit routes exist only with FLOOR_DATABASE_URL (the floor's own database,
// whose `wallet` schema is dropped and migrated at start).
//   PORT=3610 REDIS_URL=redis://127.0.0.1:6399/1 FLOOR_DATABASE_URL=postgres://.../flashdrop_bench_floor \
//     node -r ts-node/register/transpile-only -r tsconfig-paths/register load-tests/peers/floor-server.ts
import Fastify from 'fastify';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import Redis from 'ioredis';
import { FlashdropConfig, loadConfig } from '@flashdrop/config';
import { DEFAULT_CURRENCY, httpStatusOf } from '@flashdrop/contracts';
import { Inventory, toPublicOrder } from '@flashdrop/inventory';
import { FloorWallet } from './floor-wallet';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6399/1', {
  enableAutoPipelining: true,
});
const inventory = new Inventory(redis);
const app = Fastify({ logger: false });
const walletUrl = process.env.FLOOR_DATABASE_URL;
const wallet = walletUrl ? new FloorWallet(walletUrl) : undefined;
/** The stack's payment window, from the same config. */
const PAYING_TTL_MS = loadConfig(FlashdropConfig).PAYMENT_WINDOW_MS;

/** `sub` of a bearer token, unverified (see above); undefined when unreadable. */
function fanOf(authorization: string | undefined): string | undefined {
  const token = authorization?.slice(7);
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { sub?: unknown }).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

app.get('/health', async () => ({ ok: true }));

// For the bench's latency breakdown (runner/stages.ts): this process's event-loop delay and GC
// pauses since the last read (the same figures the stack's services give through prom-client).
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });
app.get('/stages', async () => {
  const figures = {
    eventLoopP99Ms: loopDelay.percentile(99) / 1e6,
    eventLoopMaxMs: loopDelay.max / 1e6,
    gcMs,
  };
  loopDelay.reset();
  return figures;
});

app.post<{ Params: { id: string }; Body: { quantity?: number } | undefined }>(
  '/v1/drops/:id/purchases',
  async (request, reply) => {
    const fanId = fanOf(request.headers.authorization);
    if (!fanId) return reply.status(401).send({ error: 'UNAUTHENTICATED', message: 'no token' });
    const outcome = await inventory.grab({
      dropId: request.params.id,
      fanId,
      quantity: request.body?.quantity ?? 1,
    });
    if (outcome.ok) return reply.status(201).send(toPublicOrder(outcome.order));
    return reply
      .status(httpStatusOf(outcome.code))
      .send({ error: outcome.code, message: outcome.code });
  },
);

app.post<{ Params: { id: string }; Body: { referrerId?: string } | undefined }>(
  '/v1/drops/:id/reservations',
  async (request, reply) => {
    const fanId = fanOf(request.headers.authorization);
    if (!fanId) return reply.status(401).send({ error: 'UNAUTHENTICATED', message: 'no token' });
    const r = await inventory.reserve(request.params.id, fanId, request.body?.referrerId);
    if (!r.ok) return reply.status(httpStatusOf(r.code)).send({ error: r.code, message: r.code });
    return reply.status(r.value.created ? 201 : 200).send({
      dropId: request.params.id,
      fanId,
      reservedAt: new Date(r.value.reservedAt).toISOString(),
    });
  },
);

if (wallet) {
  const brands = new Map<string, string>();
  const brandOf = async (dropId: string): Promise<string> => {
    let brand = brands.get(dropId);
    if (brand === undefined) {
      brand = (await inventory.ownerOf(dropId)) ?? '';
      brands.set(dropId, brand);
    }
    return brand;
  };

  app.post<{ Params: { id: string } }>('/v1/orders/:id/payment', async (request, reply) => {
    const fanId = fanOf(request.headers.authorization);
    if (!fanId) return reply.status(401).send({ error: 'UNAUTHENTICATED', message: 'no token' });
    const orderId = request.params.id;
    const begun = await inventory.beginPayment(orderId, { fanId, payingTtlMs: PAYING_TTL_MS });
    if (!begun.ok) {
      return reply
        .status(httpStatusOf(begun.code))
        .send({ error: begun.code, message: begun.code });
    }
    const order = begun.value;
    const attempt = order.payingUntil ?? 0;
    const outcome = await wallet.debit({
      orderId,
      attempt,
      fanId,
      dropId: order.dropId,
      brandId: await brandOf(order.dropId),
      currency: order.currency,
      amountMinor: order.amountMinor,
    });
    if (outcome !== 'debited') {
      await inventory.abortPayment(orderId, attempt);
      return reply.status(402).send({ error: 'INSUFFICIENT_FUNDS', message: outcome });
    }
    const done = await inventory.completePayment(orderId);
    if (!done.ok) return reply.status(500).send({ error: 'INTERNAL', message: done.code });
    return reply.status(200).send(toPublicOrder(done.value));
  });

  app.post<{
    Params: { fanId: string };
    Body: { amountMinor: number; reference: string; currency?: string };
  }>('/v1/wallets/:fanId/credits', async (request, reply) => {
    const r = await wallet.credit({
      fanId: request.params.fanId,
      currency: request.body.currency ?? DEFAULT_CURRENCY,
      amountMinor: request.body.amountMinor,
      reference: request.body.reference,
    });
    return reply
      .status(r.created ? 201 : 200)
      .send({ fanId: request.params.fanId, balanceMinor: r.balance });
  });
}

async function main(): Promise<void> {
  await wallet?.reset();
  await app.listen({ port: Number(process.env.PORT ?? 3610), host: '127.0.0.1' });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
