import { LuaScriptSet, loadLuaScripts } from '@flashdrop/lua';

/** The analytics' one script: ./apply_event.lua (its KEYS grow with the batch's seen-keys). */
export const ANALYTICS_SCRIPTS: LuaScriptSet<'apply_event'> = {
  dir: 'apps/analytics/src/stats',
  scripts: { apply_event: 'variadic' },
  prefix: 'analytics',
};

/** Read once per process; every connection defines them from here. */
export const ANALYTICS_SOURCES = loadLuaScripts(ANALYTICS_SCRIPTS);
