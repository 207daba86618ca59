/**
 * The rehearsal runs under the synthesized template's rules: every call a bundled function makes is
 * authorized against its role's policies, so a grant the stack forgot fails the rehearsal with the
 * AccessDenied AWS would answer, naming the action, instead of surfacing on the first real deployment.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { CliIo } from '../../../cli/command';
import { main } from '../../../cli/main';
import { environments } from '../../support/afu9-config';
import { deployStack, readStackAssembly } from '../../../sandbox/assembly/cloud-assembly';
import { evaluate, type Caller } from '../../../sandbox/iam/evaluate';
import { authorizationRequestsFor, type AccountLookups } from '../../../sandbox/iam/sdk-authorization';
import type { SimulationDocument } from '../../../sandbox/run/result';
import { runSimulation, type SimulationRun } from '../../../sandbox/runner';
import { findScenario, type Scenario } from '../../../sandbox/scenarios';
import {
  currentTemplate,
  withoutGrant,
  withoutLambdaPermissions,
  withoutTriggerRoleGrant,
  writeVariant,
} from '../../support/template-variants';

function happy(): Scenario {
  const found = findScenario('happy');
  if (!found) throw new Error('The rehearsal suite runs the happy scenario, which no longer exists.');
  return found;
}

async function simulate(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: {},
    stdin: Readable.from(['']),
  };
  const code = await main(['simulate', ...args], io);
  return { code, stdout, stderr };
}

async function simulateJson(args: readonly string[]): Promise<{ code: number; doc: SimulationDocument }> {
  const { code, stdout } = await simulate([...args, '--json']);
  return { code, doc: JSON.parse(stdout) as SimulationDocument };
}

/** A template like the current one, with `action` taken out of the role of the function running `handler`. */
async function templateWithout(handler: string, action: string): Promise<string> {
  const { path, template } = await currentTemplate();
  const removed = withoutGrant(template, handler, action);
  if (removed === 0) throw new Error(`The ${handler} role has no statement granting ${action} to take out.`);
  return writeVariant(path, template);
}

describe('simulate --template', () => {
  it('refuses a template without its bundles beside it: exit 2, saying how to synthesize one', async () => {
    // Arrange
    const { template } = await currentTemplate();
    const lonely = join(mkdtempSync(join(tmpdir(), 'afu9-lonely-')), 'Afu9DeployOrchestrator.template.json');
    writeFileSync(lonely, JSON.stringify(template));

    // Act
    const result = await simulate(['--template', lonely]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /cannot be rehearsed: The bundle of [a-z-]+ is missing: .*cdk synth -o <dir>/,
    );
    expect(result.stdout).toBe('');
  });

  it('refuses a path where there is no template: exit 2 with the usage', async () => {
    // Act
    const result = await simulate(['--template', join(tmpdir(), 'no-such-template.json')]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/There is no template at .*no-such-template\.json/);
  });
});

/** Each (handler, action) a function of the run was authorized for; deliveries by EventBridge left out. */
function functionGrants(run: SimulationRun): [handler: string, action: string][] {
  const handlers = new Set(deployedHandlers);
  return [
    ...new Set(
      run.authorizations
        .filter((record) => handlers.has(record.caller))
        .map((record) => `${record.caller} ${record.action}`),
    ),
  ].map((grant) => grant.split(' ') as [string, string]);
}

const deployedHandlers = [
  'resolve-request',
  'analyze-diff',
  'verify-secrets',
  'update-service',
  'register-wait',
  'poll-stabilization',
  'smoke-test',
  'rollback',
  'notify',
  'deployment-event',
];

describe('a template whose resolve-request role lacks ecr:DescribeImages', () => {
  it('makes a release refused at its assembly, AccessDenied named, nothing deployed', async () => {
    // Arrange
    const template = await templateWithout('resolve-request', 'ecr:DescribeImages');

    // Act
    const { code, doc } = await simulateJson(['--scenario', 'release', '--template', template]);

    // Assess
    expect(code).toBe(1);
    expect(doc).toMatchObject({ status: 'FAILED', outcome: 'failed-before-change', rolledBack: false });
    expect(doc.taskDefinitionAfter).toBe(doc.taskDefinitionBefore);
    expect(doc.accessDenied).toContainEqual(
      expect.objectContaining({
        caller: 'resolve-request',
        action: 'ecr:DescribeImages',
        resource: expect.stringMatching(/^arn:aws:ecr:eu-central-1:123456789012:repository\/afu9\//),
      }),
    );
    expect(doc.notifications.map((n) => n.message).join('\n')).toContain(
      'Grant the resolve-request function ecr:DescribeImages',
    );
  });
});

describe('a template whose update-service role lacks ecs:UpdateService', () => {
  it('makes the happy rehearsal end refused, AccessDenied named, nothing deployed', async () => {
    // Arrange
    const template = await templateWithout('update-service', 'ecs:UpdateService');

    // Act
    const { code, doc } = await simulateJson(['--scenario', 'happy', '--template', template]);

    // Assess
    expect(code).toBe(1);
    expect(doc).toMatchObject({ status: 'FAILED', outcome: 'failed-before-change', rolledBack: false });
    expect(doc.taskDefinitionAfter).toBe(doc.taskDefinitionBefore);
    expect(doc.accessDenied).toEqual([
      expect.objectContaining({
        caller: 'update-service',
        action: 'ecs:UpdateService',
        resource: expect.stringMatching(/^arn:aws:ecs:eu-central-1:123456789012:service\/afu9-cluster\//),
        decision: 'implicit-deny',
      }),
    ]);
    expect(doc.notifications.map((notification) => notification.message).join('\n')).toMatch(
      /AccessDeniedException.*not authorized to perform: ecs:UpdateService/s,
    );
  });
});

describe('a denied call the workflow recovers from', () => {
  it('still fails the rehearsal: deployed, but exit 1 with the denial named', async () => {
    // Arrange: the wake-up function may not complete the wait; the safety-net poll carries on.
    const template = await templateWithout('deployment-event', 'states:SendTaskSuccess');

    // Act
    const { code, doc } = await simulateJson(['--scenario', 'happy', '--template', template]);

    // Assess
    expect(doc).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed' });
    expect(doc.accessDenied).toContainEqual(
      expect.objectContaining({ caller: 'deployment-event', action: 'states:SendTaskSuccess' }),
    );
    expect(code).toBe(1);
  });
});

describe("EventBridge's deliveries under the template's rules", () => {
  it('the wake-up function without its Lambda permissions: every wake-up refused and named, the poll carries on, exit 1', async () => {
    // Arrange
    const { path, template } = await currentTemplate();
    expect(withoutLambdaPermissions(template, 'deployment-event')).toBeGreaterThan(0);

    // Act
    const { code, doc } = await simulateJson([
      '--scenario',
      'happy',
      '--template',
      writeVariant(path, template),
    ]);

    // Assess
    expect(doc).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed' });
    expect(doc.accessDenied.length).toBeGreaterThan(0);
    for (const denied of doc.accessDenied) {
      expect(denied).toMatchObject({
        caller: expect.stringMatching(/^EventBridge rule /),
        action: 'lambda:InvokeFunction',
        resource: expect.stringMatching(/^arn:aws:lambda:eu-central-1:123456789012:function:/),
      });
    }
    expect(code).toBe(1);
  });

  it('the trigger role without states:StartExecution: a push starts nothing, the refusal named', async () => {
    // Arrange
    const { path, template } = await currentTemplate();
    expect(withoutTriggerRoleGrant(template, 'states:StartExecution')).toBeGreaterThan(0);

    // Act
    const { code, doc } = await simulateJson([
      '--scenario',
      'duplicate-push',
      '--template',
      writeVariant(path, template),
    ]);

    // Assess
    expect(doc.executions).toEqual([]);
    expect(doc.accessDenied).toContainEqual(
      expect.objectContaining({
        caller: expect.stringMatching(/^EventBridge rule .*ImagePushed/),
        action: 'states:StartExecution',
        resource: 'arn:aws:states:eu-central-1:123456789012:stateMachine:Afu9Deployment',
      }),
    );
    expect(code).toBe(1);
  });
});

describe('every grant the happy path uses', () => {
  let baseline: SimulationRun;

  beforeAll(async () => {
    baseline = await runSimulation({ scenario: happy() });
  });

  it('is allowed by the current template: the happy rehearsal deploys without a denied call', () => {
    // Assess
    expect(baseline.document).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed', accessDenied: [] });
    expect(new Set(functionGrants(baseline).map(([handler]) => handler))).toEqual(
      new Set([
        'resolve-request',
        'analyze-diff',
        'verify-secrets',
        'update-service',
        'register-wait',
        'poll-stabilization',
        'smoke-test',
        'notify',
        'deployment-event',
      ]),
    );
  });

  it('fails the rehearsal with AccessDenied naming the action when it is taken out', async () => {
    // Arrange
    const grants = functionGrants(baseline);

    // Act
    const unnoticed: string[] = [];
    for (const [handler, action] of grants) {
      const run = await runSimulation({
        scenario: happy(),
        templatePath: await templateWithout(handler, action),
      });
      const named = run.document.accessDenied.some(
        (denied) => denied.caller === handler && denied.action === action,
      );
      if (!named) {
        unnoticed.push(
          `${handler} without ${action}: ${run.document.outcome}, denied ${JSON.stringify(run.document.accessDenied)}`,
        );
      }
    }

    // Assess
    expect(grants.length).toBeGreaterThanOrEqual(15);
    expect(unnoticed).toEqual([]);
  });
});

describe('a configured secret that does not exist, under the template', () => {
  it('is readable as "not found", not refused: AWS authorizes a missing secret against its bare name, which the stack grants', async () => {
    // Arrange
    const { path } = await currentTemplate();
    const stack = deployStack(readStackAssembly(path), '123456789012', 'eu-central-1');
    const verifySecrets = stack.functions.find((fn) => fn.handlerName === 'verify-secrets');
    if (!verifySecrets) throw new Error('The stack has no verify-secrets function.');
    const nothingExists: AccountLookups = {
      accountId: stack.accountId,
      region: stack.region,
      secretArn: () => undefined,
      secretKmsKeyArn: () => undefined,
      topicKmsKeyArn: () => undefined,
      bucketKmsKeyArn: () => undefined,
      latestTaskDefinitionRevision: () => undefined,
      latestActiveTaskDefinitionArn: () => undefined,
      stackArn: () => undefined,
      taskTokenIssuer: () => undefined,
    };
    const caller: Caller = {
      kind: 'role',
      roleArn: verifySecrets.roleArn,
      sessionArn: `arn:aws:sts::${stack.accountId}:assumed-role/${verifySecrets.roleName}/verify-secrets`,
      accountId: stack.accountId,
    };
    const configured = [
      ...new Set(Object.values(environments).flatMap((env) => env.secrets.map((secret) => secret.name))),
    ];

    // Act
    const decisions = configured.flatMap((name) =>
      [new DescribeSecretCommand({ SecretId: name }), new GetSecretValueCommand({ SecretId: name })].flatMap(
        (command) =>
          authorizationRequestsFor(command, nothingExists).map(
            (request) =>
              `${request.action} ${request.resource}: ${
                evaluate({ caller, request, identityPolicies: verifySecrets.policies }).decision
              }`,
          ),
      ),
    );

    // Assess
    expect(decisions.length).toBeGreaterThanOrEqual(2 * configured.length);
    expect(decisions.filter((decision) => !decision.endsWith(': allowed'))).toEqual([]);
  });
});
