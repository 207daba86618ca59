/**
 * Adopting the orchestrator for a service that is not AFU-9, from the configuration file alone: a
 * shop's API (cluster shop-cluster, service shop-api-staging, one container `api` from shop/api,
 * one secret shop/db with its keys, its own tag prefixes, smoke paths and rollout timing) is
 * synthesized into a stack naming its resources, and the rehearsal deploys it under that stack's
 * bundles and IAM. No source file is edited: only test/fixtures/config/shop.deploy.config.json.
 */
import { HandlerName } from '../../../infra/handler-functions';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { CliIo } from '../../../cli/command';
import { main } from '../../../cli/main';
import { readStackAssembly } from '../../../sandbox/assembly/cloud-assembly';
import { currentAssembly } from '../../../sandbox/assembly/current-assembly';
import { join } from 'node:path';
import { runSimulation, type SimulationDocument } from '../../../sandbox/runner';
import { scenarios } from '../../../sandbox/scenarios';

const shopConfig = join(__dirname, '..', '..', 'fixtures', 'config', 'shop.deploy.config.json');

/** The names AFU-9's own configuration gives its resources: none may reach the shop's stack. */
const afu9Names = ['afu9-cluster', 'afu9-control-center', 'afu9/', 'Afu9EcsStack', 'afu-9.com'];

function cliIo() {
  let out = '';
  let err = '';
  const io: CliIo = {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: {},
    stdin: Readable.from([]),
  };
  return { io, stdout: () => out, stderr: () => err };
}

describe('adopting it for another service with a configuration file', () => {
  let templatePath: string;
  let template: string;

  beforeAll(async () => {
    // Act (cdk synth -c config=<the shop's file>, reused while nothing changes)
    templatePath = await currentAssembly(undefined, shopConfig);
    template = readFileSync(templatePath, 'utf8');
  }, 240_000);

  it("synthesizes a stack whose permissions and rules name the shop's cluster, service, family, repository, secret and stack", () => {
    // Assess
    for (const name of [
      'shop-cluster',
      'shop-api-staging',
      'task-definition/shop-api-staging',
      'repository/shop/api',
      'secret:shop/db-',
      'stack/ShopStack/',
    ]) {
      expect(template).toContain(name);
    }
    for (const name of afu9Names) expect(template).not.toContain(name);
  });

  it("routes the shop's image pushes: repository shop/api, tags with its prefixes", () => {
    // Prepare
    const assembly = readStackAssembly(templatePath);
    const rules = Object.values(assembly.template.Resources ?? {}).filter(
      (resource) => resource.Type === 'AWS::Events::Rule',
    );
    const patterns = JSON.stringify(rules.map((rule) => rule.Properties?.EventPattern));

    // Assess
    expect(patterns).toContain('"repository-name":["shop/api"]');
    expect(patterns).toContain('{"prefix":"rc-"}');
    expect(patterns).toContain('{"prefix":"release-"}');
  });

  it("bundles the shop's configuration into every function, and nothing of AFU-9's", () => {
    // Prepare
    const assembly = readStackAssembly(templatePath);
    const bundles = Object.values(assembly.template.Resources ?? {})
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => resource.Metadata?.['aws:asset:path'] as string | undefined)
      .filter((path): path is string => path !== undefined)
      .map((path) => readFileSync(join(templatePath, '..', path, 'index.js'), 'utf8'));

    // Assess
    expect(bundles).toHaveLength(Object.values(HandlerName).length);
    for (const bundle of bundles) {
      expect(bundle).toContain('shop-api-staging');
      for (const name of afu9Names) expect(bundle).not.toContain(name);
    }
  });

  it('rehearses the happy deployment with `simulate --config`: deployed on a new revision, smoke-tested on its own paths, nothing denied', async () => {
    // Prepare
    const cli = cliIo();

    // Act
    const code = await main(['simulate', '--config', shopConfig, '--json'], cli.io);

    // Assess
    const document = JSON.parse(cli.stdout()) as SimulationDocument;
    expect(code).toBe(0);
    expect(document).toMatchObject({
      scenario: 'happy',
      status: 'SUCCEEDED',
      outcome: 'deployed',
      rolledBack: false,
      taskDefinitionBefore: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-api-staging:41',
      taskDefinitionAfter: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/shop-api-staging:42',
      accessDenied: [],
    });
    const notification = JSON.stringify(document.notifications);
    expect(notification).toContain('rc-9d1e0f4');
    expect(notification).toContain('shop-api-staging');
  });

  /** The shop runs one container: a scenario deploying a sidecar alone cannot be played there. */
  const needsSidecar = new Set(['sidecar-deploy', 'sidecar-release', 'late-push']);
  /** The shop configures no infrastructure stacks: an infrastructure release has none to deploy. */
  const needsStacks = new Set(['infra-release', 'infra-stack-fails', 'infra-approval', 'infra-denied']);

  it.each(
    scenarios
      .filter((scenario) => !needsSidecar.has(scenario.name) && !needsStacks.has(scenario.name))
      .map((scenario) => [scenario.name, scenario] as const),
  )('plays scenario %s in the shop and reaches its expected outcome', async (_name, scenario) => {
    // Act
    const run = await runSimulation({ scenario, configPath: shopConfig, templatePath });

    // Assess
    expect(run.document).toMatchObject({
      status: scenario.expected.status,
      outcome: scenario.expected.outcome,
      accessDenied: [],
    });
  });

  it.each([...needsSidecar])(
    'refuses to play %s in the shop, which has no sidecar, saying why',
    async (name) => {
      // Act / Assess
      await expect(
        runSimulation({
          scenario: scenarios.find((scenario) => scenario.name === name)!,
          configPath: shopConfig,
          templatePath,
        }),
      ).rejects.toThrow("deploys a sidecar's image alone; staging configures only its primary container");
    },
  );

  it.each([...needsStacks])(
    'refuses to play %s in the shop, which configures no infrastructure stacks, saying why',
    async (name) => {
      // Act / Assess
      await expect(
        runSimulation({
          scenario: scenarios.find((scenario) => scenario.name === name)!,
          configPath: shopConfig,
          templatePath,
        }),
      ).rejects.toThrow('"infrastructure.stacks" have no such chain. Pick another scenario.');
    },
  );
});
