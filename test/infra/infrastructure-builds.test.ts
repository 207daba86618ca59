/**
 * The infrastructure release's two builds end by CodeBuild's own limits before Step Functions gives up
 * on their tasks, so a build that never starts or never ends ends with its own status, which the
 * watch and the notification then report.
 */
import { readFileSync } from 'node:fs';
import { definitionPath } from '../../statemachine/definition';
import { synthTemplate } from './synth';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

describe('InfrastructureBuilds timeouts', () => {
  const { template } = synthTemplate();
  const projects = Object.values(template.findResources('AWS::CodeBuild::Project') as Resources).map(
    (resource) => resource.Properties,
  );
  const asl = JSON.parse(readFileSync(definitionPath, 'utf8')) as {
    States: Record<string, { TimeoutSeconds?: number }>;
  };

  function buildLimitSeconds(descriptionStart: string): number {
    const project = projects.find((candidate) => String(candidate.Description).startsWith(descriptionStart));
    expect(project).toBeDefined();
    return ((project!.QueuedTimeoutInMinutes as number) + (project!.TimeoutInMinutes as number)) * 60;
  }

  it.each([
    ['SynthAndDiffStack', 'Synthesizes one'],
    ['DeployStack', 'Deploys one gated'],
  ])(
    'GIVEN the %s task timeout in the ASL WHEN synthesized THEN queued plus build timeout end the build first, with five minutes to spare',
    (state, descriptionStart) => {
      // Act
      const limit = buildLimitSeconds(descriptionStart);

      // Assess
      expect(limit + 300).toBeLessThanOrEqual(asl.States[state]!.TimeoutSeconds!);
    },
  );
});
