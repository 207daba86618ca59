// asl-validator 4 ships no type declarations; this is the part of its API the tests use.
declare module 'asl-validator' {
  interface AslValidatorOptions {
    /** Check JSONPath syntax in paths (default true). */
    readonly checkPaths?: boolean;
    /** Check that every Task `Resource` is an ARN (default true). */
    readonly checkArn?: boolean;
  }
  interface AslValidationResult {
    readonly isValid: boolean;
    readonly errors: readonly { readonly message?: string }[];
    readonly errorsText: (separator?: string) => string;
  }
  function aslValidator(definition: unknown, options?: AslValidatorOptions): AslValidationResult;
  export = aslValidator;
}
