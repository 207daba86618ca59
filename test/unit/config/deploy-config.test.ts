/**
 * The deployment configuration (lambdas/domain/deploy-config.ts, infra/deploy-config-file.ts): the
 * repository's file is accepted as it is, and every kind of mistake is refused with its path and
 * what is expected, so a person fixes the file without reading the schema's source.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDeployConfig, repositoryConfigPath, resolveConfigPath } from '../../../infra/deploy-config-file';
import {
  ConfigurationError,
  deployConfigDocument,
  parseDeployConfig,
  parseDeployConfigText,
} from '../../../lambdas/domain/deploy-config';
import { versionReporterOf } from '../../../lambdas/domain/environments';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- edited fixtures

/** The repository's file, parsed afresh for each test to be edited. */
function repositoryFile(): Json {
  return JSON.parse(readFileSync(repositoryConfigPath, 'utf8')) as Json;
}

/** The problems a file is refused with (it must be refused). */
function problemsOf(raw: unknown): readonly string[] {
  try {
    parseDeployConfig(raw, 'deploy.config.json');
  } catch (error) {
    if (error instanceof ConfigurationError) return error.problems;
    throw error;
  }
  throw new Error('The configuration was accepted.');
}

describe('the deployment configuration', () => {
  it("accepts the repository's file: AFU-9's staging and production, each knowing its name", () => {
    // Act
    const config = loadDeployConfig(repositoryConfigPath);

    // Assess
    expect(Object.keys(config.environments)).toEqual(['staging', 'production']);
    expect(config.environments.staging).toMatchObject({
      name: 'staging',
      clusterName: 'afu9-cluster',
      serviceName: 'afu9-control-center-staging',
      imageTagPrefix: 'stage-',
      requiresAllowFlag: false,
    });
    expect(config.environments.production).toMatchObject({ name: 'production', requiresAllowFlag: true });
  });

  it("stops a production WARN for a person's review, and lets staging's proceed", () => {
    const { environments } = loadDeployConfig(repositoryConfigPath);

    expect(environments.production?.approval).toEqual({ warn: 'stop', blocked: 'stop' });
    expect(environments.staging?.approval).toEqual({ warn: 'proceed', blocked: 'stop' });
  });

  it('writes back the document it read (environments keyed by name, without a name field)', () => {
    // Prepare
    const { $schema: _schema, ...file } = repositoryFile();

    // Act
    const document = deployConfigDocument(parseDeployConfig(file, 'deploy.config.json'));

    // Assess
    expect(document).toEqual(file);
  });

  it("names the application by displayName, else by the first environment's primary repository, in every environment", () => {
    // Prepare
    const named = repositoryFile();
    const unnamed = repositoryFile();
    delete unnamed.displayName;

    // Act
    const given = parseDeployConfig(named, 'deploy.config.json');
    const derived = parseDeployConfig(unnamed, 'deploy.config.json');

    // Assess
    expect(given.displayName).toBe('AFU-9');
    expect(derived.displayName).toBe('afu9/control-center');
    expect(Object.values(derived.environments).map((environment) => environment.displayName)).toEqual([
      'afu9/control-center',
      'afu9/control-center',
    ]);
  });

  it.each([
    ['Shop ⚡ API', 'displayName: expected printable ASCII (SNS subjects allow nothing else)'],
    [
      '   ',
      'displayName: expected printable ASCII (SNS subjects allow nothing else), no space at either end',
    ],
    ['x'.repeat(41), 'displayName: expected at most 40'],
  ])('refuses the displayName %j, which no SNS subject can open with', (displayName, problem) => {
    expect(problemsOf({ ...repositoryFile(), displayName })).toEqual([expect.stringContaining(problem)]);
  });

  it('fills the optional fields with their defaults', () => {
    // Prepare
    const file = repositoryFile();
    const staging = file.environments.staging;
    delete staging.forbiddenImageTagPrefixes;
    delete staging.requiresAllowFlag;
    delete staging.secrets;
    delete staging.approval;
    staging.containers = [{ name: 'api', repository: 'shop/api', primary: true }];

    // Act
    const { environments } = parseDeployConfig(file, 'deploy.config.json');

    // Assess
    expect(environments.staging).toMatchObject({
      forbiddenImageTagPrefixes: [],
      requiresAllowFlag: false,
      secrets: [],
      containers: [{ name: 'api', repository: 'shop/api', primary: true }],
      approval: { warn: 'proceed', blocked: 'stop' },
    });
  });

  it('fills the approval policy field by field: a policy naming only warn keeps BLOCKED stopping', () => {
    const file = repositoryFile();
    file.environments.staging.approval = { warn: 'stop' };

    const { environments } = parseDeployConfig(file, 'deploy.config.json');

    expect(environments.staging?.approval).toEqual({ warn: 'stop', blocked: 'stop' });
  });

  it('GIVEN an approval policy that lets BLOCKED proceed, an unknown verdict or a misspelt warn THEN each is named with its path', () => {
    // Prepare
    const file = repositoryFile();
    file.environments.production.approval = { warn: 'stop', blocked: 'proceed' };
    file.environments.staging.approval = { warn: 'approve', error: 'proceed' };

    // Act
    const problems = problemsOf(file);

    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        'environments.production.approval.blocked: expected one of "stop", received "proceed"',
        'environments.staging.approval.warn: expected one of "proceed", "stop", received "approve"',
        'environments.staging.approval: unknown key "error"; remove or rename it',
      ]),
    );
    expect(problems).toHaveLength(3);
  });

  it('GIVEN a smoke base URL that is not https THEN it names the path, what is expected and what it got', () => {
    // Prepare
    const file = repositoryFile();
    file.environments.staging.smoke.baseUrl = 'ftp://x';

    // Act
    const problems = problemsOf(file);

    // Assess
    expect(problems).toEqual([
      'environments.staging.smoke.baseUrl: expected an https URL (without credentials, query or fragment), received "ftp://x"',
    ]);
  });

  it.each([
    [
      'deploy',
      'expected an SSM path such as /deploy: starts with /, levels of letters, digits, _ . and -, no trailing /',
    ],
    [
      '/deploy/',
      'expected an SSM path such as /deploy: starts with /, levels of letters, digits, _ . and -, no trailing /',
    ],
    [
      '/deploy images',
      'expected an SSM path such as /deploy: starts with /, levels of letters, digits, _ . and -, no trailing /',
    ],
    ['/aws/images', 'expected a path that does not start with /aws or /ssm (reserved by SSM)'],
    ['/SSM', 'expected a path that does not start with /aws or /ssm (reserved by SSM)'],
    [
      '/a/b/c/d/e/f/g/h/i/j/k/l/m',
      'expected at most 12 levels (SSM allows 15, the orchestrator adds /<environment>/<container>/image)',
    ],
  ])('GIVEN the image parameter prefix %j THEN it says what SSM accepts', (prefix, expected) => {
    // Prepare
    const file = repositoryFile();
    file.environments.staging.imageParameterPrefix = prefix;

    // Act / Assess
    expect(problemsOf(file)).toEqual([
      `environments.staging.imageParameterPrefix: ${expected}, received "${prefix}"`,
    ]);
  });

  it('GIVEN no image parameter prefix THEN the parameters live below /deploy', () => {
    // Prepare
    const file = repositoryFile();
    delete file.environments.staging.imageParameterPrefix;

    // Act / Assess
    expect(parseDeployConfig(file, 'deploy.config.json').environments.staging!.imageParameterPrefix).toBe(
      '/deploy',
    );
  });

  it('GIVEN an environment name with capitals THEN it says which names are allowed', () => {
    // Prepare
    const file = repositoryFile();
    file.environments.Prod = file.environments.production;
    delete file.environments.production;

    // Act / Assess
    expect(problemsOf(file)).toEqual([
      'environments.Prod: expected an environment name matching ^[a-z][a-z0-9-]*$ (lower case, digits, dashes), received "Prod"',
    ]);
  });

  it('GIVEN a missing field, a wrong type, an unknown key and a value outside a list THEN each is named', () => {
    // Prepare
    const file = repositoryFile();
    delete file.environments.production.rollout.timeoutSeconds;
    file.environments.production.containers[2].port = '3002';
    file.environments.production.colour = 'blue';
    file.environments.staging.smoke.checks[0].expectBody = 'healthy';

    // Act
    const problems = problemsOf(file);

    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        'environments.production.rollout.timeoutSeconds: expected number, received nothing (it is required)',
        'environments.production.containers.2.port: expected number, received "3002"',
        'environments.production: unknown key "colour"; remove or rename it',
        'environments.staging.smoke.checks.0.expectBody: expected one of "health-ok", "ready", "service-identity", "version", received "healthy"',
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('GIVEN names AWS would refuse THEN each says what such a name looks like', () => {
    // Prepare
    const file = repositoryFile();
    file.environments.staging.containers[0].repository = 'Shop/API';
    file.environments.staging.secrets[0].name = 'arn:aws:secretsmanager:eu-central-1:1:secret:x';
    file.environments.staging.region = 'Frankfurt';

    // Act
    const problems = problemsOf(file);

    // Assess
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^environments\.staging\.containers\.0\.repository: expected an ECR repository name .*received "Shop\/API"$/,
        ),
        expect.stringMatching(
          /^environments\.staging\.secrets\.0\.name: expected a Secrets Manager name \(not an ARN\).*received "arn:aws/,
        ),
        'environments.staging.region: expected an AWS region such as eu-central-1, received "Frankfurt"',
      ]),
    );
  });

  it('GIVEN two primary containers THEN it asks for exactly one', () => {
    // Prepare
    const file = repositoryFile();
    file.environments.staging.containers[1].primary = true;

    // Act / Assess
    expect(problemsOf(file)).toEqual([
      'environments.staging.containers: expected exactly one container with "primary": true, received 2',
    ]);
  });

  it('GIVEN smoke.versionReportedBy naming no configured container THEN it lists the containers', () => {
    // Prepare
    const file = repositoryFile();
    file.environments.staging.smoke.versionReportedBy = 'control';

    // Act / Assess
    expect(problemsOf(file)).toEqual([
      'environments.staging.smoke.versionReportedBy: expected the name of one of the containers ("control-center", ' +
        '"mcp-github", "mcp-deploy", "mcp-observability"), received "control"',
    ]);
  });

  it('GIVEN smoke.versionReportedBy naming a configured container THEN it is accepted, and the primary one is the default', () => {
    // Prepare
    const file = repositoryFile();
    file.environments.staging.smoke.versionReportedBy = 'mcp-github';

    // Act
    const config = parseDeployConfig(file, 'deploy.config.json');

    // Assess
    expect(versionReporterOf(config.environments.staging!)).toBe('mcp-github');
    expect(versionReporterOf(config.environments.production!)).toBe('control-center');
  });

  it('GIVEN environments in two regions THEN it refuses, since the rules see one region', () => {
    // Prepare
    const file = repositoryFile();
    file.environments.production.region = 'us-east-1';

    // Act / Assess
    expect(problemsOf(file)).toEqual([
      'environments: expected one region for every environment (EventBridge rules see only their own), received eu-central-1, us-east-1',
    ]);
  });

  it('GIVEN no environment THEN it asks for one', () => {
    expect(problemsOf({ environments: {} })).toEqual([
      'environments: expected at least one environment, received none',
    ]);
  });

  it('GIVEN text that is not JSON THEN it names the file and says to fix its syntax', () => {
    // Act
    const parse = () => parseDeployConfigText('{ "environments": ', 'shop.json');

    // Assess
    expect(parse).toThrow(/^The deployment configuration shop\.json is not JSON \(.+\)\. Fix its syntax\.$/);
  });

  it('GIVEN a refused file THEN the message names the file, lists every problem and where the fields are described', () => {
    // Prepare
    const file = repositoryFile();
    file.environments.staging.smoke.baseUrl = 'ftp://x';

    // Act
    const parse = () => parseDeployConfig(file, '/srv/shop/deploy.config.json');

    // Assess
    expect(parse).toThrow(
      'The deployment configuration /srv/shop/deploy.config.json is not valid:\n' +
        '  environments.staging.smoke.baseUrl: expected an https URL (without credentials, query or fragment), received "ftp://x"\n' +
        'Fix these and run the command again (docs/configuration.md describes every field).',
    );
  });

  describe('finding the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deploy-config-'));

    it("uses the path given, else ./deploy.config.json, else the repository's", () => {
      // Prepare
      const empty = mkdtempSync(join(tmpdir(), 'deploy-config-empty-'));
      writeFileSync(join(dir, 'deploy.config.json'), readFileSync(repositoryConfigPath));

      // Act / Assess
      expect(resolveConfigPath('other.json', dir)).toBe(join(dir, 'other.json'));
      expect(resolveConfigPath(undefined, dir)).toBe(join(dir, 'deploy.config.json'));
      expect(resolveConfigPath(undefined, empty)).toBe(repositoryConfigPath);
    });

    it('GIVEN a path with no file THEN it says how to give one or write one', () => {
      expect(() => loadDeployConfig(join(dir, 'missing.json'))).toThrow(
        /Cannot read the deployment configuration .*missing\.json \(ENOENT\)\. Pass the path of an existing file with --config .* or write one with `afu9-deploy init`\./,
      );
    });
  });
});
