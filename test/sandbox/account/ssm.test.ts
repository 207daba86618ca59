import {
  GetParameterCommand,
  HierarchyLevelLimitExceededException,
  HierarchyTypeMismatchException,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  ValidationException,
} from '@aws-sdk/client-ssm';
import { SSMClient } from '@aws-sdk/client-ssm';
import { createSimulatedAccount } from '../../../sandbox/account';
import type { SimulatedAccount } from '../../../sandbox/account/simulated-account';

const name = '/deploy/staging/control-center/image';
const first = 'afu9/control-center@sha256:f17abd9a871ef6ec25b19d8b6cc997a3221ae2cee6aa9d128ff56dc48d98d521';
const second = 'afu9/control-center@sha256:4f1c2b7a9e0d3c6b5a4f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a2';

describe('simulated SSM Parameter Store', () => {
  let account: SimulatedAccount;
  let ssm: Pick<SSMClient, 'send'>;
  beforeEach(async () => {
    account = await createSimulatedAccount();
    ssm = account.clients.ssm;
  });
  afterEach(async () => account.close());

  it('creates a parameter at version 1 and overwrites it as the next version', async () => {
    // Act
    const created = await ssm.send(new PutParameterCommand({ Name: name, Value: first, Type: 'String' }));
    const overwritten = await ssm.send(
      new PutParameterCommand({ Name: name, Value: second, Overwrite: true }),
    );
    const read = await ssm.send(new GetParameterCommand({ Name: name }));

    // Assess
    expect(created).toMatchObject({ Version: 1, Tier: 'Standard' });
    expect(overwritten).toMatchObject({ Version: 2, Tier: 'Standard' });
    expect(read.Parameter).toMatchObject({
      Name: name,
      Type: 'String',
      Value: second,
      Version: 2,
      ARN: 'arn:aws:ssm:eu-central-1:123456789012:parameter/deploy/staging/control-center/image',
      DataType: 'text',
    });
    expect(account.ssm.parameters()).toEqual([expect.objectContaining({ name, value: second, version: 2 })]);
  });

  it('refuses to replace a parameter without Overwrite, and keeps the first value', async () => {
    // Prepare
    await ssm.send(new PutParameterCommand({ Name: name, Value: first, Type: 'String' }));

    // Act
    const refused = ssm.send(new PutParameterCommand({ Name: name, Value: second, Type: 'String' }));

    // Assess
    await expect(refused).rejects.toBeInstanceOf(ParameterAlreadyExists);
    await expect(refused).rejects.toThrow('set the overwrite option in the request to true');
    expect(account.ssm.parameters()[0]).toMatchObject({ value: first, version: 1 });
  });

  it('reads a version by selector and by ARN, and answers ParameterNotFound for another', async () => {
    // Prepare
    await ssm.send(new PutParameterCommand({ Name: name, Value: first, Type: 'String' }));
    await ssm.send(new PutParameterCommand({ Name: name, Value: second, Overwrite: true }));

    // Act
    const byArn = await ssm.send(
      new GetParameterCommand({
        Name: 'arn:aws:ssm:eu-central-1:123456789012:parameter/deploy/staging/control-center/image',
      }),
    );
    const missing = ssm.send(new GetParameterCommand({ Name: `${name}:1` }));

    // Assess
    expect(byArn.Parameter?.Value).toBe(second);
    await expect(ssm.send(new GetParameterCommand({ Name: `${name}:2` }))).resolves.toMatchObject({
      Parameter: { Value: second },
    });
    await expect(missing).rejects.toBeInstanceOf(ParameterNotFound);
    await expect(ssm.send(new GetParameterCommand({ Name: '/deploy/none' }))).rejects.toBeInstanceOf(
      ParameterNotFound,
    );
  });

  it.each([
    ['a new parameter without Type', { Name: name, Value: first }, ValidationException],
    ['a reserved name', { Name: '/aws/images', Value: first, Type: 'String' as const }, ValidationException],
    [
      'a name with a space',
      { Name: '/deploy images', Value: first, Type: 'String' as const },
      ValidationException,
    ],
    [
      'sixteen levels',
      {
        Name: `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`,
        Value: first,
        Type: 'String' as const,
      },
      HierarchyLevelLimitExceededException,
    ],
    [
      'a value over 4 KB',
      { Name: name, Value: 'x'.repeat(4097), Type: 'String' as const },
      ValidationException,
    ],
  ])('refuses %s as SSM does', async (_case, input, error) => {
    // Act / Assess
    await expect(ssm.send(new PutParameterCommand(input))).rejects.toBeInstanceOf(error);
    expect(account.ssm.parameters()).toEqual([]);
  });

  it('refuses to change the type of a parameter on overwrite', async () => {
    // Prepare
    await ssm.send(new PutParameterCommand({ Name: name, Value: first, Type: 'String' }));

    // Act / Assess
    await expect(
      ssm.send(new PutParameterCommand({ Name: name, Value: 'a,b', Type: 'StringList', Overwrite: true })),
    ).rejects.toBeInstanceOf(HierarchyTypeMismatchException);
  });
});
