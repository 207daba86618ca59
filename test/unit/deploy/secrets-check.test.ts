import { environments } from '../../support/afu9-config';
import {
  collectSecretRequirements,
  judgeSecret,
  matchRunbookPlaceholder,
  parseSecretReference,
  type SecretRequirement,
} from '../../../lambdas/domain/secrets-check';
import { githubSecretArn } from './fixtures';

const github: SecretRequirement = {
  secretId: 'afu9/github',
  displayName: 'afu9/github',
  requiredKeys: ['token', 'owner', 'repo'],
  optionalKeys: [],
  wholeValueUsed: false,
  referencedBy: ['environment config'],
  origin: 'configured',
};

describe('parseSecretReference', () => {
  it('reads the secret ARN and the JSON key of an ECS valueFrom', () => {
    expect(parseSecretReference(`${githubSecretArn}:token::`)).toEqual({
      kind: 'secrets-manager',
      secretId: githubSecretArn,
      nameInArn: 'afu9/github-Xy12Ab',
      jsonKey: 'token',
    });
  });

  it('keeps the version stage and version id ECS would fetch', () => {
    expect(parseSecretReference(`${githubSecretArn}:token:AWSPREVIOUS:`)).toMatchObject({
      versionStage: 'AWSPREVIOUS',
    });
    expect(parseSecretReference(`${githubSecretArn}::AWSCURRENT:v-1`)).toMatchObject({
      versionStage: 'AWSCURRENT',
      versionId: 'v-1',
    });
  });

  it('reads a plain secret ARN as the whole secret', () => {
    expect(parseSecretReference(githubSecretArn)).toEqual({
      kind: 'secrets-manager',
      secretId: githubSecretArn,
      nameInArn: 'afu9/github-Xy12Ab',
    });
  });

  it('treats Parameter Store ARNs and bare names as SSM parameters, as ECS does', () => {
    expect(
      parseSecretReference('arn:aws:ssm:eu-central-1:111122223333:parameter/afu9/feature-flags').kind,
    ).toBe('ssm-parameter');
    expect(parseSecretReference('afu9-feature-flags').kind).toBe('ssm-parameter');
  });
});

describe('collectSecretRequirements', () => {
  it('merges task-definition references into the configured secret, making each referenced key required', () => {
    const { requirements } = collectSecretRequirements(
      [
        {
          container: 'control-center',
          valueFrom: `arn:aws:secretsmanager:eu-central-1:111122223333:secret:afu9/llm-Qw34Er:openai_api_key::`,
        },
      ],
      environments.staging.secrets,
    );
    const llm = requirements.find((r) => r.displayName === 'afu9/llm')!;
    expect(llm.secretId).toBe('arn:aws:secretsmanager:eu-central-1:111122223333:secret:afu9/llm-Qw34Er');
    expect(llm.requiredKeys).toEqual(['openai_api_key']);
    expect(llm.optionalKeys).toEqual(['anthropic_api_key', 'deepseek_api_key']);
    expect(requirements).toHaveLength(3);
  });

  it('adds a secret only the task definition names, and reports SSM parameters as SKIP', () => {
    const { requirements, skipped } = collectSecretRequirements(
      [
        {
          container: 'mcp-deploy',
          valueFrom: 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:afu9/deploy-key-Ab12Cd',
        },
        { container: 'mcp-deploy', valueFrom: 'arn:aws:ssm:eu-central-1:111122223333:parameter/afu9/flags' },
      ],
      [],
    );
    expect(requirements).toEqual([
      expect.objectContaining({
        displayName: 'afu9/deploy-key-Ab12Cd',
        wholeValueUsed: true,
        requiredKeys: [],
        origin: 'outside-config',
      }),
    ]);
    expect(skipped).toEqual([
      expect.objectContaining({
        status: 'SKIP',
        subject: 'arn:aws:ssm:eu-central-1:111122223333:parameter/afu9/flags',
      }),
    ]);
  });

  it('knows an RDS-managed secret (rds!…) from one outside the configuration, and a configured one by its ARN', () => {
    // Act
    const { requirements } = collectSecretRequirements(
      [
        {
          container: 'control-center',
          valueFrom:
            'arn:aws:secretsmanager:eu-central-1:111122223333:secret:rds!db-0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e-Xy12Ab:password::',
        },
        { container: 'control-center', valueFrom: `${githubSecretArn}:token::` },
      ],
      environments.staging.secrets,
    );

    // Assess
    expect(requirements.map((r) => [r.displayName, r.origin])).toEqual([
      ['afu9/github', 'configured'],
      ['afu9/llm', 'configured'],
      ['afu9/database', 'configured'],
      ['rds!db-0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e-Xy12Ab', 'rds-managed'],
    ]);
  });

  it('does not confuse a secret whose name merely starts with a configured name', () => {
    const { requirements } = collectSecretRequirements(
      [
        {
          container: 'x',
          valueFrom: 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:afu9/github-app-Ab12Cd:key::',
        },
      ],
      environments.staging.secrets,
    );
    expect(requirements.map((r) => r.displayName)).toContain('afu9/github-app-Ab12Cd');
    expect(requirements.find((r) => r.displayName === 'afu9/github')!.requiredKeys).toEqual([
      'token',
      'owner',
      'repo',
    ]);
  });
});

describe('matchRunbookPlaceholder', () => {
  it.each([
    'ghp_your_token_here',
    'sk-your-openai-key',
    'sk-ant-your-key',
    'CHANGE_ME',
    'changeme',
    'REPLACE_ME',
    'your-github-token-here',
    'your_token',
    '<github token>',
    'xxxxxxxx',
    'xxxx-xxxx-xxxx',
    'TODO',
    'ghp_...',
    '${GITHUB_TOKEN}',
  ])('recognises the placeholder %s', (value) => {
    expect(matchRunbookPlaceholder(value)).toBeDefined();
  });

  it.each([
    'ghp_R3alT0kenV4lue9xQ2mZ8pL5nK1jH7gF4dS',
    'sk-proj-Zq8Xw2Lm5Nv7Bc3Kj9Hg4Fd1Sa6',
    'afu-9',
    'control-center',
    '5432',
    'Pg-s3cr3t-V4lu3-9Qx',
  ])('accepts the real-looking value %s', (value) => {
    expect(matchRunbookPlaceholder(value)).toBeUndefined();
  });
});

describe('judgeSecret', () => {
  const readable = (value: unknown) => ({ state: 'readable' as const, secretString: JSON.stringify(value) });

  it('passes a secret whose required keys are present and real', () => {
    const checks = judgeSecret(
      github,
      readable({ token: 'ghp_R3alT0ken', owner: 'afu-9', repo: 'control-center' }),
    );
    expect(checks.map((c) => c.status)).toEqual(['OK', 'OK', 'OK', 'OK']);
  });

  it('names a missing, an empty and a placeholder key, without their values', () => {
    const checks = judgeSecret(github, readable({ token: 'ghp_your_token_here', owner: '  ' }));
    expect(checks.filter((c) => c.status === 'NG').map((c) => [c.subject, c.detail])).toEqual([
      ['afu9/github › token', expect.stringContaining('runbook placeholder')],
      ['afu9/github › owner', expect.stringContaining('is empty')],
      ['afu9/github › repo', expect.stringContaining('is missing')],
    ]);
    expect(JSON.stringify(checks)).not.toContain('ghp_your_token_here');
  });

  it('lets optional keys be absent but not placeholders', () => {
    const llm: SecretRequirement = {
      ...github,
      displayName: 'afu9/llm',
      requiredKeys: [],
      optionalKeys: ['openai_api_key', 'anthropic_api_key'],
    };
    const checks = judgeSecret(llm, readable({ anthropic_api_key: 'sk-your-anthropic-key' }));
    expect(checks.find((c) => c.subject === 'afu9/llm › openai_api_key')?.status).toBe('OK');
    expect(checks.find((c) => c.subject === 'afu9/llm › anthropic_api_key')?.status).toBe('NG');
  });

  it('fails a secret that is not a JSON object when keys are needed', () => {
    const [check] = judgeSecret(github, { state: 'readable', secretString: 'token=abc' });
    expect(check).toMatchObject({ status: 'NG', detail: expect.stringContaining('not a JSON object') });
    expect(check!.detail).not.toContain('token=abc');
  });

  it('tells how to restore a secret scheduled for deletion', () => {
    const [check] = judgeSecret(github, {
      state: 'scheduled-for-deletion',
      deletedDate: new Date('2026-12-04T09:00:00Z'),
    });
    expect(check!.detail).toMatch(
      /scheduled for deletion on 2026-12-04T09:00:00.000Z.*aws secretsmanager restore-secret --secret-id afu9\/github/,
    );
  });

  it('words "could not read" apart from "does not exist"', () => {
    const [unreadable] = judgeSecret(github, {
      state: 'unreadable',
      failure: 'GetSecretValue: DecryptionFailure',
    });
    const [missing] = judgeSecret(github, { state: 'missing' });
    expect(unreadable).toMatchObject({
      status: 'NG',
      detail: expect.stringMatching(/^could not read it \(GetSecretValue: DecryptionFailure\)/),
    });
    expect(missing).toMatchObject({ status: 'NG', detail: expect.stringMatching(/^does not exist/) });
  });

  it("reports the orchestrator's own missing permission as DENIED, naming the action, not as NG", () => {
    // Act
    const [denied, ...rest] = judgeSecret(github, {
      state: 'access-denied',
      action: 'secretsmanager:GetSecretValue',
      failure: 'GetSecretValue: AccessDeniedException',
    });

    // Assess
    expect(rest).toEqual([]);
    expect(denied).toMatchObject({ kind: 'secret', subject: 'afu9/github', status: 'DENIED' });
    expect(denied!.detail).toMatch(
      /^the orchestrator's own role may not call secretsmanager:GetSecretValue on it \(GetSecretValue: AccessDeniedException\)/,
    );
    expect(denied!.detail).toContain('this says nothing about the secret itself');
    expect(denied!.detail).toContain(
      'the orchestrator stack grants secretsmanager:GetSecretValue on every configured secret',
    );
  });

  it.each([
    [
      'a KMS denial',
      'configured' as const,
      'kms:Decrypt',
      'kms:Decrypt on the KMS key that encrypts afu9/github, through Secrets Manager only (condition kms:ViaService',
    ],
    [
      'an RDS-managed secret',
      'rds-managed' as const,
      'secretsmanager:DescribeSecret',
      'grants secretsmanager:DescribeSecret on RDS-managed secrets (secret:rds!*)',
    ],
    [
      'a secret outside the environment config',
      'outside-config' as const,
      'secretsmanager:DescribeSecret',
      "is not in the environment config, so the orchestrator stack grants nothing on it: add it (its name and keys) to this environment's `secrets`",
    ],
  ])('says exactly what to grant for %s', (_case, origin, action, advice) => {
    // Act
    const [denied] = judgeSecret(
      { ...github, origin },
      { state: 'access-denied', action, failure: 'DescribeSecret: AccessDeniedException' },
    );

    // Assess
    expect(denied).toMatchObject({ status: 'DENIED' });
    expect(denied!.detail).toContain(advice);
  });

  it('marks a secret only the task definition names as outside the environment config, whatever its verdict', () => {
    // Prepare
    const outside: SecretRequirement = {
      ...github,
      displayName: 'afu9/deploy-key-Ab12Cd',
      requiredKeys: [],
      wholeValueUsed: true,
      referencedBy: ['container mcp-deploy'],
      origin: 'outside-config',
    };

    // Act
    const [ok] = judgeSecret(outside, { state: 'readable', secretString: 'a-real-deploy-key-9f8e7d' });
    const [missing] = judgeSecret(outside, { state: 'missing' });

    // Assess
    expect(ok).toMatchObject({
      status: 'OK',
      detail: 'outside the environment config (referenced only by container mcp-deploy): exists and is set',
    });
    expect(missing!.detail).toMatch(
      /^outside the environment config \(referenced only by container mcp-deploy\): does not exist/,
    );
  });

  it('judges a whole-value secret by its string', () => {
    const whole: SecretRequirement = { ...github, requiredKeys: [], optionalKeys: [], wholeValueUsed: true };
    expect(judgeSecret(whole, { state: 'readable', secretString: 'CHANGE_ME' })[0]!.status).toBe('NG');
    expect(judgeSecret(whole, { state: 'readable', secretString: '' })[0]!.status).toBe('NG');
    expect(judgeSecret(whole, { state: 'readable' })[0]!.detail).toContain('binary');
    expect(judgeSecret(whole, { state: 'readable', secretString: 'k8Qz1Lm' })[0]!.status).toBe('OK');
  });
});
