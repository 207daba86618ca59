/**
 * Infrastructure releases rehearsed through the real definition and the shipped bundles, under the
 * template's IAM: the paths a release takes when a stack fails in each of the ways it can (its build
 * before CloudFormation starts, CloudFormation's rollback that itself fails, a diff that cannot be
 * judged, the ECS deployment a stack starts), a stack whose diff needs a person (approved, denied,
 * expired), and the watch and notify functions refused without their grants.
 */
import { SANDBOX_APPROVER } from '../../../sandbox/run/approvals';
import type { SimulationRun } from '../../../sandbox/run/result';
import { runSimulation } from '../../../sandbox/runner';
import { findScenario, type Scenario, type ScenarioWorld } from '../../../sandbox/scenarios';
import { currentTemplate, withoutGrant, writeVariant } from '../../support/template-variants';

const NETWORK = 'Afu9NetworkStack';
const DATABASE = 'Afu9DatabaseStack';
const ECS = 'Afu9EcsStack';
const ALARMS = 'Afu9AlarmsStack';

const approverArn = `arn:aws:sts::123456789012:assumed-role/${SANDBOX_APPROVER.roleName}/${SANDBOX_APPROVER.sessionName}`;
/** The reason the infra-approval scenario's approver gives. */
const APPROVAL_REASON = findScenario('infra-approval')!.approver!.reason;

function release(): Scenario {
  return findScenario('infra-release')!;
}

/** The infra-release scenario in another world. */
function releaseIn(name: string, world: Partial<ScenarioWorld>): Scenario {
  const base = release();
  return { ...base, name, world: { ...base.world, ...world } };
}

function visited(run: SimulationRun): string[] {
  return run.executions[0]!.states.map((state) => state.name);
}

function ledgerItem(run: SimulationRun, matches: (item: Record<string, unknown>) => boolean) {
  const found = run.ledgerItems.find(matches);
  if (!found) throw new Error('The ledger holds no such item.');
  return found;
}

function deploymentRecordOf(run: SimulationRun, executionName: string) {
  return ledgerItem(
    run,
    (item) => String(item.sk).startsWith('DEPLOYMENT#') && item.deploymentId === executionName,
  );
}

function messageOf(run: SimulationRun): string {
  expect(run.document.notifications).toHaveLength(1);
  return run.document.notifications[0]!.message;
}

describe('infrastructure release', () => {
  it('infra-release: deploys the stacks in dependency order, then judges and smoke-tests the ECS deployment the ECS stack started', async () => {
    // Act
    const run = await runSimulation({ scenario: release() });

    // Assess
    const { document: doc } = run;
    expect(doc).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed', accessDenied: [] });
    expect(doc.stacks).toEqual([
      { name: NETWORK, verdict: 'PASS', approval: 'not-needed', status: 'deployed' },
      { name: DATABASE, verdict: 'PASS', approval: 'not-needed', status: 'deployed' },
      { name: ECS, verdict: 'PASS', approval: 'not-needed', status: 'deployed' },
    ]);
    const deployed = run.executions[0]!.states.filter((state) => state.name === 'DeployStack').map(
      (state) =>
        (state.invocations[0]!.input as { EnvironmentVariablesOverride: { Value: string }[] })
          .EnvironmentVariablesOverride[0]!.Value,
    );
    expect(deployed).toEqual([NETWORK, DATABASE, ECS]);
    // Only the ECS stack's update started an ECS deployment; it was judged by its id and smoke-tested.
    const watches = run.executions[0]!.states.filter((state) => state.name === 'WatchStack');
    const started = watches.map(
      (state) =>
        (state.invocations.at(-1)!.output as { ecsDeployment?: { deploymentId: string } }).ecsDeployment,
    );
    expect(started.slice(0, 2)).toEqual([undefined, undefined]);
    expect(started[2]?.deploymentId).toMatch(/^ecs-svc\/\d{19}$/);
    const polled = run.executions[0]!.states.filter((state) => state.name === 'PollStackDeployment');
    expect(
      polled.at(-1)!.invocations.at(-1)!.output as { status: string; deploymentId: string },
    ).toMatchObject({
      status: 'COMPLETED',
      deploymentId: started[2]!.deploymentId,
    });
    expect(visited(run)).toContain('SmokeTestStack');
    expect(doc.taskDefinitionAfter).not.toBe(doc.taskDefinitionBefore);
    expect(messageOf(run)).toMatch(
      new RegExp(`${NETWORK}: deployed\\n.*${DATABASE}: deployed\\n.*${ECS}: deployed`),
    );
  });

  it('infra-release: the ECS deployment the ECS stack started, once verified, is recorded as a verified image deployment is', async () => {
    // Act
    const run = await runSimulation({ scenario: release() });

    // Assess
    const { document: doc } = run;
    const execution = run.executions[0]!.name;
    const record = deploymentRecordOf(run, execution);
    expect(record).toMatchObject({
      outcome: 'succeeded',
      taskDefinitionBefore: doc.taskDefinitionBefore,
      taskDefinitionAfter: doc.taskDefinitionAfter,
      ecsDeploymentId: expect.stringMatching(/^ecs-svc\/\d{19}$/),
    });
    expect(ledgerItem(run, (item) => item.sk === 'LIVE' && item.pk === 'ENV#staging')).toMatchObject({
      taskDefinitionArn: doc.taskDefinitionAfter,
      deploymentId: execution,
      provedBy: 'succeeded',
    });
    expect(run.ledgerItems.some((item) => String(item.pk).startsWith('LOCK#'))).toBe(false);
    // The image parameters name what the stack's deployment runs, so the next `cdk deploy` keeps it.
    const parameters = Object.fromEntries(
      Object.entries(doc.imagesAfter).map(([container, image]) => [
        `/deploy/staging/${container}/image`,
        image,
      ]),
    );
    expect(Object.keys(parameters).length).toBeGreaterThan(0);
    expect(doc.imageParameters).toEqual(parameters);
  });

  it('infra-release, then a rollback request: the rollback leaves the revision the stack deployed for the one verified before it', async () => {
    // Arrange
    const base = release();
    const scenario: Scenario = {
      ...base,
      name: 'infra-release-then-rollback',
      followUps: [
        {
          afterState: 'NotifySucceeded',
          input: {
            environment: 'staging',
            action: 'rollback',
            reason: 'The new network ACL drops the health checks',
            requestedBy: 'jane.doe',
          },
          description: 'jane.doe, by hand, after the infrastructure release',
        },
      ],
    };

    // Act
    const run = await runSimulation({ scenario });

    // Assess
    const [infrastructure, rollback] = run.executions;
    expect(infrastructure?.currentState).toBe('Deployed');
    expect(rollback?.currentState).toBe('RolledBackAsRequested');
    const deployedByTheStack = deploymentRecordOf(run, infrastructure!.name).taskDefinitionAfter as string;
    const rollbackRecord = deploymentRecordOf(run, rollback!.name);
    expect(rollbackRecord).toMatchObject({
      outcome: 'rolled-back',
      taskDefinitionBefore: deployedByTheStack,
      taskDefinitionAfter: run.document.taskDefinitionBefore,
    });
    expect(run.servingTaskDefinition).toBe(run.document.taskDefinitionBefore);
    expect(ledgerItem(run, (item) => item.sk === 'LIVE' && item.pk === 'ENV#staging')).toMatchObject({
      taskDefinitionArn: run.document.taskDefinitionBefore,
      deploymentId: rollback!.name,
    });
  });

  it('a stack after the ECS stack fails: the ECS deployment verified before it is still recorded live, the release stack-failed', async () => {
    // Arrange
    const base = release();
    const scenario: Scenario = {
      ...base,
      name: 'infra-alarms-fail-after-ecs',
      world: {
        ...base.world,
        stackDeploys: {
          [ALARMS]: {
            kind: 'rollback',
            failingResource: {
              logicalId: 'CpuHighAlarm4C1D9E2F',
              type: 'AWS::CloudWatch::Alarm',
              operation: 'update',
              reason: 'Resource handler returned message: "Rate exceeded" (HandlerErrorCode: Throttling)',
            },
          },
        },
      },
      trigger: {
        kind: 'start',
        input: {
          environment: 'staging',
          action: 'infrastructure',
          stacks: [ECS, ALARMS],
          requestedBy: 'jane.doe',
        },
      },
    };

    // Act
    const run = await runSimulation({ scenario });

    // Assess
    const { document: doc } = run;
    expect(doc).toMatchObject({ status: 'FAILED', outcome: 'stack-failed' });
    expect(doc.stacks?.map((stack) => stack.status)).toEqual(['deployed', 'rolled-back']);
    expect(doc.taskDefinitionAfter).not.toBe(doc.taskDefinitionBefore);
    expect(deploymentRecordOf(run, run.executions[0]!.name)).toMatchObject({
      outcome: 'stack-failed',
      taskDefinitionAfter: doc.taskDefinitionAfter,
    });
    expect(ledgerItem(run, (item) => item.sk === 'LIVE' && item.pk === 'ENV#staging')).toMatchObject({
      taskDefinitionArn: doc.taskDefinitionAfter,
      deploymentId: run.executions[0]!.name,
    });
    expect(Object.keys(doc.imageParameters).length).toBeGreaterThan(0);
  });

  it('infra-stack-fails: CloudFormation rolls the database stack back; the ECS stack is not attempted and the message says so', async () => {
    // Act
    const run = await runSimulation({ scenario: findScenario('infra-stack-fails')! });

    // Assess
    const { document: doc } = run;
    expect(doc).toMatchObject({ status: 'FAILED', outcome: 'stack-failed', accessDenied: [] });
    expect(doc.stacks).toEqual([
      { name: NETWORK, verdict: 'PASS', approval: 'not-needed', status: 'deployed' },
      { name: DATABASE, verdict: 'PASS', approval: 'not-needed', status: 'rolled-back' },
      { name: ECS, verdict: null, approval: null, status: 'not-attempted' },
    ]);
    expect(visited(run).filter((name) => name === 'SynthAndDiffStack')).toHaveLength(2);
    expect(doc.taskDefinitionAfter).toBe(doc.taskDefinitionBefore);
    const message = messageOf(run);
    expect(message).toContain(`${NETWORK}: deployed`);
    expect(message).toContain(`${DATABASE}: FAILED`);
    expect(message).toContain(`${ECS}: not attempted`);
    expect(message).toContain('UPDATE_ROLLBACK_COMPLETE');
    expect(message).toContain('EndpointParameter617F6D67 CREATE_FAILED');
  });

  it('a deploy build that fails before CloudFormation starts: reported as the build failure, the stack unchanged, nothing after it attempted', async () => {
    // Act
    const run = await runSimulation({
      scenario: releaseIn('infra-build-fails', {
        stackDeploys: { [DATABASE]: { kind: 'build-fails-before-update' } },
      }),
    });

    // Assess
    expect(run.document.stacks?.map((stack) => stack.status)).toEqual([
      'deployed',
      'failed',
      'not-attempted',
    ]);
    const watch = run.executions[0]!.states.filter((state) => state.name === 'WatchStack').at(-1)!;
    expect(watch.invocations.at(-1)!.output).toMatchObject({
      status: 'FAILED',
      stackStatus: 'CREATE_COMPLETE',
    });
    expect(messageOf(run)).toMatch(
      /deploy build failed \(States\.TaskFailed.*before CloudFormation started an update/,
    );
  });

  it('a rollback that fails (UPDATE_ROLLBACK_FAILED): the release stops and tells people to continue the rollback', async () => {
    // Act
    const run = await runSimulation({
      scenario: releaseIn('infra-rollback-fails', {
        stackDeploys: {
          [NETWORK]: {
            kind: 'rollback-failed',
            failingResource: {
              logicalId: 'AlbSecurityGroup86A59E99',
              type: 'AWS::EC2::SecurityGroup',
              operation: 'update',
              reason: 'Resource handler returned message: "Rate exceeded" (HandlerErrorCode: Throttling)',
            },
          },
        },
      }),
    });

    // Assess
    expect(run.document).toMatchObject({ status: 'FAILED', outcome: 'stack-failed' });
    expect(run.document.stacks?.map((stack) => stack.status)).toEqual([
      'failed',
      'not-attempted',
      'not-attempted',
    ]);
    const message = messageOf(run);
    expect(message).toContain('UPDATE_ROLLBACK_FAILED');
    expect(message).toContain('continue-update-rollback');
  });

  it('a diff that cannot be judged on the middle stack (ERROR): stops before deploying it, as a failure', async () => {
    // Act
    const run = await runSimulation({
      scenario: releaseIn('infra-diff-error', {
        stackDiffFixtures: {
          ...release().world.stackDiffFixtures,
          ['{ecs-stack-dependency}']: 'error-synth-failure.txt',
        },
      }),
    });

    // Assess
    expect(run.document.stacks).toEqual([
      { name: NETWORK, verdict: 'PASS', approval: 'not-needed', status: 'deployed' },
      { name: DATABASE, verdict: 'ERROR', approval: 'not-needed', status: 'failed' },
      { name: ECS, verdict: null, approval: null, status: 'not-attempted' },
    ]);
    expect(visited(run).filter((name) => name === 'DeployStack')).toHaveLength(1);
  });

  it('infra-approval: the ECS stack waits for its approval, the approver approves it with a reason, it deploys; the approver is named', async () => {
    // Act
    const run = await runSimulation({ scenario: findScenario('infra-approval')! });

    // Assess
    const { document: doc } = run;
    expect(doc).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed', accessDenied: [] });
    expect(doc.stacks).toEqual([
      { name: NETWORK, verdict: 'PASS', approval: 'not-needed', status: 'deployed' },
      { name: DATABASE, verdict: 'PASS', approval: 'not-needed', status: 'deployed' },
      { name: ECS, verdict: 'BLOCKED', approval: 'approved', status: 'deployed' },
    ]);
    expect(doc.approvals).toEqual([
      expect.objectContaining({
        execution: run.executions[0]!.name,
        subject: { kind: 'stack', stackName: ECS },
        verdict: 'BLOCKED',
        status: 'approved',
        approver: expect.objectContaining({ arn: approverArn }),
        reason: APPROVAL_REASON,
      }),
    ]);
    // Nothing of the held stack ran before the decision; the two before it were deployed first.
    const states = visited(run);
    expect(states.indexOf('StackApproveOrDeny')).toBeLessThan(states.lastIndexOf('BaselineStack'));
    expect(states.filter((name) => name === 'DeployStack')).toHaveLength(3);
    expect(doc.taskDefinitionAfter).not.toBe(doc.taskDefinitionBefore);
    const [asked, final] = doc.notifications;
    expect(asked?.subject).toBe(`[AFU-9 staging] APPROVAL NEEDED: BLOCKED diff of stack ${ECS}`);
    expect(asked?.message).toContain(`is paused before ${ECS} is deployed`);
    expect(asked?.message).toContain(`${ECS} and the stacks after it are not deployed`);
    expect(asked?.message).toContain(`afu9-deploy approve ${run.executions[0]!.name} --reason`);
    expect(final?.message).toContain(`${NETWORK}: deployed\n`);
    expect(final?.message).toContain(
      `${ECS}: deployed; Approved by ${approverArn} at ${doc.approvals[0]!.decidedAt}, reason: ${APPROVAL_REASON}`,
    );
    expect(doc.notifications).toHaveLength(2);
  });

  it('infra-denied: the approver denies the ECS stack; the release ends blocked, nothing after the gate deployed, the decision named', async () => {
    // Act
    const run = await runSimulation({ scenario: findScenario('infra-denied')! });

    // Assess
    const { document: doc } = run;
    expect(doc).toMatchObject({ status: 'FAILED', outcome: 'blocked', accessDenied: [] });
    expect(doc.stacks).toEqual([
      { name: NETWORK, verdict: 'PASS', approval: 'not-needed', status: 'deployed' },
      { name: DATABASE, verdict: 'PASS', approval: 'not-needed', status: 'deployed' },
      { name: ECS, verdict: 'BLOCKED', approval: 'denied', status: 'not-approved' },
    ]);
    expect(visited(run).slice(-3)).toEqual([
      'StackApproveOrDeny',
      'NotifyStackNotApproved',
      'InfrastructureNotApproved',
    ]);
    expect(visited(run).filter((name) => name === 'DeployStack')).toHaveLength(2);
    expect(doc.taskDefinitionAfter).toBe(doc.taskDefinitionBefore);
    expect(doc.approvals).toEqual([
      expect.objectContaining({ subject: { kind: 'stack', stackName: ECS }, status: 'denied' }),
    ]);
    const final = doc.notifications.at(-1)!;
    expect(final.subject).toBe(`[AFU-9 staging] Infrastructure NOT APPROVED at ${ECS}: approval denied`);
    expect(final.message).toContain(`${NETWORK}: deployed`);
    expect(final.message).toContain(`${DATABASE}: deployed`);
    expect(final.message).toContain(`${ECS}: NOT APPROVED (not deployed); Denied by ${approverArn}`);
    expect(final.message).toMatch(
      /Reason: +Afu9EcsStack: Denied by .*, reason: the replacement drops live connections/,
    );
    expect(final.message).toMatch(/BLOCKING AWS::ECS::Service/);
  });

  it("simulate --deny replaces the scenario's approver: infra-approval ends denied", async () => {
    // Act
    const run = await runSimulation({
      scenario: findScenario('infra-approval')!,
      approvers: [{ decision: 'deny', reason: 'x' }],
    });

    // Assess
    expect(run.document).toMatchObject({ status: 'FAILED', outcome: 'blocked' });
    expect(run.document.stacks?.[2]).toMatchObject({ name: ECS, approval: 'denied', status: 'not-approved' });
    expect(run.document.approvals).toEqual([expect.objectContaining({ status: 'denied', reason: 'x' })]);
  });

  it('an approval nobody gives expires at the configured time: the release ends blocked, the ECS stack not deployed', async () => {
    // Act
    const base = findScenario('infra-approval')!;
    const { approver: _nobody, ...unanswered } = base;
    const run = await runSimulation({ scenario: { ...unanswered, name: 'infra-unanswered' } });

    // Assess
    expect(run.document).toMatchObject({ status: 'FAILED', outcome: 'blocked' });
    expect(run.document.stacks?.[2]).toEqual({
      name: ECS,
      verdict: 'BLOCKED',
      approval: 'expired',
      status: 'not-approved',
    });
    expect(visited(run)).toContain('ExpireStackApproval');
    expect(visited(run).filter((name) => name === 'DeployStack')).toHaveLength(2);
    expect(run.document.approvals).toEqual([expect.objectContaining({ status: 'expired' })]);
    expect(run.document.notifications.at(-1)!.message).toContain(
      `${ECS}: NOT APPROVED (not deployed); Approval expired at`,
    );
  });

  it('notify without dynamodb:Query: refused under the template; the message names the current decision, says the approvals were not read, and the notify alarm fires', async () => {
    // Arrange
    const { path, template } = await currentTemplate();
    expect(withoutGrant(template, 'notify', 'dynamodb:Query')).toBeGreaterThan(0);

    // Act
    const run = await runSimulation({
      scenario: findScenario('infra-denied')!,
      templatePath: writeVariant(path, template),
    });

    // Assess
    expect(run.document.outcome).toBe('blocked');
    expect(run.document.accessDenied).toContainEqual(
      expect.objectContaining({ caller: 'notify', action: 'dynamodb:Query' }),
    );
    const [, final, alarm] = run.document.notifications;
    expect(final?.subject).toContain(`NOT APPROVED at ${ECS}`);
    expect(final?.message).toContain(`${ECS}: NOT APPROVED (not deployed); Denied by ${approverArn}`);
    expect(final?.message).toContain('Approvals:         not read from the ledger');
    // The message went out; the step then failed, and the notify error alarm tells an operator.
    expect(alarm?.message).toContain('Afu9DeployOrchestrator-NotifyErrors');
  });

  it('the ECS deployment the stack started fails: the release fails (CloudFormation completed; ECS rolled the service back itself)', async () => {
    // Act
    const run = await runSimulation({
      scenario: releaseIn('infra-ecs-fails', { newRevision: { kind: 'crash-on-boot', exitCode: 1 } }),
    });

    // Assess
    expect(run.document).toMatchObject({ status: 'FAILED', outcome: 'stack-failed' });
    expect(visited(run)).not.toContain('SmokeTestStack');
    const message = messageOf(run);
    expect(message).toMatch(/started ECS deployment ecs-svc\/\d+, which ended (FAILED|ROLLED_BACK_BY_ECS)/);
    // What the stack says (CloudFormation completed) and what ECS did are both in the record.
    expect(run.document.stacks?.[2]).toMatchObject({ name: ECS, status: 'failed' });
  });

  it('the watch function without cloudformation:DescribeStacks: refused under the template, the release stops', async () => {
    // Arrange
    const { path, template } = await currentTemplate();
    expect(withoutGrant(template, 'watch-stack', 'cloudformation:DescribeStacks')).toBeGreaterThan(0);

    // Act
    const run = await runSimulation({ scenario: release(), templatePath: writeVariant(path, template) });

    // Assess
    expect(run.document.outcome).toBe('stack-failed');
    expect(run.document.accessDenied).toContainEqual(
      expect.objectContaining({ caller: 'watch-stack', action: 'cloudformation:DescribeStacks' }),
    );
    expect(visited(run)).not.toContain('DeployStack');
  });

  it('the state machine role without codebuild:StartBuild on the deploy project cannot deploy a stack', async () => {
    // Arrange
    const { path, template } = await currentTemplate();
    const policy = Object.values(template.Resources).find(
      (resource) =>
        resource.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(resource.Properties).includes('InfrastructureBuildsDeploy') &&
        JSON.stringify(resource.Properties).includes('codebuild:StartBuild'),
    );
    expect(policy).toBeDefined();
    const document = policy!.Properties!.PolicyDocument as {
      Statement: { Action: unknown; Resource: unknown }[];
    };
    for (const statement of document.Statement) {
      if (
        JSON.stringify(statement.Action).includes('codebuild:StartBuild') &&
        Array.isArray(statement.Resource)
      ) {
        statement.Resource = statement.Resource.filter(
          (resource) => !JSON.stringify(resource).includes('InfrastructureBuildsDeploy'),
        );
      }
    }

    // Act
    const run = await runSimulation({ scenario: release(), templatePath: writeVariant(path, template) });

    // Assess
    expect(run.document.outcome).toBe('stack-failed');
    expect(run.document.stacks?.[0]).toMatchObject({ name: NETWORK, status: 'failed' });
    expect(run.document.taskDefinitionAfter).toBe(run.document.taskDefinitionBefore);
  });
});
