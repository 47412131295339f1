// What the token check costs in a sale's pattern: every fan's token first seen at its
// reservation (the wave: distinct fans, in order), then the same tokens again at the rush, in
// the same order. CPU per TokenVerifier.verify of each pass, in blocks, in this process. Run it
// before and after a change to the cache.
//
//   node -r ts-node/register/transpile-only -r tsconfig-paths/register \
//     load-tests/profile/token-cache-cost.ts [--fans=400000] [--block=25000]
import { signToken, TokenVerifier } from '@flashdrop/auth';
import { FlashdropConfig } from '@flashdrop/config';

const SECRET = 'flashdrop-bench-secret-0123456789';
const FLAGS = ['fans', 'block'] as const;
const HELP = `usage: token-cache-cost.ts [--fans=N] [--block=N]
  --fans=N   distinct fans' tokens, each verified twice (two passes in order; default 400000)
  --block=N  tokens per printed figure (default 25000)`;

function parseFlags(argv: readonly string[]): Record<(typeof FLAGS)[number], number> {
  const out: Record<string, number> = { fans: 400_000, block: 25_000 };
  for (const a of argv) {
    if (a === '--help' || a === '-h') {
      console.log(HELP);
      process.exit(0);
    }
    const m = /^--([a-z-]+)=(\d+)$/.exec(a);
    if (!m || !(FLAGS as readonly string[]).includes(m[1])) {
      console.error(`unknown flag ${a}\n${HELP}`);
      process.exit(2);
    }
    out[m[1]] = Number(m[2]);
  }
  return out as Record<(typeof FLAGS)[number], number>;
}

const flags = parseFlags(process.argv.slice(2));
console.error(`signing ${flags.fans} tokens`);
const tokens = Array.from({ length: flags.fans }, (_, i) =>
  signToken(SECRET, { sub: `fan-bench-${i}`, role: 'fan' }),
);
// The default AUTH_TOKEN_CACHE_MAX (libs/config), the capacity a deployment gets unless it sets one.
const verifier = new TokenVerifier(SECRET, new FlashdropConfig().AUTH_TOKEN_CACHE_MAX);
for (const pass of ['wave (first seen)', 'rush (seen at the wave)']) {
  let total = 0;
  for (let from = 0; from < tokens.length; from += flags.block) {
    const to = Math.min(tokens.length, from + flags.block);
    const before = process.cpuUsage();
    for (let i = from; i < to; i++) verifier.verify(tokens[i]);
    const used = process.cpuUsage(before);
    total += used.user + used.system;
    const us = (used.user + used.system) / (to - from);
    console.log(
      `${pass}: fans ${String(from).padStart(7)}-${String(to - 1).padEnd(7)} ${us.toFixed(2)} us per token`,
    );
  }
  console.log(`${pass}: ${(total / tokens.length).toFixed(2)} us per token over all`);
}
