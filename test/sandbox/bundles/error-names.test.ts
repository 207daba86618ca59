/**
 * Step Functions routes Retry and Catch on the error name a function reports, and the Node.js
 * runtime reports `error.name`. For every name the definition routes on that a handler raises (not
 * the `States.*` names of Step Functions, nor those Lambda, the Lambda runtime or CodeBuild report),
 * a run of the bundled handlers under the template's roles shows a handler failing with exactly it.
 */
import { readFileSync } from 'node:fs';
import type { ApiFault } from '../../../sandbox/account/faults';
import { runSimulation, type SimulationRun } from '../../../sandbox/runner';
import { findScenario, type Scenario } from '../../../sandbox/scenarios';
import { definitionPath } from '../../../statemachine/definition';
import { withBundledFunctions } from '../../support/bundled-handlers';
import { currentTemplate, withoutGrant, writeVariant } from '../../support/template-variants';

interface AslState {
  readonly Retry?: readonly { readonly ErrorEquals: readonly string[] }[];
  readonly Catch?: readonly { readonly ErrorEquals: readonly string[] }[];
  readonly Branches?: readonly { readonly States: Readonly<Record<string, AslState>> }[];
}

/** Names reported by AWS services or the Lambda runtime, not thrown by the handlers' own code. */
const SERVICE_PREFIXES = ['States.', 'Lambda.', 'Sandbox.', 'CodeBuild.'];

function routedNames(states: Readonly<Record<string, AslState>>): string[] {
  return Object.values(states).flatMap((state) => [
    ...[...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((rule) => rule.ErrorEquals),
    ...(state.Branches ?? []).flatMap((branch) => routedNames(branch.States)),
  ]);
}

const definition = JSON.parse(readFileSync(definitionPath, 'utf8')) as {
  States: Record<string, AslState>;
};
const handlerErrorNames = [...new Set(routedNames(definition.States))]
  .filter((name) => !SERVICE_PREFIXES.some((prefix) => name.startsWith(prefix)))
  .sort();

function scenario(name: string): Scenario {
  const found = findScenario(name);
  if (!found)
    throw new Error(`This suite drives the handlers through the scenario ${name}, which no longer exists.`);
  return found;
}

/** The happy world, with AWS answering one call with an error. */
function happyWith(fault: ApiFault): Scenario {
  const happy = scenario('happy');
  return { ...happy, world: { ...happy.world, apiFaults: [fault] } };
}

/** Every error a Task's function reported in the run, with the state that reported it. */
function reportedErrors(run: SimulationRun): { name: string; state: string; cause: string }[] {
  return run.executions.flatMap((execution) =>
    execution.states.flatMap((state) =>
      state.invocations.flatMap((invocation) =>
        invocation.error
          ? [{ name: invocation.error.Error, state: state.name, cause: invocation.error.Cause }]
          : [],
      ),
    ),
  );
}

/** Every error a Task's function reported in a run of the scenario, by name. */
async function namesReportedIn(scenario: Scenario): Promise<string[]> {
  const run = await runSimulation({ scenario });
  return reportedErrors(run).map((error) => error.name);
}

/** The name of what the bundled function throws for this event, directly invoked. */
async function nameThrownBy(handlerName: string, event: unknown): Promise<string[]> {
  return withBundledFunctions(async (functions) => {
    try {
      await functions.handler(handlerName)(event);
      return [];
    } catch (error) {
      return [(error as Error).name];
    }
  });
}

interface Driver {
  /** What makes a handler raise the name. */
  readonly how: string;
  readonly names: () => Promise<string[]>;
}

function inScenario(how: string, scenario: () => Scenario): Driver {
  return { how, names: () => namesReportedIn(scenario()) };
}

/** A scenario (happy by default) under a template whose role for `handler` lacks `action`. */
function withoutGrantOf(handler: string, action: string, scenarioName = 'happy'): Driver {
  return {
    how: `the ${handler} role without ${action}`,
    names: async () => {
      const { path, template } = await currentTemplate();
      if (withoutGrant(template, handler, action) === 0) {
        throw new Error(
          `The ${handler} role grants no ${action} to take out; choose another grant for this driver.`,
        );
      }
      const run = await runSimulation({
        scenario: scenario(scenarioName),
        templatePath: writeVariant(path, template),
      });
      return reportedErrors(run).map((error) => error.name);
    },
  };
}

/** A run that makes a bundled handler raise each name: the account state or answer that causes it. */
const drivers: Readonly<Record<string, Driver>> = {
  DeploymentRejected: inScenario('a staging image sent to production', () => scenario('prod-guard')),
  DeploymentInProgress: inScenario('a second request while the first rolls out', () =>
    scenario('concurrent'),
  ),
  DiffUnreadable: inScenario('S3 answering GetObject of the diff with InvalidObjectState', () =>
    happyWith({
      service: 's3',
      command: 'GetObject',
      error: 'InvalidObjectState',
      message: "The operation is not valid for the object's storage class",
    }),
  ),
  SecretsInvalid: inScenario('a secret scheduled for deletion', () => scenario('secret-missing')),
  ImageNotFound: inScenario('an image never pushed', () => scenario('image-missing')),
  OrchestratorPermissionMissing: withoutGrantOf('verify-secrets', 'secretsmanager:GetSecretValue'),
  RolloutFailed: inScenario('ECS answering ListTasks of the rollout with ClusterNotFoundException', () =>
    happyWith({
      service: 'ecs',
      command: 'ListTasks',
      error: 'ClusterNotFoundException',
      message: 'Cluster not found.',
      times: 10,
    }),
  ),
  SmokeTestFailed: {
    how: 'a smoke test asked for an environment without smoke configuration',
    names: () =>
      nameThrownBy('smoke-test', {
        executionId: 'arn:aws:states:eu-central-1:123456789012:execution:Afu9Deployment:qa-stage-9d1e0f4',
        request: { environment: 'qa', clusterName: 'afu9-cluster', serviceName: 'afu9-control-center-qa' },
      }),
  },
  RollbackFailed: inScenario('ECS refusing the rollback update', () => scenario('rollback-fails')),
  UpdateFailed: inScenario('ECS refusing UpdateService with InvalidParameterException', () =>
    happyWith({
      service: 'ecs',
      command: 'UpdateService',
      error: 'InvalidParameterException',
      message: 'The container control-center does not have a container port 3000 defined.',
    }),
  ),
  NotificationFailed: inScenario('SNS answering Publish with NotFound', () =>
    happyWith({
      service: 'sns',
      command: 'Publish',
      error: 'NotFound',
      message: 'Topic does not exist',
      times: 10,
    }),
  ),
  StackUnobservable: withoutGrantOf('watch-stack', 'cloudformation:DescribeStacks', 'infra-release'),
  TransientAwsError: inScenario('ECS throttling DescribeServices once', () =>
    happyWith({
      service: 'ecs',
      command: 'DescribeServices',
      error: 'ThrottlingException',
      message: 'Rate exceeded',
    }),
  ),
};

describe('the bundled handlers raise every error name the state machine routes on', () => {
  it('finds handler-raised names in the definition (the suite is not vacuous)', () => {
    // Assess
    expect(handlerErrorNames).toEqual(
      expect.arrayContaining([
        'DeploymentRejected',
        'TransientAwsError',
        'UpdateFailed',
        'NotificationFailed',
      ]),
    );
  });

  it.each(handlerErrorNames)('%s: a bundled handler raises it under that exact name', async (name) => {
    // Arrange
    const driver = drivers[name];
    if (!driver) {
      throw new Error(
        `statemachine/deployment.asl.json routes on ${name}, but this suite knows no run that makes a handler raise it. ` +
          'Add a driver here, or remove the Retry/Catch if no handler raises it.',
      );
    }

    // Act
    const names = await driver.names();

    // Assess
    expect({ how: driver.how, names }).toEqual({
      how: driver.how,
      names: expect.arrayContaining([name]),
    });
  });
});
