/**
 * `afu9-deploy init`: a starter configuration from flags, or read from an existing ECS service and
 * its task definition (DescribeServices, DescribeTaskDefinition), validated before it is written,
 * never overwriting a file without --force.
 */
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import type { Service, TaskDefinition } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { realAwsDeps } from '../../../cli/aws-context';
import type { CliIo } from '../../../cli/command';
import { createInitCommand, repositoryOfImage, secretOfValueFrom } from '../../../cli/commands/init';
import { main } from '../../../cli/main';
import { loadDeployConfig, schemaFilePath } from '../../../infra/deploy-config-file';

const ecs = mockClient(ECSClient);
const init = createInitCommand(realAwsDeps);

const account = '444455556666';
const region = 'eu-west-1';
const registry = `${account}.dkr.ecr.${region}.amazonaws.com`;
const dbSecretArn = `arn:aws:secretsmanager:${region}:${account}:secret:shop/db-Q1w2E3`;
const stripeSecretArn = `arn:aws:secretsmanager:${region}:${account}:secret:shop/stripe-a9B8c7`;
const taskDefinitionArn = `arn:aws:ecs:${region}:${account}:task-definition/shop-api-staging:12`;

/** DescribeServices `services[0]` of a service CloudFormation created (it tags it with its stack). */
const shopService: Service = {
  serviceArn: `arn:aws:ecs:${region}:${account}:service/shop-cluster/shop-api-staging`,
  serviceName: 'shop-api-staging',
  clusterArn: `arn:aws:ecs:${region}:${account}:cluster/shop-cluster`,
  status: 'ACTIVE',
  desiredCount: 2,
  runningCount: 2,
  pendingCount: 0,
  launchType: 'FARGATE',
  taskDefinition: taskDefinitionArn,
  deployments: [],
  events: [],
  tags: [
    { key: 'aws:cloudformation:stack-name', value: 'ShopStack' },
    { key: 'aws:cloudformation:logical-id', value: 'ApiService1A2B3C4D' },
  ],
};

/** DescribeTaskDefinition `taskDefinition`: the API, an OpenTelemetry sidecar from the public gallery. */
const shopTaskDefinition: TaskDefinition = {
  taskDefinitionArn,
  family: 'shop-api-staging',
  revision: 12,
  status: 'ACTIVE',
  networkMode: 'awsvpc',
  requiresCompatibilities: ['FARGATE'],
  cpu: '512',
  memory: '1024',
  containerDefinitions: [
    {
      name: 'otel-collector',
      image: 'public.ecr.aws/aws-observability/aws-otel-collector:v0.41.1',
      essential: false,
    },
    {
      name: 'api',
      image: `${registry}/shop/api@sha256:${'d'.repeat(64)}`,
      essential: true,
      portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
      secrets: [
        { name: 'DB_HOST', valueFrom: `${dbSecretArn}:host::` },
        { name: 'DB_PASSWORD', valueFrom: `${dbSecretArn}:password::` },
        { name: 'STRIPE', valueFrom: stripeSecretArn },
        { name: 'FLAGS', valueFrom: `arn:aws:ssm:${region}:${account}:parameter/shop/flags` },
      ],
    },
  ],
};

function io() {
  let out = '';
  let err = '';
  const value: CliIo = {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: {},
    stdin: Readable.from([]),
  };
  return { io: value, stdout: () => out, stderr: () => err };
}

const outputPath = () => join(mkdtempSync(join(tmpdir(), 'afu9-init-')), 'deploy.config.json');

describe('afu9-deploy init', () => {
  beforeEach(() => ecs.reset());

  describe('from flags', () => {
    const flags = [
      '--cluster',
      'shop-cluster',
      '--service',
      'shop-api-staging',
      '--container',
      'api',
      '--repository',
      'shop/api',
      '--port',
      '8080',
      '--secret',
      'shop/db:host,password',
      '--stack',
      'ShopStack',
      '--base-url',
      'https://staging.shop.example',
      '--region',
      'eu-west-1',
    ];

    it('writes a configuration the schema accepts, for one environment, without calling AWS', async () => {
      // Prepare
      const output = outputPath();
      const { io: cli, stderr } = io();

      // Act
      const code = await init.run([...flags, '--output', output], cli);

      // Assess
      expect(code).toBe(0);
      expect(ecs.calls()).toHaveLength(0);
      expect(stderr()).toContain(`Wrote ${output}.`);
      const { environments } = loadDeployConfig(output);
      expect(environments.staging).toMatchObject({
        region: 'eu-west-1',
        clusterName: 'shop-cluster',
        serviceName: 'shop-api-staging',
        taskFamily: 'shop-api-staging',
        stackName: 'ShopStack',
        imageTagPrefix: 'staging-',
        containers: [{ name: 'api', repository: 'shop/api', port: 8080, primary: true }],
        secrets: [{ name: 'shop/db', requiredKeys: ['host', 'password'], optionalKeys: [] }],
        smoke: {
          baseUrl: 'https://staging.shop.example',
          expectedServiceNames: ['shop-api-staging'],
          checks: [{ name: 'root-page', path: '/', expectStatus: 200 }],
        },
      });
      const { $schema } = JSON.parse(readFileSync(output, 'utf8')) as { $schema: string };
      expect(resolve(dirname(output), $schema)).toBe(schemaFilePath);
    });

    it('takes --config, as every command does, as the file to write; --config and --output naming two files is a usage error', async () => {
      // Prepare
      const output = outputPath();
      const accepted = io();
      const clashing = io();

      // Act
      const code = await init.run([...flags, '--config', output], accepted.io);
      const clashCode = await init.run([...flags, '--config', output, '--output', outputPath()], clashing.io);

      // Assess
      expect(code).toBe(0);
      expect(loadDeployConfig(output).environments.staging?.clusterName).toBe('shop-cluster');
      expect(clashCode).toBe(2);
      expect(clashing.stderr()).toContain('--config and --output both name the file to write');
    });

    it('adds the health, identity and version checks for --health-path, and names the environment --env', async () => {
      // Prepare
      const output = outputPath();

      // Act
      const code = await init.run(
        [...flags, '--env', 'qa', '--tag-prefix', 'rc-', '--health-path', '/healthz', '--output', output],
        io().io,
      );

      // Assess
      expect(code).toBe(0);
      const qa = loadDeployConfig(output).environments.qa!;
      expect(qa.imageTagPrefix).toBe('rc-');
      expect(qa.smoke.checks.map((check) => `${check.name} ${check.path} ${check.expectBody ?? ''}`)).toEqual(
        [
          'root-page / ',
          'health /healthz health-ok',
          'service-identity /healthz service-identity',
          'version /healthz version',
        ],
      );
    });

    it('says what the --health-path document must answer, in its help and when it writes the checks', async () => {
      // Prepare
      const output = outputPath();
      const cli = io();
      const help = io();

      // Act
      const code = await init.run([...flags, '--health-path', '/healthz', '--output', output], cli.io);
      await main(['init', '--help'], help.io);

      // Assess
      expect(code).toBe(0);
      expect(cli.stderr()).toContain(
        'note: /healthz must answer 200 with JSON like {"status": "ok", "service": "shop-api-staging", ' +
          '"version": "<the deployed image tag>"}',
      );
      expect(help.stdout()).toMatch(
        /--health-path <path> .*\n.*\{"status": "ok"\} \(or "ok": true\), "service": the service/,
      );
      expect(help.stdout()).toContain('"version": the deployed image tag');
    });

    it('adds a readiness check for --ready-path, and says when there is none', async () => {
      // Prepare
      const ready = outputPath();
      const unready = outputPath();
      const withReady = io();
      const without = io();

      // Act
      const code = await init.run([...flags, '--ready-path', '/ready', '--output', ready], withReady.io);
      await init.run([...flags, '--output', unready], without.io);

      // Assess
      expect(code).toBe(0);
      expect(loadDeployConfig(ready).environments.staging!.smoke.checks).toContainEqual({
        name: 'readiness',
        path: '/ready',
        expectStatus: 200,
        expectBody: 'ready',
      });
      expect(withReady.stderr()).toContain(
        'note: /ready must answer 200 with {"ready": true} once the revision is ready',
      );
      expect(without.stderr()).toContain(
        'note: no readiness check: give --ready-path <path> if the service has a readiness document',
      );
    });

    it('GIVEN a file written outside the clone THEN its $schema resolves from its folder, and a note says where it points', async () => {
      // Prepare
      const output = outputPath();
      const cli = io();

      // Act
      await init.run([...flags, '--output', output], cli.io);

      // Assess
      const { $schema } = JSON.parse(readFileSync(output, 'utf8')) as { $schema: string };
      expect(resolve(dirname(output), $schema)).toBe(schemaFilePath);
      expect(cli.stderr()).toContain(
        `note: "$schema" is ${$schema}, the schema in this clone (${schemaFilePath})`,
      );
    });

    it('GIVEN the file exists THEN it writes nothing without --force, and overwrites it with --force', async () => {
      // Prepare
      const output = outputPath();
      writeFileSync(output, '{"keep": true}\n');
      const first = io();

      // Act
      const refused = await init.run([...flags, '--output', output], first.io);
      const forced = await init.run([...flags, '--output', output, '--force'], io().io);

      // Assess
      expect(refused).toBe(1);
      expect(first.stderr()).toContain(`${output} exists; nothing was written. Pass --force to overwrite it`);
      expect(forced).toBe(0);
      expect(loadDeployConfig(output).environments.staging?.serviceName).toBe('shop-api-staging');
    });

    it('GIVEN a flag missing THEN it names the flags to give and writes nothing (exit 2)', async () => {
      // Prepare
      const output = outputPath();
      const { io: cli, stderr } = io();

      // Act
      const code = await init.run(
        ['--cluster', 'shop-cluster', '--base-url', 'https://x.example', '--output', output],
        cli,
      );

      // Assess
      expect(code).toBe(2);
      expect(stderr()).toContain(
        'Give --service, --container, --repository, or read the service with --from-service <cluster>/<service>.',
      );
      expect(existsSync(output)).toBe(false);
    });

    it('GIVEN values the schema refuses THEN it names each with its path and writes nothing', async () => {
      // Prepare
      const output = outputPath();
      const { io: cli, stderr } = io();
      const badFlags = flags.map((flag) => (flag === 'https://staging.shop.example' ? 'http://shop' : flag));

      // Act
      const code = await init.run([...badFlags, '--output', output], cli);

      // Assess
      expect(code).toBe(2);
      expect(stderr()).toContain(
        'environments.staging.smoke.baseUrl: expected an https URL (without credentials, query or fragment), received "http://shop"',
      );
      expect(existsSync(output)).toBe(false);
    });
  });

  describe('--from-service', () => {
    it('reads the cluster, family, ECR containers, stack and secrets (with their JSON keys) from the service', async () => {
      // Prepare
      ecs.on(DescribeServicesCommand).resolves({ services: [shopService], failures: [] });
      ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: shopTaskDefinition, tags: [] });
      const output = outputPath();
      const { io: cli, stderr } = io();

      // Act
      const code = await init.run(
        [
          '--from-service',
          'shop-cluster/shop-api-staging',
          '--base-url',
          'https://staging.shop.example',
          '--output',
          output,
        ],
        cli,
      );

      // Assess
      expect(code).toBe(0);
      expect(ecs.commandCalls(DescribeServicesCommand)[0]!.args[0].input).toEqual({
        cluster: 'shop-cluster',
        services: ['shop-api-staging'],
        include: ['TAGS'],
      });
      expect(ecs.commandCalls(DescribeTaskDefinitionCommand)[0]!.args[0].input).toEqual({
        taskDefinition: taskDefinitionArn,
      });
      expect(loadDeployConfig(output).environments.staging).toMatchObject({
        region: 'eu-west-1',
        clusterName: 'shop-cluster',
        serviceName: 'shop-api-staging',
        taskFamily: 'shop-api-staging',
        stackName: 'ShopStack',
        containers: [{ name: 'api', repository: 'shop/api', port: 8080, primary: true }],
        secrets: [
          { name: 'shop/db', requiredKeys: ['host', 'password'] },
          { name: 'shop/stripe', requiredKeys: [] },
        ],
      });
      expect(stderr()).toContain(
        'note: container otel-collector left out: its image public.ecr.aws/aws-observability/aws-otel-collector:v0.41.1 is not in ECR',
      );
      expect(stderr()).toContain('note: secret FLAGS left out:');
    });

    it('GIVEN no such service THEN it says so, naming cluster and service, and writes nothing', async () => {
      // Prepare
      ecs.on(DescribeServicesCommand).resolves({
        services: [],
        failures: [
          { arn: `arn:aws:ecs:${region}:${account}:service/shop-cluster/shop-api`, reason: 'MISSING' },
        ],
      });
      const output = outputPath();
      const { io: cli, stderr } = io();

      // Act
      const code = await init.run(
        ['--from-service', 'shop-cluster/shop-api', '--base-url', 'https://shop.example', '--output', output],
        cli,
      );

      // Assess
      expect(code).toBe(1);
      expect(stderr()).toContain('there is no active service shop-api in cluster shop-cluster (MISSING)');
      expect(existsSync(output)).toBe(false);
    });

    it('GIVEN a service without a stack tag THEN it asks for --stack', async () => {
      // Prepare
      ecs.on(DescribeServicesCommand).resolves({ services: [{ ...shopService, tags: [] }], failures: [] });
      ecs.on(DescribeTaskDefinitionCommand).resolves({ taskDefinition: shopTaskDefinition });
      const { io: cli, stderr } = io();

      // Act
      const code = await init.run(
        [
          '--from-service',
          'shop-cluster/shop-api-staging',
          '--base-url',
          'https://shop.example',
          '--output',
          outputPath(),
        ],
        cli,
      );

      // Assess
      expect(code).toBe(2);
      expect(stderr()).toContain('carries no aws:cloudformation:stack-name tag; name the CDK stack');
    });
  });

  it('reads repositories from ECR image URIs only, and secret names and keys from Secrets Manager ARNs', () => {
    expect(repositoryOfImage(`${registry}/shop/api:1.4.2`)).toBe('shop/api');
    expect(repositoryOfImage(`${registry}/shop/api@sha256:${'e'.repeat(64)}`)).toBe('shop/api');
    expect(repositoryOfImage('nginx:1.27')).toBeUndefined();
    expect(secretOfValueFrom(`${dbSecretArn}:password::`)).toEqual({ name: 'shop/db', key: 'password' });
    expect(secretOfValueFrom(stripeSecretArn)).toEqual({ name: 'shop/stripe' });
    expect(secretOfValueFrom(`arn:aws:ssm:${region}:${account}:parameter/shop/flags`)).toBeUndefined();
  });
});
