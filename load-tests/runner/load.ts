import { driveAutocannon } from './drivers/autocannon';
import { generatorFor } from './drivers/generators';
import { driveVegeta } from './drivers/vegeta';
import { driveWrk } from './drivers/wrk';
import { DriveResult, DriveSpec } from './drive-spec';

// What a run is and what it measured (drive-spec.ts), for the scenario runners.
export * from './drive-spec';

/**
 * Drives one run with the best generator installed for its model: wrk for a closed loop,
 * vegeta for an open model, autocannon (in this process) where either is missing.
 */
export function drive(spec: DriveSpec): Promise<DriveResult> {
  const name = spec.generator ?? generatorFor(spec.rate === undefined ? 'closed' : 'open');
  if (name === 'wrk') return driveWrk(spec);
  if (name === 'vegeta') return driveVegeta(spec);
  return driveAutocannon(spec);
}
