/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  // The Lambda bundles in cdk.out are loaded as they ship, never transformed again.
  transformIgnorePatterns: ['/node_modules/', '/cdk\\.out/', '/asset\\.[0-9a-f]+/'],
  // Synthesizes the stack once per run (or reuses an up-to-date cdk.out): the sandbox runs its bundles.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  setupFiles: ['<rootDir>/test/support/setup.ts'],
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
  // Two cores: one worker per core keeps CDK synth tests from starving each other.
  maxWorkers: 2,
  testTimeout: 60000,
};
