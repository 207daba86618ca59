/**
 * The synthesized stack placed in the sandbox account: intrinsics resolved as CloudFormation
 * resolves them, so each function's settings, the account's resources and the role policies name
 * the same things; and the current assembly reused only while the sources are unchanged.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deployStack, readStackAssembly } from '../../../sandbox/assembly/cloud-assembly';
import {
  assemblyIsCurrent,
  currentAssembly,
  currentTemplatePath,
  sourceInputsHash,
} from '../../../sandbox/assembly/current-assembly';
import { TemplateResolutionError, TemplateResolver } from '../../../sandbox/assembly/intrinsics';
import { currentTemplate } from '../../support/template-variants';

const placement = { stackName: 'Afu9DeployOrchestrator', accountId: '123456789012', region: 'eu-central-1' };

const template = {
  Resources: {
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
    Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    Named: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'afu9-named-bucket' } },
    Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
  },
};

describe('TemplateResolver', () => {
  const resolver = new TemplateResolver(template, placement);

  it('resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and pseudo parameters', () => {
    // Act
    const resolved = resolver.resolve({
      topic: { Ref: 'Topic' },
      tableArn: { 'Fn::GetAtt': ['Table', 'Arn'] },
      joined: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:', { Ref: 'AWS::Region' }]] },
      sub: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Named}/*' },
      subWithVariables: { 'Fn::Sub': ['${Prefix}-${AWS::AccountId}', { Prefix: { Ref: 'Named' } }] },
      selected: { 'Fn::Select': [1, ['a', { Ref: 'AWS::AccountId' }]] },
    });

    // Assess
    expect(resolved).toEqual({
      topic: expect.stringMatching(
        /^arn:aws:sns:eu-central-1:123456789012:Afu9DeployOrchestrator-Topic-[0-9A-F]{12}$/,
      ),
      tableArn: expect.stringMatching(
        /^arn:aws:dynamodb:eu-central-1:123456789012:table\/Afu9DeployOrchestrator-Table-[0-9A-F]{12}$/,
      ),
      joined: 'arn:aws:ecs:eu-central-1',
      sub: 'arn:aws:s3:::afu9-named-bucket/*',
      subWithVariables: 'afu9-named-bucket-123456789012',
      selected: '123456789012',
    });
  });

  it('gives every resource the same name on every run, a bucket in lower case as S3 requires', () => {
    // Assess
    expect(resolver.physicalName('Bucket')).toBe(
      new TemplateResolver(template, placement).physicalName('Bucket'),
    );
    expect(resolver.physicalName('Bucket')).toMatch(/^afu9deployorchestrator-bucket-[0-9a-f]{12}$/);
  });

  it('refuses a reference to a resource the template does not define, naming it', () => {
    // Assess
    expect(() => resolver.resolve({ Ref: 'Missing' })).toThrow(TemplateResolutionError);
    expect(() => resolver.resolve({ 'Fn::GetAtt': ['Missing', 'Arn'] })).toThrow(/Missing/);
  });
});

describe('the current stack deployed in the sandbox account', () => {
  it("gives each function the settings, names and policies that agree with the account's resources", async () => {
    // Arrange
    const assembly = readStackAssembly(await currentAssembly());

    // Act
    const stack = deployStack(assembly, '123456789012', 'eu-central-1');

    // Assess
    expect(stack.functions.map((fn) => fn.handlerName).sort()).toEqual(
      [
        'analyze-diff',
        'decide-approval',
        'deployment-event',
        'expire-approval',
        'notify',
        'poll-stabilization',
        'register-wait',
        'request-approval',
        'resolve-request',
        'rollback',
        'smoke-test',
        'update-service',
        'verify-secrets',
        'watch-stack',
      ].sort(),
    );
    const notify = stack.functions.find((fn) => fn.handlerName === 'notify')!;
    expect(notify.environment).toMatchObject({
      TOPIC_ARN: stack.topicArn,
      DEPLOYMENT_TABLE: stack.tableName,
    });
    expect(JSON.stringify(notify.policies)).toContain(stack.topicArn);
    expect(stack.encryptionKeys.get(stack.topicArn)).toMatch(/^arn:aws:kms:eu-central-1:123456789012:key\//);
    expect(stack.resourcePolicies.has(stack.topicArn)).toBe(true);
    expect(stack.definitionSubstitutions.NotifyFunctionArn).toBe(notify.functionArn);
    expect(notify.bundlePath).toMatch(/asset\.[0-9a-f]+\/index\.js$/);
  });

  it('names a missing bundle and how to keep it, rather than running something else', async () => {
    // Arrange: the template copied alone, without its asset folders
    const { template: copy } = await currentTemplate();
    const lonely = join(mkdtempSync(join(tmpdir(), 'afu9-lonely-')), 'Afu9DeployOrchestrator.template.json');
    writeFileSync(lonely, JSON.stringify(copy));

    // Act / Assess
    expect(() => deployStack(readStackAssembly(lonely), '123456789012', 'eu-central-1')).toThrow(
      /bundle of [a-z-]+ is missing: .*Keep the asset folders beside the template/,
    );
  });
});

describe('the current assembly in cdk.out', () => {
  it('is reused while the sources are unchanged: cdk.out records the hash of what it was synthesized from', async () => {
    // Arrange
    await currentAssembly();

    // Assess
    expect(assemblyIsCurrent()).toBe(true);
    expect(readFileSync(currentTemplatePath, 'utf8')).toContain('AWS::Lambda::Function');
  });

  it('is stale once any input changes', () => {
    // Assess
    expect(assemblyIsCurrent(`${sourceInputsHash()}-changed`)).toBe(false);
  });
});
