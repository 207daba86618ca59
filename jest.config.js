/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest'] },
  setupFiles: ['<rootDir>/test/support/setup.ts'],
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
  // Two cores: one worker per core keeps CDK synth tests from starving each other.
  maxWorkers: 2,
  testTimeout: 60000,
};
