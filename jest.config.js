/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true, tsconfig: { module: 'commonjs', target: 'ES2022', esModuleInterop: true, strict: true, types: ['node', 'jest'] } }],
  },
  // The examples import the package by name, as a user's code would.
  moduleNameMapper: { '^cudnn-rnn$': '<rootDir>/lib/index.ts' },
  testTimeout: 60000,
};
