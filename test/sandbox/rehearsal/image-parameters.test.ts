/**
 * The SSM image parameters in the rehearsal: after a verified deployment (or a completed rollback)
 * notify publishes what the service runs, one parameter per container, through its role; a template
 * that does not grant the write fails the rehearsal with the denial named, the outcome still sent.
 */
import { Readable } from 'node:stream';
import type { CliIo } from '../../../cli/command';
import { main } from '../../../cli/main';
import type { SimulationDocument } from '../../../sandbox/run/result';
import { currentTemplate, withoutGrant, writeVariant } from '../../support/template-variants';
import { environments } from '../../support/afu9-config';

async function simulateJson(args: readonly string[]): Promise<{ code: number; doc: SimulationDocument }> {
  let stdout = '';
  const io: CliIo = {
    stdout: (text) => (stdout += text),
    stderr: () => undefined,
    env: {},
    stdin: Readable.from(['']),
  };
  const code = await main(['simulate', ...args, '--json'], io);
  return { code, doc: JSON.parse(stdout) as SimulationDocument };
}

const containers = environments.staging!.containers;
const DIGEST_VALUE = /^[a-z0-9/._-]+@sha256:[0-9a-f]{64}$/;

/** The staging parameters a document holds, by container. */
function stagingParameters(doc: SimulationDocument): Record<string, string> {
  return Object.fromEntries(
    containers.flatMap((container) => {
      const value = doc.imageParameters[`/deploy/staging/${container.name}/image`];
      return value === undefined ? [] : [[container.name, value]];
    }),
  );
}

describe('the image parameters after a rehearsal', () => {
  it('GIVEN happy THEN every container has its parameter, equal to what the service runs', async () => {
    // Act
    const { code, doc } = await simulateJson(['--scenario', 'happy']);

    // Assess
    expect(code).toBe(0);
    expect(doc).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed', accessDenied: [] });
    expect(Object.keys(doc.imagesAfter).sort()).toEqual(containers.map((container) => container.name).sort());
    for (const container of containers) {
      expect(doc.imagesAfter[container.name]).toMatch(DIGEST_VALUE);
      expect(doc.imagesAfter[container.name]!.startsWith(`${container.repository}@`)).toBe(true);
    }
    expect(stagingParameters(doc)).toEqual(doc.imagesAfter);
  });

  it('GIVEN smoke-fail THEN the parameters point at the revision the rollback returned to', async () => {
    // Act
    const { doc } = await simulateJson(['--scenario', 'smoke-fail']);

    // Assess
    expect(doc).toMatchObject({ outcome: 'rolled-back' });
    expect(doc.taskDefinitionAfter).toBe(doc.taskDefinitionBefore);
    expect(stagingParameters(doc)).toEqual(doc.imagesAfter);
  });

  it('GIVEN a template whose notify role lacks ssm:PutParameter THEN the deployment stands, the denial is named and the message says so', async () => {
    // Arrange
    const { path, template } = await currentTemplate();
    expect(withoutGrant(template, 'notify', 'ssm:PutParameter')).toBeGreaterThan(0);

    // Act
    const { code, doc } = await simulateJson([
      '--scenario',
      'happy',
      '--template',
      writeVariant(path, template),
    ]);

    // Assess
    expect(code).toBe(1);
    expect(doc).toMatchObject({ status: 'SUCCEEDED', outcome: 'deployed' });
    expect(doc.accessDenied).toContainEqual(
      expect.objectContaining({
        caller: 'notify',
        action: 'ssm:PutParameter',
        resource: 'arn:aws:ssm:eu-central-1:123456789012:parameter/deploy/staging/control-center/image',
        decision: 'implicit-deny',
      }),
    );
    expect(doc.imageParameters).toEqual({});
    expect(doc.notifications.map((notification) => notification.message).join('\n')).toMatch(
      /image parameters were NOT all published: control-center: AccessDeniedException/,
    );
  });
});
