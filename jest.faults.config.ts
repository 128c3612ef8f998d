import type { Config } from 'jest';

// `npm run test:faults`: fault-injection suites (test/faults/*.fault-spec.ts).
// They start whole processes and break what is around them, one at a time.
// Suites that need the PostgreSQL or Redis servers skip nothing: they fail
// when the servers are not there (see .ci/ensure-services).
const config: Config = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  roots: ['<rootDir>/test'],
  testRegex: '.*\\.fault-spec\\.ts$',
  transform: {
    '^.+\\.(t|j)s$': 'ts-jest',
  },
  testEnvironment: 'node',
  testTimeout: 180000,
  maxWorkers: 1,
};

export default config;
