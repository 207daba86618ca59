/**
 * Scenarios are written once, for any configuration: their requests speak of `staging` (the
 * environment a rehearsal deploys to: the first configured one that needs no allow flag) and
 * `production` (the first one that does), with the tag prefixes `stage-` and `prod-`, and name
 * configured resources by the stand-ins of `ConfiguredName`. Before a run, this puts the
 * configuration's own names in. For AFU-9's configuration the result is the scenario as written.
 */
import type { EnvironmentConfig, Environments } from '../../lambdas/domain/environments';
import type { StartDeploymentInput } from '../../lambdas/domain/workflow-state';
import { BodyExpectation } from '../../lambdas/domain/smoke';
import { ConfiguredName, type Scenario } from './index';

/** How the scenarios' words map onto one configuration. */
interface Vocabulary {
  readonly staging: EnvironmentConfig;
  readonly production: EnvironmentConfig | undefined;
}

const REFERENCE_PREFIXES = { staging: 'stage-', production: 'prod-' } as const;

/** The environment a rehearsal deploys to: the first that needs no allow flag, else the first. */
export function rehearsalEnvironment(environments: Environments): EnvironmentConfig {
  const all = Object.values(environments);
  const chosen = all.find((environment) => !environment.requiresAllowFlag) ?? all[0];
  if (!chosen) throw new Error('The configuration has no environment to rehearse a deployment in.');
  return chosen;
}

function vocabularyOf(environments: Environments): Vocabulary {
  return {
    staging: rehearsalEnvironment(environments),
    production: Object.values(environments).find((environment) => environment.requiresAllowFlag),
  };
}

function environmentFor(scenario: Scenario, word: 'staging' | 'production', words: Vocabulary) {
  const environment = words[word];
  if (!environment) {
    throw new Error(
      `Scenario ${scenario.name} sends a request to an environment that requires the allow flag; the configuration ` +
        'has none (no environment sets "requiresAllowFlag": true). Pick another scenario.',
    );
  }
  return environment;
}

function tagFor(tag: string, scenario: Scenario, words: Vocabulary): string {
  for (const word of ['staging', 'production'] as const) {
    const prefix = REFERENCE_PREFIXES[word];
    if (tag.startsWith(prefix)) {
      return environmentFor(scenario, word, words).imageTagPrefix + tag.slice(prefix.length);
    }
  }
  return tag;
}

function inputFor(
  input: StartDeploymentInput,
  scenario: Scenario,
  words: Vocabulary,
  names: Readonly<Record<string, string>>,
): StartDeploymentInput {
  const word = input.environment === 'production' ? 'production' : 'staging';
  return {
    ...input,
    environment: environmentFor(scenario, word, words).name,
    ...(input.imageTag !== undefined ? { imageTag: tagFor(input.imageTag, scenario, words) } : {}),
    ...(Array.isArray(input.stacks) ? { stacks: input.stacks.map((stack) => withNames(stack, names)) } : {}),
    ...(input.images !== undefined
      ? {
          images: Object.fromEntries(
            Object.entries(input.images).map(([container, reference]) => [
              withNames(container, names),
              tagFor(reference, scenario, words),
            ]),
          ),
        }
      : {}),
  };
}

function readinessCheck(environment: EnvironmentConfig) {
  return environment.smoke.checks.find((check) => check.expectBody === BodyExpectation.ready);
}

/** The rehearsal environment's ECS stack and the chain of stacks below it (first dependencies), when configured. */
function stackChain(environment: EnvironmentConfig): Readonly<Record<string, string>> {
  const stacks = environment.infrastructure?.stacks ?? [];
  const named = (name: string | undefined) => stacks.find((stack) => stack.name === name);
  const ecs = named(environment.stackName);
  const dependency = named(ecs?.dependsOn[0]);
  const base = named(dependency?.dependsOn[0]);
  return {
    ...(ecs && { [ConfiguredName.ecsStack]: ecs.name }),
    ...(dependency && { [ConfiguredName.ecsStackDependency]: dependency.name }),
    ...(base && { [ConfiguredName.baseStack]: base.name }),
  };
}

/** The stand-ins' values for one configuration. */
function namesOf(words: Vocabulary): Readonly<Record<string, string>> {
  const primary = words.staging.containers.find((container) => container.primary);
  const secret = words.staging.secrets.at(-1);
  const readiness = readinessCheck(words.staging);
  const sidecar = words.staging.containers.find((container) => !container.primary);
  return {
    [ConfiguredName.primaryRepository]: primary?.repository ?? ConfiguredName.primaryRepository,
    [ConfiguredName.secret]: secret?.name ?? ConfiguredName.secret,
    [ConfiguredName.readinessPath]: readiness?.path ?? ConfiguredName.readinessPath,
    [ConfiguredName.sidecarContainer]: sidecar?.name ?? ConfiguredName.sidecarContainer,
    ...stackChain(words.staging),
  };
}

function withNames(text: string, names: Readonly<Record<string, string>>): string {
  return Object.entries(names).reduce((result, [standIn, name]) => result.split(standIn).join(name), text);
}

function triggerFor(
  scenario: Scenario,
  words: Vocabulary,
  names: Readonly<Record<string, string>>,
): Scenario['trigger'] {
  const trigger = scenario.trigger;
  switch (trigger.kind) {
    case 'start':
      return { kind: 'start', input: inputFor(trigger.input, scenario, words, names) };
    case 'push':
      return {
        kind: 'push',
        repository: withNames(trigger.repository, names),
        tag: tagFor(trigger.tag, scenario, words),
      };
    case 'release':
      return {
        kind: 'release',
        tag: tagFor(trigger.tag, scenario, words),
        containers:
          trigger.containers === 'all'
            ? 'all'
            : trigger.containers.map((container) => withNames(container, names)),
      };
  }
}

/** The scenario with the configuration's environments, tags and names in it. */
export function scenarioForConfig(scenario: Scenario, environments: Environments): Scenario {
  const words = vocabularyOf(environments);
  const names = namesOf(words);
  if (scenario.world.secrets && Object.keys(scenario.world.secrets).includes(ConfiguredName.secret)) {
    if (words.staging.secrets.length === 0) {
      throw new Error(
        `Scenario ${scenario.name} makes a secret of ${words.staging.name} unusable; the configuration gives it no secrets. Pick another scenario.`,
      );
    }
  }
  const inputs = [
    ...(scenario.trigger.kind === 'start' ? [scenario.trigger.input] : []),
    ...(scenario.followUps ?? []).flatMap((followUp) => ('input' in followUp ? [followUp.input] : [])),
  ];
  const pushedContainers = [
    ...(scenario.trigger.kind === 'release' && scenario.trigger.containers !== 'all'
      ? scenario.trigger.containers
      : []),
    ...(scenario.followUps ?? []).flatMap((followUp) =>
      'push' in followUp ? [followUp.push.container] : [],
    ),
  ];
  const namesSidecar =
    pushedContainers.includes(ConfiguredName.sidecarContainer) ||
    inputs.some((input) => Object.keys(input.images ?? {}).includes(ConfiguredName.sidecarContainer));
  if (namesSidecar && !words.staging.containers.some((container) => !container.primary)) {
    throw new Error(
      `Scenario ${scenario.name} deploys a sidecar's image alone; ${words.staging.name} configures only its primary ` +
        'container. Pick another scenario.',
    );
  }
  if (scenario.world.newRevision?.kind === 'not-ready' && !readinessCheck(words.staging)) {
    throw new Error(
      `Scenario ${scenario.name} makes the new revision answer "not ready"; the smoke checks of ${words.staging.name} ` +
        'ask no readiness path (no check with "expectBody": "ready"), so nothing would notice. Add one to ' +
        `environments.${words.staging.name}.smoke.checks (\`afu9-deploy init --ready-path <path>\` writes it), ` +
        'or pick another scenario.',
    );
  }
  const namesStacks = inputs.some((input) => Array.isArray(input.stacks));
  const chain = stackChain(words.staging);
  if (namesStacks && Object.keys(chain).length < 3) {
    throw new Error(
      `Scenario ${scenario.name} releases three infrastructure stacks of ${words.staging.name}: its ECS stack ` +
        `(${words.staging.stackName}), the stack that one depends on, and the stack below it. The configuration's ` +
        '"infrastructure.stacks" have no such chain. Pick another scenario.',
    );
  }
  const renamedKeys = <T>(record: Readonly<Record<string, T>> | undefined) =>
    record
      ? Object.fromEntries(Object.entries(record).map(([key, value]) => [withNames(key, names), value]))
      : undefined;
  const stackDiffFixtures = renamedKeys(scenario.world.stackDiffFixtures);
  const stackDeploys = renamedKeys(scenario.world.stackDeploys);
  const trigger = triggerFor(scenario, words, names);
  return {
    ...scenario,
    summary: withNames(scenario.summary, names),
    world: {
      ...scenario.world,
      ...(stackDiffFixtures && { stackDiffFixtures }),
      ...(stackDeploys && { stackDeploys }),
      ...(scenario.world.secrets
        ? {
            secrets: Object.fromEntries(
              Object.entries(scenario.world.secrets).map(([name, condition]) => [
                withNames(name, names),
                condition,
              ]),
            ),
          }
        : {}),
    },
    trigger,
    ...(scenario.followUps
      ? {
          followUps: scenario.followUps.map((followUp) =>
            'input' in followUp
              ? { ...followUp, input: inputFor(followUp.input, scenario, words, names) }
              : {
                  ...followUp,
                  push: {
                    container: withNames(followUp.push.container, names),
                    tag: tagFor(followUp.push.tag, scenario, words),
                  },
                },
          ),
        }
      : {}),
  };
}
