/**
 * The lines docs/operations.md gives the ECS stack, synthesized: without context the image comes from
 * the SSM parameter CloudFormation resolves at deploy time; with the diff build's `images` context
 * the released image is named literally, and the parameter stays in the template either way.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CfnOutput, Fn, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';

// ---- as in docs/operations.md ----

/** Container → `<repository>@sha256:<hex>` of the release being diffed (`-c images=<json>`); empty otherwise. */
function releasedImages(scope: Construct): Record<string, string> {
  const raw: unknown = scope.node.tryGetContext('images');
  if (raw === undefined || raw === '') return {};
  return (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, string>;
}

/** The image a container runs: the one being released, else the live one the orchestrator published. */
function imageOf(scope: Construct, environment: string, container: string, repository: ecr.IRepository) {
  const live = ssm.StringParameter.valueForStringParameter(
    scope,
    `/deploy/${environment}/${container}/image`,
  );
  // Referenced in every synth, so a release diff shows only the image change (no parameter removed).
  new CfnOutput(scope, `LiveImage-${environment}-${container}`, { value: live });
  const reference = releasedImages(scope)[container] ?? live; // `<repository>@sha256:<hex>`
  return ecs.ContainerImage.fromEcrRepository(
    repository,
    `sha256:${Fn.select(1, Fn.split('@sha256:', reference))}`,
  );
}

// ----

const digest = 'sha256:f17abd9a871ef6ec25b19d8b6cc997a3221ae2cee6aa9d128ff56dc48d98d521';

function synthesize(context: Record<string, string>): Template {
  const app = new App({ context });
  const stack = new Stack(app, 'EcsStack', { env: { account: '111122223333', region: 'eu-central-1' } });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
  for (const name of ['control-center', 'mcp-github']) {
    const repository = ecr.Repository.fromRepositoryName(stack, `${name}-repo`, `afu9/${name}`);
    taskDefinition.addContainer(name, { image: imageOf(stack, 'staging', name, repository) });
  }
  return Template.fromStack(stack);
}

function imagesOf(template: Template): Record<string, unknown> {
  const [definition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  const containers = (definition!.Properties as { ContainerDefinitions: { Name: string; Image: unknown }[] })
    .ContainerDefinitions;
  return Object.fromEntries(containers.map((container) => [container.Name, container.Image]));
}

/** The two functions, from `function releasedImages` to the end of `imageOf`, as a file holds them. */
function snippetIn(text: string): string {
  const start = text.indexOf('/** Container → `<repository>@sha256:<hex>`');
  const end = text.indexOf('\n}\n', text.indexOf('function imageOf('));
  return text.slice(start, end + 2);
}

describe('the ECS stack lines of docs/operations.md', () => {
  it('are the lines this test synthesizes', () => {
    // Act
    const documented = snippetIn(readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8'));
    const tested = snippetIn(readFileSync(__filename, 'utf8'));

    // Assess
    expect(documented).toContain('function imageOf(');
    expect(documented).toBe(tested);
  });

  it('GIVEN no context WHEN synthesized THEN each image is the registry URI @ the digest of its SSM parameter', () => {
    // Act
    const template = synthesize({});

    // Assess
    const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    const ssmParameters = Object.values(parameters).filter(
      (p) => p.Type === 'AWS::SSM::Parameter::Value<String>',
    );
    expect(
      ssmParameters
        .map((p) => p.Default)
        .filter((name) => name.startsWith('/deploy/'))
        .sort(),
    ).toEqual(['/deploy/staging/control-center/image', '/deploy/staging/mcp-github/image']);
    const image = JSON.stringify(imagesOf(template)['control-center']);
    expect(image).toContain('afu9/control-center@sha256:');
    expect(image).toContain('"Fn::Split":["@sha256:"');
  });

  it('GIVEN the images context of a release WHEN synthesized THEN the released container names its digest, the other keeps its parameter', () => {
    // Act
    const template = synthesize({
      images: JSON.stringify({ 'control-center': `afu9/control-center@${digest}` }),
    });

    // Assess
    const images = imagesOf(template);
    expect(JSON.stringify(images['control-center'])).toContain(`afu9/control-center@${digest}`);
    expect(JSON.stringify(images['control-center'])).not.toContain('Fn::Split');
    expect(JSON.stringify(images['mcp-github'])).toContain('"Fn::Split":["@sha256:"');
    // The parameters and what references them stay in the template: a release diff shows only the image change.
    const withoutContext = synthesize({}).toJSON();
    expect(template.toJSON().Parameters).toEqual(withoutContext.Parameters);
    expect(template.toJSON().Outputs).toEqual(withoutContext.Outputs);
  });
});
