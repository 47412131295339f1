// The load generator's ceiling: a plain Fastify hello-world. Whatever the runner measures
// against it is the most it could measure against anything on this machine.
//   PORT=3612 node -r ts-node/register/transpile-only load-tests/peers/hello-server.ts
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const hello = { hello: 'world' };
app.get('/', async () => hello);
app.post('/*', async () => hello);

app.listen({ port: Number(process.env.PORT ?? 3612), host: '127.0.0.1' }).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
