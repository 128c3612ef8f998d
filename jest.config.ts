import type { Config } from 'jest';

// The default run: unit specs beside the code (src/**/*.spec.ts) and the
// end-to-end specs (test/**/*.e2e-spec.ts). Integration specs that need the
// PostgreSQL and Redis servers live in *.int-spec.ts and run separately.
const config: Config = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '.*\\.(spec|e2e-spec)\\.ts$',
  transform: {
    '^.+\\.(t|j)s$': 'ts-jest',
  },
  collectCoverageFrom: ['src/**/*.(t|j)s'],
  coverageDirectory: './coverage',
  testEnvironment: 'node',
  // Hooks share this limit: an e2e app that starts slowly on a loaded 2-core
  // machine must finish starting (and so be closed) rather than be abandoned
  // mid-start by a timed-out beforeAll, which left it running past the
  // environment's teardown (imports after teardown, a run that never exits).
  testTimeout: 120000,
};

export default config;
