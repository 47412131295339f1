// cluster-key-slot (ioredis's own dependency, the slot of a key as Redis Cluster computes it)
// ships no types.
declare module 'cluster-key-slot' {
  export default function calculateSlot(key: string | Buffer): number;
}
