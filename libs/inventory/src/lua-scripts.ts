import { EventVersions, OutboxStreamFields } from '@flashdrop/events';
import { LuaScriptSet, loadLuaScripts } from '@flashdrop/lua';

/** Every script of this library, with the number of KEYS it takes (see each file's header). */
const ScriptKeys = {
  mirror_drop: 3,
  view_drop: 3,
  set_paused: 2,
  cancel_drop: 2,
  sync_phase: 3,
  reserve: 4,
  share: 5,
  grab: 10,
  count_refusals: 4,
  count_reservations: 3,
  cancel_order: 6,
  expire_due: 5,
  begin_payment: 7,
  complete_payment: 6,
  abort_payment: 6,
  retire_drop: 5,
  relay_read: 'variadic',
} as const;

export type ScriptName = keyof typeof ScriptKeys;

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

/** The sale's scripts: ./lua/<name>.lua, each behind the prelude and `_lib.lua`'s helpers. */
export const INVENTORY_SCRIPTS: LuaScriptSet<ScriptName> = {
  dir: 'libs/inventory/src/lua',
  scripts: ScriptKeys,
  prefix: 'flashdrop',
  prelude: prelude(),
  shared: '_lib.lua',
};

/** Read once per process; every connection defines them from here. */
export const INVENTORY_SOURCES = loadLuaScripts(INVENTORY_SCRIPTS);
