// Preloaded (`node -r`) into every process the benchmark spawns: when the benchmark process is
// gone (killed, crashed), the child exits instead of lingering and holding its port and pool.
const parent = Number(process.env.BENCH_PARENT_PID);
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
