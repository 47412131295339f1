import { isCluster, RedisClient } from '@flashdrop/persistence';
import type { Cluster } from 'ioredis';
import { findRepoPath } from '@flashdrop/config';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type LuaArg = string | number;

/** A defined script: KEYS then ARGV (a variadic script takes the number of KEYS first). */
export type LuaCall = (...keysAndArgs: LuaArg[]) => Promise<unknown>;

/**
 * A library's Lua scripts: `<dir>/<name>.lua` for each name, shipped as files in the repository
 * beside the code that calls them (the bundles in dist/ find them by walking up to the root).
 */
export interface LuaScriptSet<N extends string> {
  /** The folder, from the repository root, e.g. `libs/inventory/src/lua`. */
  readonly dir: string;
  /** Each script and how many KEYS it takes (`variadic`: the caller says, call by call). */
  readonly scripts: { readonly [K in N]: number | 'variadic' };
  /** Commands are defined on a connection as `<prefix>_<name>`. */
  readonly prefix: string;
  /** Generated Lua put in front of every script: facts it shares with the TypeScript side. */
  readonly prelude?: string;
  /** A file of `dir` whose helpers go in front of every script (not a script of its own). */
  readonly shared?: string;
}

/** One script as Redis runs it. */
export interface LuaSource {
  readonly name: string;
  /** The script's own file, whose header lists its KEYS, ARGV and every answer. */
  readonly file: string;
  /** What Redis runs: the prelude, the shared helpers, then the file. */
  readonly lua: string;
  readonly numberOfKeys: number | 'variadic';
}

/** Reads every script of a set (once per process: callers keep the result). */
export function loadLuaScripts<N extends string>(set: LuaScriptSet<N>): Record<N, LuaSource> {
  const dir = findRepoPath(set.dir);
  const head = [set.prelude, set.shared && readFileSync(join(dir, set.shared), 'utf8')]
    .filter((part): part is string => Boolean(part))
    .map((part) => `${part}\n`)
    .join('');
  const out = {} as Record<N, LuaSource>;
  for (const name of Object.keys(set.scripts) as N[]) {
    const file = readFileSync(join(dir, `${name}.lua`), 'utf8');
    out[name] = { name, file, lua: head + file, numberOfKeys: set.scripts[name] };
  }
  return out;
}

/**
 * Defines each script once per connection (`defineCommand`: EVALSHA, and EVAL again after a
 * Redis restart emptied its script cache) and answers a call per script.
 */
export function defineLuaScripts<N extends string>(
  redis: RedisClient,
  prefix: string,
  sources: Record<N, LuaSource>,
): Record<N, LuaCall> {
  const calls = {} as Record<N, LuaCall>;
  for (const name of Object.keys(sources) as N[]) {
    const { lua, numberOfKeys } = sources[name];
    const command = `${prefix}_${name}`;
    if (!(command in redis)) {
      redis.defineCommand(command, {
        lua,
        ...(numberOfKeys === 'variadic' ? {} : { numberOfKeys }),
      });
      if (numberOfKeys === 'variadic' && isCluster(redis)) keepOutOfAutoPipelines(redis, command);
    }
    // defineCommand adds a method of that name to the client; ioredis cannot type it.
    calls[name] = (redis as unknown as Record<string, LuaCall>)[command].bind(redis);
  }
  return calls;
}

/**
 * On a Redis Cluster, ioredis puts an auto-pipelined call in the pipeline of the node that serves
 * its first argument. A variadic script's first argument is its number of KEYS, not a key, so
 * the call would travel with another slot's commands and the whole pipeline fail ("All keys in
 * the pipeline should belong to the same slots allocation group"). Such a script is sent on its
 * own, to the node of its first key (ioredis reads this list at every call).
 */
function keepOutOfAutoPipelines(redis: Cluster, command: string): void {
  const ignored = redis.options.autoPipeliningIgnoredCommands ?? [];
  if (!ignored.includes(command)) {
    redis.options.autoPipeliningIgnoredCommands = [...ignored, command];
  }
}

/**
 * What a script's header promises, for its tests: the KEYS it lists (`KEYS[n]` in the leading
 * comment; `KEYS[n...]` for a variable tail) and whether it lists its answers (`Returns`).
 */
export function luaHeader(file: string): {
  keys: number[];
  variadic: boolean;
  returns: boolean;
} {
  const header: string[] = [];
  for (const line of file.split('\n')) {
    if (!line.startsWith('--')) break;
    header.push(line);
  }
  const text = header.join('\n');
  const keys = [...new Set([...text.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1])))];
  return {
    keys: keys.sort((a, b) => a - b),
    variadic: /KEYS\[\d+\.\.\.\]/.test(text),
    returns: /Returns/.test(text),
  };
}

/** The problems of a script's header against its declared number of KEYS (none: []). */
export function headerProblems(source: LuaSource): string[] {
  const header = luaHeader(source.file);
  const problems: string[] = [];
  const fixed = header.keys.filter((k) => !header.variadic || k < Math.max(...header.keys));
  const expected =
    source.numberOfKeys === 'variadic' ? fixed.length : (source.numberOfKeys as number);
  const listed = header.variadic ? fixed : header.keys;
  if (listed.join(',') !== Array.from({ length: expected }, (_, i) => i + 1).join(',')) {
    problems.push(`${source.name}: header lists KEYS ${listed.join(',')}, takes ${expected}`);
  }
  if ((source.numberOfKeys === 'variadic') !== header.variadic) {
    problems.push(`${source.name}: variadic KEYS in the header and the declaration disagree`);
  }
  if (!header.returns) problems.push(`${source.name}: header lists no answers (Returns)`);
  return problems;
}
