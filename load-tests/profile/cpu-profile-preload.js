// Preloaded into a service (`node -r ./load-tests/profile/cpu-profile-preload.js ...`) to take a
// CPU profile of a window of its life: SIGUSR1 is Node's inspector and Nest's shutdown hooks take
// SIGUSR2, so SIGWINCH (ignored by default) starts the profiler and a second SIGWINCH writes
// $CPU_PROFILE_OUT (a .cpuprofile for Chrome DevTools, speedscope or
// load-tests/profile/summarize.ts). A service killed by a signal never writes
// `node --cpu-prof`'s file; this does not depend on how the service ends.
'use strict';
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');

const out = process.env.CPU_PROFILE_OUT || `/tmp/flashdrop-${process.pid}.cpuprofile`;
const session = new Session();
session.connect();
let running = false;

process.on('SIGWINCH', () => {
  if (!running) {
    session.post('Profiler.enable', () =>
      session.post('Profiler.setSamplingInterval', { interval: 200 }, () =>
        session.post('Profiler.start', () => {
          running = true;
        }),
      ),
    );
    return;
  }
  session.post('Profiler.stop', (err, result) => {
    running = false;
    if (!err) writeFileSync(out, JSON.stringify(result.profile));
  });
});
