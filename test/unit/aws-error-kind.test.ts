import {
  AwsErrorKind,
  classifyAwsError,
  isKmsPermissionDenied,
  isPermissionDenied,
  wasRefused,
} from '../../lambdas/domain/aws-error-kind';

/** An error shaped like an AWS SDK v3 service exception. */
function sdkError(name: string, fault: 'client' | 'server', extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} from AWS`), { name, $fault: fault, $metadata: {}, ...extra });
}

describe('classifyAwsError', () => {
  it.each([
    ['ThrottlingException', 'client'],
    ['ProvisionedThroughputExceededException', 'client'],
    ['KMSThrottlingException', 'client'],
    ['TooManyRequestsException', 'client'],
    ['InternalServerError', 'server'],
    ['SomethingNew', 'server'],
  ] as const)('treats %s (%s fault) as transient: a retry may heal it', (name, fault) => {
    expect(classifyAwsError(sdkError(name, fault))).toBe(AwsErrorKind.transient);
  });

  it('treats an error the SDK marked retryable as transient', () => {
    expect(classifyAwsError(sdkError('Odd', 'client', { $retryable: { throttling: false } }))).toBe(
      AwsErrorKind.transient,
    );
  });

  it('treats a dropped connection as transient', () => {
    expect(classifyAwsError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(
      AwsErrorKind.transient,
    );
  });

  it.each([
    ['ResourceNotFoundException', AwsErrorKind.notFound],
    ['ServiceNotFoundException', AwsErrorKind.notFound],
    ['AccessDeniedException', AwsErrorKind.accessDenied],
    ['DecryptionFailure', AwsErrorKind.accessDenied],
    ['InvalidParameterException', AwsErrorKind.refused],
  ] as const)('sorts the client error %s as %s', (name, kind) => {
    expect(classifyAwsError(sdkError(name, 'client'))).toBe(kind);
  });

  it('concludes nothing from something that is not an AWS answer', () => {
    expect(classifyAwsError(new TypeError('x is undefined'))).toBe(AwsErrorKind.unknown);
    expect(classifyAwsError('boom')).toBe(AwsErrorKind.unknown);
  });
});

describe('wasRefused', () => {
  it('is true only when AWS answered and did nothing', () => {
    expect(wasRefused(sdkError('AccessDeniedException', 'client'))).toBe(true);
    expect(wasRefused(sdkError('InvalidParameterException', 'client'))).toBe(true);
    expect(wasRefused(sdkError('ThrottlingException', 'client'))).toBe(false);
    expect(wasRefused(sdkError('InternalFailure', 'server'))).toBe(false);
    expect(wasRefused(new TypeError('bug'))).toBe(false);
  });
});

describe('isPermissionDenied', () => {
  it.each([
    'AccessDeniedException',
    'AccessDenied',
    'UnauthorizedOperation',
    'KMSAccessDeniedException',
    'AuthorizationErrorException',
  ])('treats %s as the caller lacking a permission', (name) => {
    expect(isPermissionDenied(sdkError(name, 'client'))).toBe(true);
  });

  it.each([
    'DecryptionFailure',
    'KMSDisabledException',
    'KMSInvalidStateException',
    'ResourceNotFoundException',
  ])('does not treat %s as a missing permission: no grant would fix it', (name) => {
    expect(isPermissionDenied(sdkError(name, 'client'))).toBe(false);
  });
});

describe('isKmsPermissionDenied', () => {
  it("tells KMS's denial (Secrets Manager: 'Access to KMS is not allowed') from the service's own", () => {
    // Prepare
    const kms = Object.assign(sdkError('AccessDeniedException', 'client'), {
      message: 'Access to KMS is not allowed',
    });
    const service = Object.assign(sdkError('AccessDeniedException', 'client'), {
      message:
        'User: arn:aws:sts::111122223333:assumed-role/r/s is not authorized to perform: secretsmanager:GetSecretValue',
    });

    // Assess
    expect(isKmsPermissionDenied(kms)).toBe(true);
    expect(isKmsPermissionDenied(sdkError('KMSAccessDeniedException', 'client'))).toBe(true);
    expect(isKmsPermissionDenied(service)).toBe(false);
    expect(isKmsPermissionDenied(sdkError('DecryptionFailure', 'client'))).toBe(false);
  });
});
