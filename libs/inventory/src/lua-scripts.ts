import { EventVersions, OutboxStreamFields } from '@flashdrop/events';
import { LuaScriptSet, loadLuaScripts } from '@flashdrop/lua';
import { STANDING_CHANNEL } from './keys';
import { ORDERS_BEYOND_LIMIT } from './order-list-bound';

/** Every script of this library, with the number of KEYS it takes (see each file's header). */
const ScriptKeys = {
  mirror_drop: 3,
  begin_edit: 1,
  restore_orders: 6,
  restore_standing: 8,
  view_drop: 3,
  set_paused: 2,
  cancel_drop: 2,
  sync_phase: 4,
  reserve: 5,
  share: 6,
  grab: 12,
  count_refusals: 4,
  count_reservations: 3,
  cancel_order: 9,
  expire_due: 8,
  begin_payment: 10,
  complete_payment: 9,
  abort_payment: 9,
  retire_drop: 8,
  join_waitlist: 6,
  hand_down_parked: 8,
  standing: 8,
  commit_draw: 3,
  draw_waitlist: 4,
  draw_winners: 9,
  finish_draw: 3,
  relay_read: 'variadic',
  begin_refund: 4,
  complete_refund: 10,
  bucket_take: 2,
  bucket_settle: 2,
  abort_refund: 3,
  finish_group: 10,
  fail_group: 10,
  settle_failed_group: 10,
} as const;

export type ScriptName = keyof typeof ScriptKeys;

/**
 * The facts the scripts share with libs/events and ./keys.ts, generated so they have one source:
 * the schema version of each event type, the outbox stream's field names, the standing channel,
 * the bound on a fan's order list.
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
    `local STANDING_CHANNEL = ${JSON.stringify(STANDING_CHANNEL)}`,
    `local ORDERS_BEYOND_LIMIT = ${ORDERS_BEYOND_LIMIT}`,
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
