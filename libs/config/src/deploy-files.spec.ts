import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlashdropConfig } from './flashdrop-config';
import { findRepoPath } from './repo-path';

/**
 * The deployment files cannot run here (no Docker engine), so this keeps them in step with what
 * is tested: every variable they give the services is one libs/config validates, and every
 * file their commands start exists in the repository.
 */
describe('deployment files (Dockerfile, infra/docker-compose.*.yml)', () => {
  const root = findRepoPath('package.json').replace(/package\.json$/, '');
  const read = (file: string) => readFileSync(join(root, file), 'utf8');
  const known = new Set(Object.keys(new FlashdropConfig()));
  // Variables of the server images, not of Flashdrop's services.
  const servers =
    /^(KAFKA_(?!BROKERS|CLIENT_ID|PARTITIONS|REPLICATION_FACTOR|TOPIC_PREFIX)|POSTGRES_)/;

  it.each(['infra/docker-compose.stack.yml', 'infra/docker-compose.cluster.yml', 'Dockerfile'])(
    '%s sets only variables libs/config knows',
    (file) => {
      const names = [
        ...read(file).matchAll(/^\s+([A-Z][A-Z0-9_]+):\s/gm),
        ...read(file).matchAll(/^ENV ([A-Z][A-Z0-9_]+)=/gm),
      ].map((m) => m[1]);
      expect(names.length).toBeGreaterThan(0);
      expect(names.filter((n) => !known.has(n) && !servers.test(n))).toEqual([]);
    },
  );

  it('starts only files the repository has', () => {
    const started = [
      ...read('infra/docker-compose.stack.yml').matchAll(/(dist\/apps\/\w+|scripts)\/[\w.]+\.js/g),
    ]
      .map((m) => m[0])
      .filter((f) => f.startsWith('scripts/'));
    expect(started).toContain('scripts/instances.js');
    for (const file of started) expect(() => read(file)).not.toThrow();
    const apps = [
      ...read('infra/docker-compose.stack.yml').matchAll(/dist\/apps\/(\w+)\/main\.js/g),
    ].map((m) => m[1]);
    expect(new Set(apps)).toEqual(new Set(['api', 'wallet', 'analytics', 'worker']));
    for (const app of apps) expect(() => read(`apps/${app}/src/main.ts`)).not.toThrow();
  });
});
