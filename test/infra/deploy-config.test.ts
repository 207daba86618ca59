/**
 * `cdk synth|deploy -c config=<path>`: the app builds the stack from the configuration file given
 * (default deploy.config.json), in its region, and refuses a file the schema refuses with every
 * problem named. (test/sandbox/adoption checks the bundles carry the file.)
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundledConfigDefine, BUNDLED_CONFIG_IDENTIFIER } from '../../infra/handler-bundling';
import { repositoryDeployConfig } from '../../infra/deploy-config-file';
import { synthTemplate, buildApp } from './synth';

const shopConfig = join(__dirname, '..', 'fixtures', 'config', 'shop.deploy.config.json');

describe('the stack from a configuration file', () => {
  it("GIVEN -c config=<the shop's file> THEN the stack is in its region and its rules and grants name its resources", () => {
    // Act
    const { stack, template } = synthTemplate({ context: { config: shopConfig } });

    // Assess
    expect(stack.region).toBe('eu-west-1');
    const text = JSON.stringify(template.toJSON());
    expect(text).toContain('"repository-name":["shop/api"]');
    expect(text).toContain('service/shop-cluster/shop-api-staging');
    expect(text).toContain('secret:shop/db-');
    expect(text).not.toContain('afu9-cluster');
  });

  it("GIVEN no config context THEN it is built from the repository's deploy.config.json", () => {
    // Act
    const { stack, template } = synthTemplate();

    // Assess
    expect(stack.region).toBe('eu-central-1');
    expect(JSON.stringify(template.toJSON())).toContain('service/afu9-cluster/afu9-control-center-staging');
  });

  it('GIVEN a file the schema refuses THEN synth stops, naming the file and each problem with its path', () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'afu9-synth-')), 'deploy.config.json');
    writeFileSync(file, JSON.stringify({ environments: { Staging: {} } }));

    // Act / Assess
    expect(() => buildApp({ context: { config: file } })).toThrow(
      `The deployment configuration ${file} is not valid:\n` +
        '  environments.Staging: expected an environment name matching ^[a-z][a-z0-9-]*$ (lower case, digits, dashes), received "Staging"',
    );
  });

  it('bundles the configuration as a string literal esbuild puts where the handlers read it', () => {
    // Act
    const define = bundledConfigDefine(repositoryDeployConfig());

    // Assess
    const text = JSON.parse(define[BUNDLED_CONFIG_IDENTIFIER]!) as string;
    expect(JSON.parse(text)).toMatchObject({ environments: { staging: { clusterName: 'afu9-cluster' } } });
  });
});
