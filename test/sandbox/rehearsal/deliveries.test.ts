/**
 * Service-to-service deliveries follow the template: Lambda's asynchronous retries and on-failure
 * destination (as the function's role), EventBridge's dead-letter queue (its queue policy), the
 * state machine role invoking the Task functions, and CloudWatch alarms notifying the topic (topic
 * policy and key policy). Each refused delivery is named in `accessDenied`.
 */
import { runSimulation, type SimulationRun } from '../../../sandbox/runner';
import { findScenario, type Scenario } from '../../../sandbox/scenarios';
import {
  currentTemplate,
  withoutGrant,
  withoutLambdaPermissions,
  writeVariant,
  type MutableTemplate,
  type PolicyStatementJson,
} from '../../support/template-variants';

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found) throw new Error(`The delivery suite runs the ${name} scenario, which no longer exists.`);
  return found;
}

async function rehearse(name: string, edit?: (template: MutableTemplate) => void): Promise<SimulationRun> {
  if (!edit) return runSimulation({ scenario: scenario(name) });
  const { path, template } = await currentTemplate();
  edit(template);
  return runSimulation({ scenario: scenario(name), templatePath: writeVariant(path, template) });
}

/** Sets properties of deployment-event's EventInvokeConfig. */
function withInvokeConfig(template: MutableTemplate, properties: Record<string, unknown>): void {
  const [, config] = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')[0]!;
  Object.assign(config.Properties!, properties);
}

/** Takes `actions` out of the state machine role's policy statements (a statement left empty goes). */
function withoutStateMachineGrants(template: MutableTemplate, actions: readonly string[]): void {
  const [, policy] = resourcesOfType(template, 'AWS::IAM::Policy').find(([id]) =>
    id.startsWith('StateMachineRole'),
  )!;
  const document = policy.Properties!.PolicyDocument as { Statement: PolicyStatementJson[] };
  document.Statement = document.Statement.flatMap((statement) => {
    const listed = Array.isArray(statement.Action) ? statement.Action : [statement.Action ?? ''];
    const kept = listed.filter((action) => !actions.includes(action));
    if (kept.length === listed.length) return [statement];
    return kept.length === 0 ? [] : [{ ...statement, Action: kept }];
  });
}

function resourcesOfType(template: MutableTemplate, type: string) {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** Drops the Allow statements of every resource policy of `type` whose principal is `service`. */
function withoutServiceStatements(template: MutableTemplate, type: string, service: string): void {
  let removed = 0;
  for (const [, policy] of resourcesOfType(template, type)) {
    const document = policy.Properties!.PolicyDocument as {
      Statement: (PolicyStatementJson & { Principal?: unknown })[];
    };
    const kept = document.Statement.filter(
      (statement) =>
        !(statement.Effect === 'Allow' && JSON.stringify(statement.Principal ?? '').includes(service)),
    );
    removed += document.Statement.length - kept.length;
    document.Statement = kept;
  }
  if (removed === 0) throw new Error(`No ${type} allows ${service}; nothing to take out.`);
}

function alarmMessages(run: SimulationRun) {
  return run.published
    .filter((message) => message.subject?.startsWith('ALARM: '))
    .map((message) => JSON.parse(message.message) as Record<string, unknown>);
}

function onFailureQueue(run: SimulationRun) {
  const entry = Object.entries(run.queueMessages).find(([name]) => name.includes('DeploymentEventFailures'));
  if (!entry) throw new Error('The stack has no on-failure queue of deployment-event.');
  return entry[1];
}

function deadLetterQueue(run: SimulationRun) {
  const entry = Object.entries(run.queueMessages).find(([name]) => name.includes('TriggersDeadLetters'));
  if (!entry) throw new Error('The stack has no trigger dead-letter queue.');
  return entry[1];
}

describe('Lambda asynchronous invocation of deployment-event', () => {
  it("after the template's two retries, sends Lambda's invocation record to the on-failure queue, and the queue's alarm notifies the topic", async () => {
    // Act
    const run = await rehearse('wake-up-fails');

    // Assess
    expect(run.document).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed', accessDenied: [] });
    const records = onFailureQueue(run).map((message) => JSON.parse(message.body) as unknown);
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) {
      expect(record).toMatchObject({
        version: '1.0',
        requestContext: {
          functionArn: expect.stringMatching(
            /:function:Afu9DeployOrchestrator-HandlersDeploymentEvent.*:\$LATEST$/,
          ),
          condition: 'RetriesExhausted',
          approximateInvokeCount: 3,
        },
        requestPayload: { source: 'aws.ecs' },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: { errorType: 'TypeError' },
      });
    }
    const alarms = alarmMessages(run);
    expect(alarms.map((alarm) => alarm.AlarmName)).toEqual(
      expect.arrayContaining([
        'Afu9DeployOrchestrator-DeploymentEventErrors',
        'Afu9DeployOrchestrator-DeploymentEventOnFailure',
      ]),
    );
    expect(
      alarms.find((alarm) => alarm.AlarmName === 'Afu9DeployOrchestrator-DeploymentEventOnFailure'),
    ).toMatchObject({
      NewStateValue: 'ALARM',
      OldStateValue: 'OK',
      Region: 'EU (Frankfurt)',
      AlarmArn:
        'arn:aws:cloudwatch:eu-central-1:123456789012:alarm:Afu9DeployOrchestrator-DeploymentEventOnFailure',
      Trigger: { MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Threshold: 1 },
    });
    expect(run.document.notifications).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          subject: 'ALARM: "Afu9DeployOrchestrator-DeploymentEventOnFailure" in EU (Frankfurt)',
        }),
      ]),
    );
  });

  it('loses the record, named in accessDenied, when the function role may not sqs:SendMessage to its destination', async () => {
    // Act
    const run = await rehearse('wake-up-fails', (template) => {
      expect(withoutGrant(template, 'deployment-event', 'sqs:SendMessage')).toBeGreaterThan(0);
    });

    // Assess
    expect(run.document).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed' });
    expect(run.document.accessDenied).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          caller: 'Lambda on-failure destination of deployment-event',
          action: 'sqs:SendMessage',
          resource: expect.stringMatching(/^arn:aws:sqs:eu-central-1:123456789012:.*DeploymentEventFailures/),
        }),
      ]),
    );
    expect(onFailureQueue(run)).toEqual([]);
    // DestinationDeliveryFailures is part of the errors alarm: it still pages.
    expect(alarmMessages(run).map((alarm) => alarm.AlarmName)).toContain(
      'Afu9DeployOrchestrator-DeploymentEventErrors',
    );
  });

  it.each([
    [{ MaximumRetryAttempts: 0 }, 'RetriesExhausted', 1],
    [{ MaximumEventAgeInSeconds: 120 }, 'EventAgeExceeded', 2],
  ])(
    'follows the EventInvokeConfig %j: gives up with %s after %i attempt(s)',
    async (properties, condition, attempts) => {
      // Act
      const run = await rehearse('wake-up-fails', (template) => withInvokeConfig(template, properties));

      // Assess
      const records = onFailureQueue(run).map((message) => JSON.parse(message.body) as unknown);
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) {
        expect(record).toMatchObject({ requestContext: { condition, approximateInvokeCount: attempts } });
      }
    },
  );
});

describe('EventBridge dead-letter queue', () => {
  it('parks a refused delivery in the target dead-letter queue, naming the rule, and the queue alarm notifies', async () => {
    // Act
    const run = await rehearse('happy', (template) => {
      expect(withoutLambdaPermissions(template, 'deployment-event')).toBeGreaterThan(0);
    });

    // Assess
    const parked = deadLetterQueue(run);
    expect(parked.length).toBeGreaterThan(0);
    expect(parked[0]!.attributes).toMatchObject({
      RULE_ARN: expect.stringMatching(/^arn:aws:events:eu-central-1:123456789012:rule\//),
      TARGET_ARN: expect.stringMatching(/:function:/),
      ERROR_CODE: 'NO_PERMISSIONS',
    });
    expect(JSON.parse(parked[0]!.body)).toMatchObject({ source: 'aws.ecs' });
    expect(alarmMessages(run).map((alarm) => alarm.AlarmName)).toEqual(
      expect.arrayContaining([
        'Afu9DeployOrchestrator-UndeliveredTriggers',
        'Afu9DeployOrchestrator-TriggerDeliveryFailed',
      ]),
    );
  });

  it('drops the event, named in accessDenied, when the queue policy does not let EventBridge send', async () => {
    // Act
    const run = await rehearse('happy', (template) => {
      withoutLambdaPermissions(template, 'deployment-event');
      withoutServiceStatements(template, 'AWS::SQS::QueuePolicy', 'events.amazonaws.com');
    });

    // Assess
    expect(deadLetterQueue(run)).toEqual([]);
    expect(run.document.accessDenied).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          caller: expect.stringMatching(/^EventBridge rule /),
          action: 'sqs:SendMessage',
          resource: expect.stringMatching(/TriggersDeadLetters/),
        }),
      ]),
    );
    // InvocationsFailedToBeSentToDlq is part of the delivery alarm.
    expect(alarmMessages(run).map((alarm) => alarm.AlarmName)).toContain(
      'Afu9DeployOrchestrator-TriggerDeliveryFailed',
    );
  });
});

describe('CloudWatch alarm → topic', () => {
  it('is refused, named in accessDenied, when the topic policy has no statement for CloudWatch', async () => {
    // Act
    const run = await rehearse('wake-up-fails', (template) => {
      withoutServiceStatements(template, 'AWS::SNS::TopicPolicy', 'cloudwatch.amazonaws.com');
    });

    // Assess
    expect(run.document).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed' });
    expect(alarmMessages(run)).toEqual([]);
    expect(run.document.accessDenied).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          caller: 'CloudWatch alarm Afu9DeployOrchestrator-DeploymentEventOnFailure',
          action: 'sns:Publish',
          decision: 'implicit-deny',
        }),
      ]),
    );
  });

  it("is refused, named in accessDenied, when the topic key's policy does not let CloudWatch use the key", async () => {
    // Act
    const run = await rehearse('wake-up-fails', (template) => {
      for (const [, key] of resourcesOfType(template, 'AWS::KMS::Key')) {
        const policy = key.Properties!.KeyPolicy as {
          Statement: (PolicyStatementJson & { Principal?: unknown })[];
        };
        policy.Statement = policy.Statement.filter(
          (statement) => !JSON.stringify(statement.Principal ?? '').includes('cloudwatch.amazonaws.com'),
        );
      }
    });

    // Assess
    expect(alarmMessages(run)).toEqual([]);
    expect(run.document.accessDenied).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          caller: 'CloudWatch alarm Afu9DeployOrchestrator-DeploymentEventOnFailure',
          action: 'kms:GenerateDataKey',
          resource: expect.stringMatching(/^arn:aws:kms:eu-central-1:123456789012:key\//),
        }),
      ]),
    );
  });

  it('lists an alarm on a metric the sandbox does not produce as not evaluated, with the reason', async () => {
    // Act
    const run = await rehearse('happy');

    // Assess
    expect(run.document.alarms).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'Afu9DeployOrchestrator-ExecutionsTimedOut',
          notEvaluated: 'the sandbox does not produce AWS/States/ExecutionsTimedOut',
        }),
      ]),
    );
    expect(alarmMessages(run)).toEqual([]);
  });
});

describe('Step Functions → Task functions', () => {
  it('fails the state with Lambda.AWSLambdaException when the state machine role may not invoke the function', async () => {
    // Act
    const run = await rehearse('happy', (template) => {
      const [, policy] = resourcesOfType(template, 'AWS::IAM::Policy').find(([id]) =>
        id.startsWith('StateMachineRole'),
      )!;
      const document = policy.Properties!.PolicyDocument as { Statement: PolicyStatementJson[] };
      const before = document.Statement.length;
      document.Statement = document.Statement.filter(
        (statement) => !JSON.stringify(statement.Resource ?? '').includes('HandlersResolveRequest'),
      );
      expect(document.Statement.length).toBe(before - 1);
    });

    // Assess
    const resolve = run.executions[0]!.states.find((state) => state.name === 'ResolveRequest');
    expect(resolve?.invocations[0]?.error).toMatchObject({
      Error: 'Lambda.AWSLambdaException',
      Cause: expect.stringMatching(
        /is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:.*HandlersResolveRequest.*Error Code: AccessDeniedException/,
      ),
    });
    expect(run.document.accessDenied).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ caller: 'state machine Afu9Deployment', action: 'lambda:InvokeFunction' }),
      ]),
    );
    expect(run.document.outcome).not.toBe('deployed');
  });

  it('fails the diff build with CodeBuild.AWSCodeBuildException when the role may not codebuild:StartBuild', async () => {
    // Act
    const run = await rehearse('happy', (template) =>
      withoutStateMachineGrants(template, ['codebuild:StartBuild']),
    );

    // Assess
    const diff = run.executions[0]!.states.find((state) => state.name === 'RunCdkDiff');
    expect(diff?.invocations[0]?.error).toMatchObject({
      Error: 'CodeBuild.AWSCodeBuildException',
      Cause: expect.stringMatching(
        /is not authorized to perform: codebuild:StartBuild on resource: arn:aws:codebuild:/,
      ),
    });
    expect(run.document.accessDenied).toEqual([
      expect.objectContaining({ caller: 'state machine Afu9Deployment', action: 'codebuild:StartBuild' }),
    ]);
  });

  it('refuses to rehearse a stack whose state machine AWS would not create: no grant for the managed CodeBuild rule', async () => {
    // Act
    const attempt = rehearse('happy', (template) => withoutStateMachineGrants(template, ['events:PutRule']));

    // Assess
    await expect(attempt).rejects.toThrow(
      /AWS would refuse to create the state machine: .*not authorized to create managed-rule .*events:PutRule/,
    );
  });
});
