// The floor the benchmark compares the stack with: a minimal Fastify + ioredis (auto-pipelining)
// server running the SAME Lua grab script (libs/inventory grab.lua, through the same Inventory
// class) against Redis with AOF `appendfsync always`. No Nest, no guard, no validation pipe, no
// logs, no metrics: the fan id is read from the token's payload without checking its signature
// (the stack checks it), so the floor is what one Redis round trip per grab costs over HTTP.
//   PORT=3610 REDIS_URL=redis://127.0.0.1:6399/1 node -r ts-node/register/transpile-only \
//     -r tsconfig-paths/register load-tests/peers/floor-server.ts
import Fastify from 'fastify';
import Redis from 'ioredis';
import { httpStatusOf } from '@flashdrop/contracts';
import { Inventory, toPublicOrder } from '@flashdrop/inventory';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6399/1', {
  enableAutoPipelining: true,
});
const inventory = new Inventory(redis);
const app = Fastify({ logger: false });

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

app.listen({ port: Number(process.env.PORT ?? 3610), host: '127.0.0.1' }).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
