// The sale's state in Redis, changed only by the Lua scripts of ./lua (see ../README.md).
export * from './inventory';
export * from './refusal-tally';
export * from './keys';
export * from './ids';
export * from './types';
export { findLuaDir } from './lua-scripts';
export * from './inventory.module';
