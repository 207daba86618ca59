/**
 * The infrastructure builds of one run, from the scenario's world: which recorded `cdk diff` each
 * stack's synth prints and how each stack's deploy goes. The ECS stack's update deploys the image
 * the scenarios release (the `after` side of the recorded ECS diffs).
 */
import type { ScenarioWorld } from '../scenarios';
import { NEW_STAGING_TAG } from '../scenarios';
import { requiredSubstitution } from './account-port';
import { readFixture } from './diff-build';
import { InfrastructureBuilds, type InfrastructureBuildsContext } from './infrastructure-builds';

/** Recorded runs that failed before `cdk synth` wrote an assembly. */
const SYNTH_FAILURE_FIXTURES = /^error-/;

export function infrastructureBuildsFor(
  world: ScenarioWorld,
  context: Pick<
    InfrastructureBuildsContext,
    'account' | 'stack' | 'scheduler' | 'authorizeTask' | 'artifactsBucket'
  >,
): InfrastructureBuilds {
  const fixtureOf = (stackName: string) => world.stackDiffFixtures?.[stackName] ?? world.diffFixture;
  return new InfrastructureBuilds({
    ...context,
    synthDiffProject: requiredSubstitution(context.stack, 'InfraDiffProjectName'),
    deployProject: requiredSubstitution(context.stack, 'InfraDeployProjectName'),
    diffTextOf: (stackName) => readFixture(fixtureOf(stackName)),
    synthFailsFor: (stackName) => SYNTH_FAILURE_FIXTURES.test(fixtureOf(stackName)),
    deployBehaviourOf: (stackName) => world.stackDeploys?.[stackName] ?? { kind: 'complete' },
    ecsStackImageTag: NEW_STAGING_TAG,
    ...(world.newRevision && { ecsStackRevision: world.newRevision }),
  });
}
