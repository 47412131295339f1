import { headerProblems } from '@flashdrop/lua';
import { INVENTORY_SOURCES } from './lua-scripts';

describe('the inventory scripts', () => {
  it.each(Object.values(INVENTORY_SOURCES).map((s) => [s.name, s]))(
    '%s: its header lists the KEYS it takes and its answers',
    (_name, source) => {
      expect(headerProblems(source)).toEqual([]);
    },
  );
});
