// Preloaded (`node -r`) into every app process the e2e harness spawns: when the test process
// that started it is gone (crashed, killed by a timeout), the app exits instead of lingering.
'use strict';

const parent = Number(process.env.E2E_PARENT_PID);
if (Number.isInteger(parent) && parent > 0) {
  const timer = setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(0);
    }
  }, 1000);
  timer.unref();
}
