import { UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { evaluate, type Caller } from '../../../sandbox/iam/evaluate';
import { UnsupportedPolicy } from '../../../sandbox/iam/policy';
import { accessDeniedError, authorizationRequestsFor } from '../../../sandbox/iam/sdk-authorization';
import { policiesFromTemplate } from '../../../sandbox/iam/template-policies';
import { ACCOUNT, REGION, SERVICE_ARN, lookups } from './command-cases';
import { FUNCTION_ARN, OTHER_RULE_ARN, RULE_ARN, TOPIC_ARN, resolve, template } from './template-fixture';

const SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/Afu9-UpdateServiceRole/Afu9-UpdateService`;
const ROLE: Caller = {
  kind: 'role',
  roleArn: `arn:aws:iam::${ACCOUNT}:role/Afu9-UpdateServiceRole`,
  sessionArn: SESSION_ARN,
  accountId: ACCOUNT,
};

describe('policiesFromTemplate', () => {
  const policies = policiesFromTemplate(template, resolve);

  it("gathers a role's inline, attached and managed policies under its logical id, intrinsics resolved", () => {
    const documents = policies.identityPolicies.get('UpdateServiceRole') ?? [];
    const actions = documents
      .flatMap((d) => (Array.isArray(d.Statement) ? d.Statement : [d.Statement]))
      .map((s) => s.Action);
    expect(actions.sort()).toEqual(['ecs:DescribeServices', 'ecs:ListTaskDefinitions', 'ecs:UpdateService']);
    expect(JSON.stringify(documents)).not.toMatch(/Fn::|"Ref"/);
    expect(policies.identityPolicies.get('RollbackRole')).toHaveLength(1);
  });

  it('reports managed policies the template does not define instead of guessing their content', () => {
    expect(policies.externalManagedPolicies.get('UpdateServiceRole')).toEqual([
      'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    ]);
  });

  it('authorizes the update-service call its grant covers, and denies it in AWS words once the grant is gone', () => {
    const command = new UpdateServiceCommand({
      cluster: 'afu9-cluster',
      service: 'afu9-control-center',
      taskDefinition: 'afu9-control-center:42',
    });
    const [request] = authorizationRequestsFor(command, lookups);
    const identityPolicies = policies.identityPolicies.get('UpdateServiceRole')!;
    expect(evaluate({ caller: ROLE, request: request!, identityPolicies }).decision).toBe('allowed');

    const withoutGrant = identityPolicies.filter((d) => !JSON.stringify(d).includes('ecs:UpdateService'));
    const denied = evaluate({ caller: ROLE, request: request!, identityPolicies: withoutGrant });
    expect(accessDeniedError('com.amazonaws.ecs', SESSION_ARN, request!, denied.reason)).toMatchObject({
      name: 'AccessDeniedException',
      message: `User: ${SESSION_ARN} is not authorized to perform: ecs:UpdateService on resource: ${SERVICE_ARN} because no identity-based policy allows the ecs:UpdateService action`,
    });
  });

  it('keys topic, queue and key policies by the logical id of what they attach to', () => {
    expect([...policies.resourcePolicies.keys()].sort()).toEqual([
      'DeadLetters',
      'DeploymentEventFunction',
      'Key',
      'Topic',
    ]);
  });

  it('leaves the enforceSSL-only topic policy refusing CloudWatch, as AWS would', () => {
    const result = evaluate({
      caller: { kind: 'service', service: 'cloudwatch.amazonaws.com' },
      request: { action: 'sns:Publish', resource: TOPIC_ARN, context: { 'aws:SecureTransport': true } },
      identityPolicies: [],
      resourcePolicy: policies.resourcePolicies.get('Topic')!,
    });
    expect(result.decision).toBe('implicit-deny');
  });

  it("turns every Lambda permission into a statement of the function's policy, scoped to its source rule", () => {
    const invoke = (sourceArn: string) =>
      evaluate({
        caller: { kind: 'service', service: 'events.amazonaws.com' },
        request: {
          action: 'lambda:InvokeFunction',
          resource: FUNCTION_ARN,
          context: { 'aws:SourceArn': sourceArn },
        },
        identityPolicies: [],
        resourcePolicy: policies.resourcePolicies.get('DeploymentEventFunction')!,
      }).decision;
    expect(invoke(RULE_ARN)).toBe('allowed');
    expect(invoke(OTHER_RULE_ARN)).toBe('allowed');
    expect(invoke(`arn:aws:events:${REGION}:${ACCOUNT}:rule/SomeoneElse`)).toBe('implicit-deny');
  });

  it('lets EventBridge send to the dead-letter queue only for the rule its policy names', () => {
    const send = (sourceArn: string) =>
      evaluate({
        caller: { kind: 'service', service: 'events.amazonaws.com' },
        request: {
          action: 'sqs:SendMessage',
          resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:Afu9-DeadLetters`,
          context: { 'aws:SourceArn': sourceArn },
        },
        identityPolicies: [],
        resourcePolicy: policies.resourcePolicies.get('DeadLetters')!,
      }).decision;
    expect(send(RULE_ARN)).toBe('allowed');
    expect(send(OTHER_RULE_ARN)).toBe('implicit-deny');
  });

  it('refuses an intrinsic the resolver leaves unresolved', () => {
    expect(() => policiesFromTemplate(template, () => undefined as unknown as string)).toThrow(
      /resolved to undefined, not a string/,
    );
  });

  it('refuses two policies that replace the same topic policy, since AWS keeps whichever lands last', () => {
    const twice = {
      Resources: {
        ...template.Resources,
        SecondTopicPolicy: { ...template.Resources.TopicPolicy },
      },
    };
    expect(() => policiesFromTemplate(twice, resolve)).toThrow(UnsupportedPolicy);
  });
});
