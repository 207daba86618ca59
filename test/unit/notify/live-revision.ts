/**
 * The live revision notify publishes as SSM parameters: a DescribeTaskDefinition answer as ECS gives
 * it for AFU-9's four containers, the Control Center pinned by the deployment, the sidecars still by
 * tag (as CloudFormation registered them), with the ECR answers that resolve those tags.
 */
import { DescribeImagesCommand, type DescribeImagesCommandOutput } from '@aws-sdk/client-ecr';
import { DescribeTaskDefinitionCommand, type DescribeTaskDefinitionCommandOutput } from '@aws-sdk/client-ecs';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import type { mockClient } from 'aws-sdk-client-mock';
import { digest, update } from './states';

const registry = '111122223333.dkr.ecr.eu-central-1.amazonaws.com';

export const sidecarDigests: Readonly<Record<string, string>> = {
  'afu9/mcp-github': 'sha256:1b2c3d4e5f60718293a4b5c6d7e8f9010a1b2c3d4e5f60718293a4b5c6d7e8f9',
  'afu9/mcp-deploy': 'sha256:2c3d4e5f60718293a4b5c6d7e8f9010a1b2c3d4e5f60718293a4b5c6d7e8f901',
  'afu9/mcp-observability': 'sha256:3d4e5f60718293a4b5c6d7e8f9010a1b2c3d4e5f60718293a4b5c6d7e8f90102',
};

function container(name: string, image: string) {
  return {
    name,
    image,
    cpu: 0,
    essential: name === 'control-center',
    portMappings: [],
    environment: [],
    mountPoints: [],
    volumesFrom: [],
  };
}

export function liveRevision(): DescribeTaskDefinitionCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    taskDefinition: {
      taskDefinitionArn: update.taskDefinitionArn,
      family: 'afu9-control-center',
      revision: 42,
      status: 'ACTIVE',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
      containerDefinitions: [
        container('control-center', `${registry}/afu9/control-center@${digest}`),
        container('mcp-github', `${registry}/afu9/mcp-github:stage-3f9c2ab`),
        container('mcp-deploy', `${registry}/afu9/mcp-deploy:stage-3f9c2ab`),
        container('mcp-observability', `${registry}/afu9/mcp-observability:stage-3f9c2ab`),
      ],
    },
  };
}

/** DescribeImages of one sidecar tag, as ECR answers it. */
export function imageDetail(repositoryName: string): DescribeImagesCommandOutput {
  return {
    $metadata: { httpStatusCode: 200 },
    imageDetails: [
      {
        registryId: '111122223333',
        repositoryName,
        imageDigest: sidecarDigests[repositoryName],
        imageTags: ['stage-3f9c2ab'],
        imageSizeInBytes: 48_213_004,
        imagePushedAt: new Date('2026-11-27T08:50:00.000Z'),
        imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        artifactMediaType: 'application/vnd.docker.container.image.v1+json',
      },
    ],
  };
}

type Mock = ReturnType<typeof mockClient>;

/** ECS, ECR and SSM answer as for the live revision above: every parameter write succeeds. */
export function answerForLiveRevision(mocks: { ecs: Mock; ecr: Mock; ssm: Mock }): void {
  mocks.ecs.on(DescribeTaskDefinitionCommand).resolves(liveRevision());
  for (const repositoryName of Object.keys(sidecarDigests)) {
    mocks.ecr.on(DescribeImagesCommand, { repositoryName }).resolves(imageDetail(repositoryName));
  }
  mocks.ssm.on(PutParameterCommand).resolves({ Version: 1, Tier: 'Standard' });
}
