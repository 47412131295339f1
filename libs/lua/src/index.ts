// The one way Flashdrop ships, loads and checks a Lua script (libs/inventory, apps/analytics).
export * from './lua-scripts';
