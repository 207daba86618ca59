/**
 * `simulate --input` plays an input in a scenario's world as the account would take it: an image a
 * start-execution input names is in ECR only if the world has it, or when the person says it was
 * pushed (`--pushed`); an ECR push event's image is in ECR, since the event says it was pushed.
 */
import { Readable } from 'node:stream';
import type { CliIo } from '../../../cli/command';
import { main } from '../../../cli/main';
import { runSimulation } from '../../../sandbox/runner';
import { findScenario, NEW_STAGING_TAG } from '../../../sandbox/scenarios';

const happy = findScenario('happy')!;
const NEVER_PUSHED = 'stage-5e6f7a8';

function stateNames(run: Awaited<ReturnType<typeof runSimulation>>): string[] {
  return run.document.states.map((state) => state.name);
}

describe('simulate --input and the images it names', () => {
  it('refuses a start input naming an image the world never had: ImageNotFound before any change', async () => {
    // Prepare
    const notes: string[] = [];

    // Act
    const run = await runSimulation({
      scenario: happy,
      input: { environment: 'staging', imageTag: NEVER_PUSHED, requestedBy: 'jane.doe' },
      onProgress: (event) => {
        if (event.kind === 'note') notes.push(event.text);
      },
    });

    // Assess
    expect(run.document).toMatchObject({ status: 'FAILED', outcome: 'failed-before-change' });
    expect(stateNames(run)).not.toContain('UpdateService');
    const verify = run.document.states.find((state) => state.name === 'VerifySecrets');
    expect(verify).toMatchObject({ status: 'CAUGHT', error: 'ImageNotFound' });
    expect(run.document.taskDefinitionAfter).toBe(run.document.taskDefinitionBefore);
    expect(run.document.taskDefinitionDeployed).toBeNull();
    expect(notes.join('\n')).toContain(`never pushed in this world: afu9/control-center:${NEVER_PUSHED}`);
    expect(notes.join('\n')).toContain('--pushed');
  });

  it('refuses a digest the world never had, even beside a tag', async () => {
    // Act
    const run = await runSimulation({
      scenario: happy,
      input: {
        environment: 'staging',
        imageTag: NEVER_PUSHED,
        imageDigest: `sha256:${'c'.repeat(64)}`,
        requestedBy: 'jane.doe',
      },
    });

    // Assess
    expect(run.document.outcome).toBe('failed-before-change');
  });

  it('deploys the same input when the person says the image was pushed (pushed)', async () => {
    // Prepare
    const notes: string[] = [];

    // Act
    const run = await runSimulation({
      scenario: happy,
      input: { environment: 'staging', imageTag: NEVER_PUSHED, requestedBy: 'jane.doe' },
      pushed: true,
      onProgress: (event) => {
        if (event.kind === 'note') notes.push(event.text);
      },
    });

    // Assess
    expect(run.document).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed' });
    expect(notes).toContain(`history: CI pushed afu9/control-center:${NEVER_PUSHED} to ECR (--pushed)`);
  });

  it("deploys a start input naming the scenario's own image: its world has it", async () => {
    // Act
    const run = await runSimulation({
      scenario: happy,
      input: { environment: 'staging', imageTag: NEW_STAGING_TAG, requestedBy: 'jane.doe' },
    });

    // Assess
    expect(run.document).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed' });
  });

  it('deploys the image of an ECR push event without --pushed: the event says it was pushed', async () => {
    // Prepare
    const push = {
      version: '0',
      id: 'b4c5d6e7-0000-4000-8000-000000000002',
      'detail-type': 'ECR Image Action',
      source: 'aws.ecr',
      account: '123456789012',
      time: '2026-11-27T08:41:07Z',
      region: 'eu-central-1',
      resources: [],
      detail: {
        result: 'SUCCESS',
        'repository-name': 'afu9/control-center',
        'image-digest': `sha256:${'d'.repeat(64)}`,
        'action-type': 'PUSH',
        'image-tag': NEVER_PUSHED,
      },
    };

    // Act
    const run = await runSimulation({ scenario: happy, input: push });

    // Assess
    expect(run.document).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed' });
  });
});

describe('simulate --pushed on the command line', () => {
  it('is a usage error without --input, saying what it applies to', async () => {
    // Prepare
    let stderr = '';
    const io: CliIo = {
      stdout: () => undefined,
      stderr: (text) => (stderr += text),
      env: {},
      stdin: Readable.from([]),
    };

    // Act
    const code = await main(['simulate', '--pushed'], io);

    // Assess
    expect(code).toBe(2);
    expect(stderr).toContain(
      '--pushed marks the images an --input names as pushed to ECR; give it with --input',
    );
  });
});
