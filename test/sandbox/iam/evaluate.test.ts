import { evaluate, type AuthorizationRequest, type Caller } from '../../../sandbox/iam/evaluate';
import { UnsupportedPolicy, type PolicyDocument, type PolicyStatement } from '../../../sandbox/iam/policy';

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/UpdateServiceRole`;
const ROLE: Caller = {
  kind: 'role',
  roleArn: ROLE_ARN,
  sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/UpdateServiceRole/afu9-update-service`,
  accountId: ACCOUNT,
};
const CLOUDWATCH: Caller = { kind: 'service', service: 'cloudwatch.amazonaws.com' };
const SERVICE_ARN = `arn:aws:ecs:eu-central-1:${ACCOUNT}:service/afu9-cluster/afu9-control-center`;
const CLUSTER_ARN = `arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/afu9-cluster`;
const TOPIC_ARN = `arn:aws:sns:eu-central-1:${ACCOUNT}:Afu9Notifications`;
const KEY_ARN = `arn:aws:kms:eu-central-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

function policy(...statements: PolicyStatement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

function updateService(context: AuthorizationRequest['context'] = {}): AuthorizationRequest {
  return {
    action: 'ecs:UpdateService',
    resource: SERVICE_ARN,
    context: { 'ecs:cluster': CLUSTER_ARN, 'aws:SecureTransport': true, ...context },
  };
}

function decide(
  statement: PolicyStatement,
  request: AuthorizationRequest = updateService(),
): ReturnType<typeof evaluate>['decision'] {
  return evaluate({ caller: ROLE, request, identityPolicies: [policy(statement)] }).decision;
}

const allow = (extra: Partial<PolicyStatement> = {}): PolicyStatement => ({
  Effect: 'Allow',
  Action: 'ecs:UpdateService',
  Resource: SERVICE_ARN,
  ...extra,
});

describe('evaluate: actions and resources', () => {
  it('allows a role whose identity policy names the action and the resource', () => {
    expect(evaluate({ caller: ROLE, request: updateService(), identityPolicies: [policy(allow())] })).toEqual(
      {
        decision: 'allowed',
        reason: 'allowed by an identity-based policy',
      },
    );
  });

  it('denies implicitly, in AWS words, when no identity policy allows the action', () => {
    const result = evaluate({
      caller: ROLE,
      request: updateService(),
      identityPolicies: [policy(allow({ Action: 'ecs:DescribeServices' }))],
    });
    expect(result).toEqual({
      decision: 'implicit-deny',
      reason: 'no identity-based policy allows the ecs:UpdateService action',
    });
  });

  it('matches actions case-insensitively, with * and ? wildcards', () => {
    expect(decide(allow({ Action: 'ECS:updateservice' }))).toBe('allowed');
    expect(decide(allow({ Action: 'ecs:Update*' }))).toBe('allowed');
    expect(decide(allow({ Action: 'ecs:UpdateServic?' }))).toBe('allowed');
    expect(decide(allow({ Action: '*' }))).toBe('allowed');
    expect(decide(allow({ Action: 'ecs:Update?' }))).toBe('implicit-deny');
    expect(decide(allow({ Action: 'ecr:UpdateService' }))).toBe('implicit-deny');
  });

  it('matches resources case-sensitively, with * and ? wildcards', () => {
    expect(decide(allow({ Resource: `arn:aws:ecs:eu-central-1:${ACCOUNT}:service/afu9-cluster/*` }))).toBe(
      'allowed',
    );
    expect(
      decide(allow({ Resource: `arn:aws:ecs:*:${ACCOUNT}:service/afu9-cluster/afu9-control-cente?` })),
    ).toBe('allowed');
    expect(decide(allow({ Resource: SERVICE_ARN.toUpperCase() }))).toBe('implicit-deny');
    expect(decide(allow({ Resource: `${SERVICE_ARN}-staging` }))).toBe('implicit-deny');
  });

  it('treats ? as exactly one character, as the secret suffix grants rely on', () => {
    const secret = `arn:aws:secretsmanager:eu-central-1:${ACCOUNT}:secret:afu9/github-`;
    const read = (resource: string): AuthorizationRequest => ({
      action: 'secretsmanager:GetSecretValue',
      resource,
      context: {},
    });
    const grant = allow({ Action: 'secretsmanager:GetSecretValue', Resource: `${secret}??????` });
    expect(decide(grant, read(`${secret}Ab12Cd`))).toBe('allowed');
    expect(decide(grant, read(`${secret}admin-Ab12Cd`))).toBe('implicit-deny');
  });

  it('honours NotAction and NotResource', () => {
    expect(decide({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' })).toBe('allowed');
    expect(decide({ Effect: 'Allow', NotAction: 'ecs:*', Resource: '*' })).toBe('implicit-deny');
    expect(decide({ Effect: 'Allow', Action: 'ecs:*', NotResource: `${SERVICE_ARN}-staging` })).toBe(
      'allowed',
    );
    expect(decide({ Effect: 'Allow', Action: 'ecs:*', NotResource: SERVICE_ARN })).toBe('implicit-deny');
  });

  it('lets an explicit Deny win over any Allow', () => {
    const result = evaluate({
      caller: ROLE,
      request: updateService(),
      identityPolicies: [policy(allow()), policy({ Effect: 'Deny', Action: 'ecs:*', Resource: '*' })],
    });
    expect(result).toEqual({
      decision: 'explicit-deny',
      reason: 'an explicit deny in an identity-based policy',
    });
  });

  it('substitutes policy variables in resources, and a missing variable matches nothing', () => {
    const grant = allow({
      Resource: 'arn:aws:ecs:eu-central-1:${aws:PrincipalAccount}:service/afu9-cluster/*',
    });
    expect(decide(grant)).toBe('allowed');
    expect(
      decide(allow({ Resource: 'arn:aws:ecs:eu-central-1:${aws:NoSuchKey}:service/afu9-cluster/*' })),
    ).toBe('implicit-deny');
    expect(
      decide(
        allow({
          Resource: `arn:aws:ecs:eu-central-1:\${aws:NoSuchKey, '${ACCOUNT}'}:service/afu9-cluster/*`,
        }),
      ),
    ).toBe('allowed');
  });

  it('reads ${*} as a literal asterisk, not a wildcard', () => {
    expect(
      decide(allow({ Resource: `arn:aws:ecs:eu-central-1:${ACCOUNT}:service/afu9-cluster/\${*}` })),
    ).toBe('implicit-deny');
  });

  it('leaves policy variables literal in documents without Version 2012-10-17', () => {
    const request = updateService();
    const result = evaluate({
      caller: ROLE,
      request,
      identityPolicies: [
        {
          Statement: allow({
            Resource: 'arn:aws:ecs:eu-central-1:${aws:PrincipalAccount}:service/afu9-cluster/*',
          }),
        },
      ],
    });
    expect(result.decision).toBe('implicit-deny');
  });
});

describe('evaluate: condition operators', () => {
  const withCondition = (
    condition: PolicyStatement['Condition'],
    context: AuthorizationRequest['context'] = {},
  ) => decide(allow({ Condition: condition }), updateService(context));
  const family = `arn:aws:ecs:eu-central-1:${ACCOUNT}:task-definition/afu9-control-center`;

  it('StringEquals is exact and case-sensitive; StringNotEquals its negation', () => {
    expect(withCondition({ StringEquals: { 'ecs:cluster': CLUSTER_ARN } })).toBe('allowed');
    expect(withCondition({ StringEquals: { 'ecs:cluster': CLUSTER_ARN.toUpperCase() } })).toBe(
      'implicit-deny',
    );
    expect(withCondition({ StringEquals: { 'ecs:cluster': `${CLUSTER_ARN.slice(0, -3)}*` } })).toBe(
      'implicit-deny',
    );
    expect(withCondition({ StringNotEquals: { 'ecs:cluster': CLUSTER_ARN } })).toBe('implicit-deny');
    expect(
      withCondition({ StringNotEquals: { 'ecs:cluster': [`${CLUSTER_ARN}-2`, `${CLUSTER_ARN}-3`] } }),
    ).toBe('allowed');
  });

  it('StringEqualsIgnoreCase ignores case', () => {
    expect(withCondition({ StringEqualsIgnoreCase: { 'ecs:cluster': CLUSTER_ARN.toUpperCase() } })).toBe(
      'allowed',
    );
  });

  it('StringLike and StringNotLike use wildcards', () => {
    expect(withCondition({ StringLike: { 'ecs:cluster': '*:cluster/afu9-*' } })).toBe('allowed');
    expect(withCondition({ StringLike: { 'ecs:cluster': '*:cluster/other' } })).toBe('implicit-deny');
    expect(withCondition({ StringNotLike: { 'ecs:cluster': '*:cluster/afu9-*' } })).toBe('implicit-deny');
  });

  it('matches condition keys case-insensitively', () => {
    expect(withCondition({ StringEquals: { 'ECS:Cluster': CLUSTER_ARN } })).toBe('allowed');
  });

  it('ArnLike and ArnEquals match each ARN part with wildcards; the negations invert', () => {
    const revision = { 'ecs:task-definition': `${family}:7` };
    expect(withCondition({ ArnLike: { 'ecs:task-definition': `${family}:*` } }, revision)).toBe('allowed');
    expect(withCondition({ ArnEquals: { 'ecs:task-definition': `${family}:*` } }, revision)).toBe('allowed');
    expect(withCondition({ ArnLike: { 'ecs:task-definition': `${family}-other:*` } }, revision)).toBe(
      'implicit-deny',
    );
    expect(withCondition({ ArnNotLike: { 'ecs:task-definition': `${family}:*` } }, revision)).toBe(
      'implicit-deny',
    );
    expect(withCondition({ ArnNotEquals: { 'ecs:task-definition': `${family}-other:*` } }, revision)).toBe(
      'allowed',
    );
    // A wildcard in one part does not reach into the next.
    expect(
      withCondition(
        { ArnLike: { 'ecs:task-definition': `arn:aws:ecs:*:task-definition/afu9-control-center:7` } },
        revision,
      ),
    ).toBe('implicit-deny');
  });

  it('Bool compares true and false, as policies write them', () => {
    expect(withCondition({ Bool: { 'aws:SecureTransport': 'true' } })).toBe('allowed');
    expect(withCondition({ Bool: { 'aws:SecureTransport': false } })).toBe('implicit-deny');
  });

  it('Null tests whether a key is present', () => {
    expect(withCondition({ Null: { 'aws:RequestTag/afu9:execution-id': 'false' } })).toBe('implicit-deny');
    expect(
      withCondition(
        { Null: { 'aws:RequestTag/afu9:execution-id': 'false' } },
        { 'aws:RequestTag/afu9:execution-id': 'x' },
      ),
    ).toBe('allowed');
    expect(withCondition({ Null: { 'aws:RequestTag/afu9:execution-id': 'true' } })).toBe('allowed');
  });

  it('compares numbers with the Numeric operators', () => {
    const count = { 'ecs:count': 3 };
    expect(withCondition({ NumericEquals: { 'ecs:count': '3' } }, count)).toBe('allowed');
    expect(withCondition({ NumericNotEquals: { 'ecs:count': '3' } }, count)).toBe('implicit-deny');
    expect(withCondition({ NumericLessThan: { 'ecs:count': '4' } }, count)).toBe('allowed');
    expect(withCondition({ NumericLessThanEquals: { 'ecs:count': '2' } }, count)).toBe('implicit-deny');
    expect(withCondition({ NumericGreaterThan: { 'ecs:count': '2' } }, count)).toBe('allowed');
    expect(withCondition({ NumericGreaterThanEquals: { 'ecs:count': '3' } }, count)).toBe('allowed');
    expect(() => withCondition({ NumericEquals: { 'ecs:count': 'three' } }, count)).toThrow(
      UnsupportedPolicy,
    );
  });

  it('a missing key fails positive operators and satisfies negated ones and ...IfExists', () => {
    expect(withCondition({ StringEquals: { 'ecs:task-definition': `${family}:1` } })).toBe('implicit-deny');
    expect(withCondition({ StringNotEquals: { 'ecs:task-definition': `${family}:1` } })).toBe('allowed');
    expect(withCondition({ ArnLikeIfExists: { 'ecs:task-definition': `${family}:*` } })).toBe('allowed');
    expect(
      withCondition(
        { ArnLikeIfExists: { 'ecs:task-definition': `${family}:*` } },
        { 'ecs:task-definition': 'x' },
      ),
    ).toBe('implicit-deny');
  });

  it('ForAnyValue needs one matching value; ForAllValues needs all, and holds for none', () => {
    const tags = { 'aws:TagKeys': ['afu9:execution-id', 'team'] };
    expect(withCondition({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'team' } }, tags)).toBe('allowed');
    expect(withCondition({ 'ForAllValues:StringEquals': { 'aws:TagKeys': 'team' } }, tags)).toBe(
      'implicit-deny',
    );
    expect(withCondition({ 'ForAllValues:StringLike': { 'aws:TagKeys': ['afu9:*', 'team'] } }, tags)).toBe(
      'allowed',
    );
    expect(withCondition({ 'ForAllValues:StringEquals': { 'aws:TagKeys': 'team' } })).toBe('allowed');
    expect(withCondition({ 'ForAnyValue:StringEquals': { 'aws:TagKeys': 'team' } })).toBe('implicit-deny');
  });

  it('requires every operator and every key of a Condition to hold', () => {
    const condition = {
      ArnEquals: { 'ecs:cluster': CLUSTER_ARN },
      StringEquals: { 'aws:SourceAccount': ACCOUNT },
    };
    expect(withCondition(condition)).toBe('implicit-deny');
    expect(withCondition(condition, { 'aws:SourceAccount': ACCOUNT })).toBe('allowed');
  });

  it('substitutes policy variables in condition values', () => {
    expect(
      withCondition({ StringLike: { 'ecs:cluster': 'arn:aws:ecs:*:${aws:PrincipalAccount}:cluster/*' } }),
    ).toBe('allowed');
  });

  it('throws, naming the operator, for an operator it does not implement', () => {
    expect(() => withCondition({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } })).toThrow(
      /condition operator IpAddress is not supported/,
    );
    expect(() => withCondition({ DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } })).toThrow(
      UnsupportedPolicy,
    );
  });

  it('throws for an unknown operator even in a statement that does not apply to the request', () => {
    const unrelated: PolicyStatement = {
      Effect: 'Deny',
      Action: 's3:*',
      Resource: '*',
      Condition: { StringEqualsMaybe: { 'aws:SourceAccount': ACCOUNT } },
    };
    expect(() =>
      evaluate({ caller: ROLE, request: updateService(), identityPolicies: [policy(allow(), unrelated)] }),
    ).toThrow(UnsupportedPolicy);
  });

  it('refuses to judge an unqualified operator on a multivalued key', () => {
    expect(() =>
      withCondition({ StringEquals: { 'aws:TagKeys': 'team' } }, { 'aws:TagKeys': ['team'] }),
    ).toThrow(/without ForAnyValue: or ForAllValues:/);
  });
});

describe('evaluate: resource policies and principals', () => {
  const publish = (context: AuthorizationRequest['context'] = {}): AuthorizationRequest => ({
    action: 'sns:Publish',
    resource: TOPIC_ARN,
    context: { 'aws:SecureTransport': true, ...context },
  });
  const tlsOnly: PolicyStatement = {
    Sid: 'AllowPublishThroughSSLOnly',
    Effect: 'Deny',
    Principal: '*',
    Action: 'sns:Publish',
    Resource: TOPIC_ARN,
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
  const alarmArn = `arn:aws:cloudwatch:eu-central-1:${ACCOUNT}:alarm:Afu9-RollbackFailed`;
  const cloudwatchMayPublish: PolicyStatement = {
    Effect: 'Allow',
    Principal: { Service: 'cloudwatch.amazonaws.com' },
    Action: 'sns:Publish',
    Resource: TOPIC_ARN,
    Condition: {
      StringEquals: { 'aws:SourceAccount': ACCOUNT },
      ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:eu-central-1:${ACCOUNT}:alarm:Afu9-*` },
    },
  };

  it('refuses a service principal when the resource policy only denies (the enforceSSL-only topic policy)', () => {
    const result = evaluate({
      caller: CLOUDWATCH,
      request: publish({ 'aws:SourceArn': alarmArn, 'aws:SourceAccount': ACCOUNT }),
      identityPolicies: [],
      resourcePolicy: policy(tlsOnly),
    });
    expect(result).toEqual({
      decision: 'implicit-deny',
      reason: 'no resource-based policy allows the sns:Publish action',
    });
  });

  it('allows a service principal the resource policy names, under its source conditions', () => {
    const resourcePolicy = policy(tlsOnly, cloudwatchMayPublish);
    const fromOurAlarm = publish({ 'aws:SourceArn': alarmArn, 'aws:SourceAccount': ACCOUNT });
    const fromElsewhere = publish({
      'aws:SourceArn': `arn:aws:cloudwatch:eu-central-1:${ACCOUNT}:alarm:SomeoneElse`,
      'aws:SourceAccount': ACCOUNT,
    });
    expect(
      evaluate({ caller: CLOUDWATCH, request: fromOurAlarm, identityPolicies: [], resourcePolicy }).decision,
    ).toBe('allowed');
    expect(
      evaluate({ caller: CLOUDWATCH, request: fromElsewhere, identityPolicies: [], resourcePolicy }).decision,
    ).toBe('implicit-deny');
    expect(
      evaluate({
        caller: { kind: 'service', service: 'events.amazonaws.com' },
        request: fromOurAlarm,
        identityPolicies: [],
        resourcePolicy,
      }).decision,
    ).toBe('implicit-deny');
  });

  it('ignores identity policies for a service principal', () => {
    const result = evaluate({
      caller: CLOUDWATCH,
      request: publish(),
      identityPolicies: [policy({ Effect: 'Allow', Action: '*', Resource: '*' })],
    });
    expect(result.decision).toBe('implicit-deny');
  });

  it('applies a resource policy Deny to a role that its identity policy allows', () => {
    const result = evaluate({
      caller: ROLE,
      request: publish({ 'aws:SecureTransport': false }),
      identityPolicies: [policy({ Effect: 'Allow', Action: 'sns:Publish', Resource: TOPIC_ARN })],
      resourcePolicy: policy(tlsOnly),
    });
    expect(result).toEqual({
      decision: 'explicit-deny',
      reason: 'an explicit deny in a resource-based policy',
    });
  });

  it('allows a same-account role that the resource policy names itself, without an identity policy', () => {
    const namesRole = policy({
      Effect: 'Allow',
      Principal: { AWS: ROLE_ARN },
      Action: 'sns:Publish',
      Resource: TOPIC_ARN,
    });
    expect(
      evaluate({ caller: ROLE, request: publish(), identityPolicies: [], resourcePolicy: namesRole })
        .decision,
    ).toBe('allowed');
  });

  it('defers to identity policies when the resource policy names only the account', () => {
    for (const account of [ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`]) {
      const namesAccount = policy({
        Effect: 'Allow',
        Principal: { AWS: account },
        Action: 'sns:Publish',
        Resource: TOPIC_ARN,
      });
      expect(
        evaluate({ caller: ROLE, request: publish(), identityPolicies: [], resourcePolicy: namesAccount })
          .decision,
      ).toBe('implicit-deny');
    }
  });

  it('throws for NotPrincipal, a Principal in an identity policy, or none in a resource policy', () => {
    expect(() =>
      evaluate({
        caller: ROLE,
        request: publish(),
        identityPolicies: [],
        resourcePolicy: policy({
          Effect: 'Deny',
          NotPrincipal: { AWS: ACCOUNT },
          Action: '*',
          Resource: '*',
        }),
      }),
    ).toThrow(/NotPrincipal/);
    expect(() =>
      evaluate({
        caller: ROLE,
        request: publish(),
        identityPolicies: [policy({ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*' })],
      }),
    ).toThrow(/Principal/);
    expect(() =>
      evaluate({
        caller: ROLE,
        request: publish(),
        identityPolicies: [],
        resourcePolicy: policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
      }),
    ).toThrow(/must name one/);
  });

  it('throws for a resource in another account rather than judging half of a cross-account request', () => {
    expect(() =>
      evaluate({
        caller: ROLE,
        request: {
          action: 'ecr:DescribeImages',
          resource: 'arn:aws:ecr:eu-central-1:999999999999:repository/x',
          context: {},
        },
        identityPolicies: [policy({ Effect: 'Allow', Action: '*', Resource: '*' })],
      }),
    ).toThrow(/same-account requests only/);
  });
});

describe('evaluate: KMS key policies', () => {
  const decrypt: AuthorizationRequest = {
    action: 'kms:Decrypt',
    resource: KEY_ARN,
    context: { 'kms:ViaService': 'secretsmanager.eu-central-1.amazonaws.com' },
  };
  const identityAllows = policy({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY_ARN });
  const accountRoot: PolicyStatement = {
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
    Action: 'kms:*',
    Resource: '*',
  };

  it('counts identity policies when the key policy allows the account (the CDK default key policy)', () => {
    const result = evaluate({
      caller: ROLE,
      request: decrypt,
      identityPolicies: [identityAllows],
      resourcePolicy: policy(accountRoot),
      resourceKind: 'kms-key',
    });
    expect(result.decision).toBe('allowed');
  });

  it('refuses a role its identity policy allows when the key policy does not allow the account', () => {
    const onlyCloudWatch = policy({
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'kms:*',
      Resource: '*',
    });
    const result = evaluate({
      caller: ROLE,
      request: decrypt,
      identityPolicies: [identityAllows],
      resourcePolicy: onlyCloudWatch,
      resourceKind: 'kms-key',
    });
    expect(result).toEqual({
      decision: 'implicit-deny',
      reason: 'no resource-based policy allows the kms:Decrypt action',
    });
  });

  it('refuses a role the key policy enables when no identity policy allows the action', () => {
    const result = evaluate({
      caller: ROLE,
      request: decrypt,
      identityPolicies: [],
      resourcePolicy: policy(accountRoot),
      resourceKind: 'kms-key',
    });
    expect(result).toEqual({
      decision: 'implicit-deny',
      reason: 'no identity-based policy allows the kms:Decrypt action',
    });
  });

  it('allows a role the key policy names directly, and honours the key policy conditions', () => {
    const viaSecretsManager = policy({
      Effect: 'Allow',
      Principal: { AWS: ROLE_ARN },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-central-1.amazonaws.com' } },
    });
    const direct = { ...decrypt, context: {} };
    expect(
      evaluate({
        caller: ROLE,
        request: decrypt,
        identityPolicies: [],
        resourcePolicy: viaSecretsManager,
        resourceKind: 'kms-key',
      }).decision,
    ).toBe('allowed');
    expect(
      evaluate({
        caller: ROLE,
        request: direct,
        identityPolicies: [],
        resourcePolicy: viaSecretsManager,
        resourceKind: 'kms-key',
      }).decision,
    ).toBe('implicit-deny');
  });

  it('throws when a key has no key policy', () => {
    expect(() =>
      evaluate({
        caller: ROLE,
        request: decrypt,
        identityPolicies: [identityAllows],
        resourceKind: 'kms-key',
      }),
    ).toThrow(/always has a key policy/);
  });
});
