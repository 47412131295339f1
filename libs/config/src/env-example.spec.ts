import { readFileSync } from 'node:fs';
import { FlashdropConfig } from './flashdrop-config';
import { findRepoPath } from './repo-path';

/** `.env.example` lists every variable the config reads, with the config's own defaults. */
describe('.env.example', () => {
  const listed = new Map<string, string>();
  for (const line of readFileSync(findRepoPath('.env.example'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m) listed.set(m[1], m[2]);
  }
  const defaults = new FlashdropConfig() as unknown as Record<string, unknown>;

  it('names exactly the variables FlashdropConfig reads', () => {
    expect([...listed.keys()].sort()).toEqual(Object.keys(defaults).sort());
  });

  it('gives each its development default', () => {
    for (const [name, value] of listed) expect(value).toBe(String(defaults[name]));
  });
});
