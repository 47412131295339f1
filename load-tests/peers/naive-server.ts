// The naive design the benchmark compares with: every grab is one autocommitted
//   UPDATE stock SET qty = qty - 1 WHERE id = $1 AND qty > 0
// on ONE PostgreSQL row (fsync on, synchronous_commit on, as the project's PostgreSQL runs), so
// every grab of a drop waits for the row lock of the one before it. It checks no token, no
// reservation and no per-fan limit: the cheapest honest version of the design.
//   PORT=3611 DATABASE_URL=postgres://... node -r ts-node/register/transpile-only load-tests/peers/naive-server.ts
import Fastify from 'fastify';
import { Pool } from 'pg';

const SCHEMA = 'bench_naive';
const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 20 });
const app = Fastify({ logger: false });

app.get('/health', async () => ({ ok: true }));

/** Set-up route for the runner: a drop's one stock row. */
app.put<{ Params: { id: string }; Body: { quantity: number } }>(
  '/naive/drops/:id',
  async (request, reply) => {
    await pool.query(
      `INSERT INTO ${SCHEMA}.stock (id, qty) VALUES ($1, $2)
       ON CONFLICT (id) DO UPDATE SET qty = EXCLUDED.qty`,
      [request.params.id, request.body.quantity],
    );
    return reply.status(204).send();
  },
);

app.get<{ Params: { id: string } }>('/naive/drops/:id', async (request) => {
  const { rows } = await pool.query<{ qty: number }>(
    `SELECT qty FROM ${SCHEMA}.stock WHERE id = $1`,
    [request.params.id],
  );
  return { remaining: rows[0]?.qty ?? null };
});

app.post<{ Params: { id: string } }>('/v1/drops/:id/purchases', async (request, reply) => {
  const { rowCount } = await pool.query(
    `UPDATE ${SCHEMA}.stock SET qty = qty - 1 WHERE id = $1 AND qty > 0`,
    [request.params.id],
  );
  if (rowCount === 1) return reply.status(201).send({ dropId: request.params.id, status: 'held' });
  return reply.status(409).send({ error: 'SOLD_OUT', message: 'sold out' });
});

async function main(): Promise<void> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${SCHEMA}.stock (id text PRIMARY KEY, qty integer NOT NULL)`,
  );
  await app.listen({ port: Number(process.env.PORT ?? 3611), host: '127.0.0.1' });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
