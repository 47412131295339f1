import { EventVersions, OutboxStreamFields } from '@flashdrop/events';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Every script of this library, with the number of KEYS it takes (see each file's header). */
export const ScriptKeys = {
  mirror_drop: 3,
  view_drop: 3,
  set_paused: 2,
  cancel_drop: 2,
  sync_phase: 3,
  reserve: 4,
  share: 3,
  grab: 10,
  count_refusals: 3,
  cancel_order: 6,
  expire_due: 5,
  begin_payment: 6,
  complete_payment: 6,
  abort_payment: 6,
} as const;

export type ScriptName = keyof typeof ScriptKeys;

const LUA_DIR = join('libs', 'inventory', 'src', 'lua');

/**
 * Where the *.lua files are: beside this file under ts-jest (src/lua), or, in a webpack bundle
 * (dist/apps/<app>/main.js), found by walking up from the bundle to the repository root.
 */
export function findLuaDir(start: string = __dirname): string {
  const beside = join(start, 'lua');
  if (existsSync(join(beside, '_lib.lua'))) return beside;
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, LUA_DIR);
    if (existsSync(join(candidate, '_lib.lua'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  const fromCwd = join(process.cwd(), LUA_DIR);
  if (existsSync(join(fromCwd, '_lib.lua'))) return fromCwd;
  throw new Error(`libs/inventory: Lua scripts not found from ${start} or ${process.cwd()}`);
}

/**
 * The facts the scripts share with libs/events, generated so they have one source: the schema
 * version of each event type and the outbox stream's field names.
 */
function prelude(): string {
  const versions = Object.entries(EventVersions)
    .map(([type, v]) => `[${JSON.stringify(type)}] = ${v}`)
    .join(', ');
  return [
    `local EV = { ${versions} }`,
    `local F_TYPE = ${JSON.stringify(OutboxStreamFields.type)}`,
    `local F_VERSION = ${JSON.stringify(OutboxStreamFields.version)}`,
    `local F_AT = ${JSON.stringify(OutboxStreamFields.occurredAtMs)}`,
    `local F_DATA = ${JSON.stringify(OutboxStreamFields.data)}`,
  ].join('\n');
}

/** Each script's full source: the prelude, the shared helpers, then the script itself. */
export function loadScripts(dir: string = findLuaDir()): Record<ScriptName, string> {
  const lib = readFileSync(join(dir, '_lib.lua'), 'utf8');
  const head = `${prelude()}\n${lib}\n`;
  const out = {} as Record<ScriptName, string>;
  for (const name of Object.keys(ScriptKeys) as ScriptName[]) {
    out[name] = head + readFileSync(join(dir, `${name}.lua`), 'utf8');
  }
  return out;
}
