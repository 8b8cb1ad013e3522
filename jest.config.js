// Three projects: unit tests beside the code, integration and e2e suites under test/ against
// real Postgres and NATS. SWC transpiles TypeScript and the ESM-only packages NestJS 12 uses.
const fs = require('node:fs');
const swc = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swc.$schema;

const shared = {
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', { ...swc, swcrc: false }] },
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|uid|load-esm|file-type|quick-lru|content-disposition|cookie|mercurius)/)',
  ],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testEnvironment: 'node',
};

module.exports = {
  maxWorkers: 2,
  // jest-circus reads the timeout globally only; e2e files that need longer say so themselves.
  testTimeout: 60_000,
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs,adapters,bench}/**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'],
    },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
      // The apps run compiled, as `npm start` runs them (scripts/build.js).
      globalSetup: '<rootDir>/test/support/build-apps.js',
    },
  ],
};
