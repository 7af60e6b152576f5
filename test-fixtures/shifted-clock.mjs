// Preloaded by tests into the CLI processes they start (`node --import`,
// through NODE_OPTIONS): moves Date.now() forward by
// MODEL_SIGNING_TEST_CLOCK_SHIFT_MS. Date.now() gives a local hash record its
// stat time, so files written before the process started are that much
// older for the records it writes, without waiting out the settle time
// (72 s with Linux's defaults, docs/incremental.md). `new Date()` and every
// other clock are left alone.
const shift = Number(process.env.MODEL_SIGNING_TEST_CLOCK_SHIFT_MS ?? '0');
if (Number.isFinite(shift) && shift !== 0) {
  const now = Date.now;
  Date.now = () => now() + shift;
}
