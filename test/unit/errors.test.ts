/**
 * The error names contract (lambdas/domain/errors.ts): the Lambda runtime reports `error.name` as the
 * error type and the state machine routes on it, so each name is a literal that no bundler can rename.
 */
import { DeploymentError, deploymentErrorClasses, ErrorCode } from '../../lambdas/domain/errors';

const errorClasses = Object.entries(deploymentErrorClasses);

describe('deploymentErrorClasses', () => {
  it('lists one class per error code', () => {
    // Assess
    expect(Object.keys(deploymentErrorClasses).sort()).toEqual(Object.keys(ErrorCode).sort());
  });

  it.each(errorClasses)(
    '%s is named exactly its exported key, with its code and the cause kept',
    (key, ErrorClass) => {
      // Prepare
      const cause = new Error('ThrottlingException: Rate exceeded');

      // Act
      const error = new ErrorClass('what went wrong; what to do', { cause });

      // Assess
      expect(error).toBeInstanceOf(DeploymentError);
      expect(error.name).toBe(key);
      expect(error.code).toBe(ErrorCode[key as keyof typeof ErrorCode]);
      expect(error.cause).toBe(cause);
      expect(String(error.stack)).toMatch(new RegExp(`^${key}: what went wrong; what to do`));
    },
  );

  it.each(errorClasses)(
    '%s keeps its name when a minifier renames the class (as esbuild does without keepNames)',
    (key, ErrorClass) => {
      // Prepare: what a minified bundle does to the class identifier
      const Renamed: new (message: string) => Error = ErrorClass;
      class Ii extends Renamed {}
      Object.defineProperty(ErrorClass, 'name', { value: 'Ii', configurable: true });

      try {
        // Act
        const direct = new ErrorClass('renamed');
        const subclassed: Error = new Ii('renamed');

        // Assess
        expect(direct.name).toBe(key);
        expect(subclassed.name).toBe(key);
      } finally {
        Object.defineProperty(ErrorClass, 'name', { value: key, configurable: true });
      }
    },
  );
});
