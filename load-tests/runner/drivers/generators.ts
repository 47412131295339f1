import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../processes';

/**
 * The load generators the benchmark can drive a run with (load-tests/generators/install.sh
 * installs the compiled ones):
 * - wrk (Debian; Apache-2.0 terms): closed loop, C with a LuaJIT script, on its own thread;
 * - vegeta (Go module proxy; MIT): open model at a constant rate;
 * - autocannon (npm; MIT): the fallback for both, running inside the runner's own process.
 */
export type GeneratorName = 'wrk' | 'vegeta' | 'autocannon';

const found = new Map<string, string | undefined>();

function onPath(name: string): string | undefined {
  try {
    return (
      execFileSync('sh', ['-c', `command -v ${name}`])
        .toString()
        .trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** Where a compiled generator is, or undefined when it is not installed. */
export function generatorBinary(name: 'wrk' | 'vegeta'): string | undefined {
  if (!found.has(name)) {
    const data = process.env.FLASHDROP_DATA_DIR ?? join(REPO_ROOT, '.data');
    const tool = join(data, 'tools/bin', name);
    found.set(name, existsSync(tool) ? tool : onPath(name));
  }
  return found.get(name);
}

/**
 * The generator for a model, from BENCH_GENERATOR (`autocannon` forces the fallback for
 * everything, e.g. to compare) or the best installed.
 */
export function generatorFor(model: 'closed' | 'open'): GeneratorName {
  if (process.env.BENCH_GENERATOR === 'autocannon') return 'autocannon';
  const compiled = model === 'closed' ? 'wrk' : 'vegeta';
  return generatorBinary(compiled) ? compiled : 'autocannon';
}

/** wrk's Lua script (its header says what it does). */
export const WRK_SCRIPT = join(REPO_ROOT, 'load-tests/generators/calls.lua');
