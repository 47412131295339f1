import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Finds a file or folder of the repository (Lua scripts, the dashboard's page, a library's
 * browser build in node_modules) by its path from the repository root. The services run from
 * the sources under ts-jest and from webpack bundles in dist/apps/<app>; both sit inside the
 * repository, so walking up from `start` reaches the root either way. The working directory is
 * the last resort.
 */
export function findRepoPath(relativePath: string, start: string = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, relativePath);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  const fromCwd = join(process.cwd(), relativePath);
  if (existsSync(fromCwd)) return fromCwd;
  throw new Error(`${relativePath} not found above ${start} nor in ${process.cwd()}`);
}
