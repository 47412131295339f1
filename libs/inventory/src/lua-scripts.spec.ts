import { EventVersions } from '@flashdrop/events';
import { headerProblems } from '@flashdrop/lua';
import { INVENTORY_SOURCES } from './lua-scripts';

describe('the inventory scripts', () => {
  it.each(Object.values(INVENTORY_SOURCES).map((s) => [s.name, s]))(
    '%s: its header lists the KEYS it takes and its answers',
    (_name, source) => {
      expect(headerProblems(source)).toEqual([]);
    },
  );

  // emit() looks the version up in the generated prelude: an unknown type would make XADD fail
  // after the script's earlier writes (Redis does not roll a script back).
  it.each(Object.values(INVENTORY_SOURCES).map((s) => [s.name, s]))(
    '%s: emits only event types the catalog versions',
    (_name, source) => {
      const types = [...source.lua.matchAll(/emit\([^,]+,\s*'([a-z_.]+)'/g)].map((m) => m[1]);
      const dynamic = [...source.lua.matchAll(/etype = '([a-z_.]+)'/g)].map((m) => m[1]);
      for (const type of [...types, ...dynamic]) expect(Object.keys(EventVersions)).toContain(type);
    },
  );
});
