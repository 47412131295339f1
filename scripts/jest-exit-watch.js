// jest's globalTeardown (jest.config.js): a run whose tests are over must also end. npm test runs
// each of its jest parts --runInBand (scripts/test.sh), so every test file of a part ran in its process, and anything a test left running (a
// ref'd timer, a socket, a child's pipe) keeps it alive after the last test: in ci-local
// (session 7) the cluster stage passed its 202 tests and then hung until it was killed, which in
// CI runs into the job's time limit. This is the net under that: once the tests are done, a
// process still alive EXIT_WATCH_MS later says what holds it and exits 1, so a leak is a failed
// run with its cause, not a hang, and never a pass (jest's --forceExit would make it a pass).
// The timer itself is unref'd: a process that is free to end ends at once, as before.
const EXIT_WATCH_MS = Number(process.env.JEST_EXIT_WATCH_MS ?? 30_000);

module.exports = async function watchExit() {
  setTimeout(() => {
    const holding = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
    process.stderr.write(
      `\njest: the tests are over but the process did not exit within ${EXIT_WATCH_MS} ms; ` +
        `still active: ${holding.join(', ') || '(nothing listed)'}. A test left a timer, socket ` +
        `or child running (find it with --detectOpenHandles); failing the run instead of hanging.\n`,
    );
    process.exit(1);
  }, EXIT_WATCH_MS).unref();
};
