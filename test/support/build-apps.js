// Global set-up of the e2e project: the suites run the apps as `npm start` does, compiled to
// dist/ by scripts/build.js, so the build is refreshed first (well under a second).
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async function buildApps() {
  execFileSync(process.execPath, [join(__dirname, '../../scripts/build.js')], { stdio: 'pipe' });
};
