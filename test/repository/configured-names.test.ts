/**
 * Configuration, not code: no name the deployment configuration gives (cluster, service, task
 * family, container, repository, secret, smoke host) is written in the sources. They come from
 * deploy.config.json, so adopting the orchestrator for another service never means editing them.
 * (Stack names are left out: the validate:diff examples name the sample infrastructure app's stack.)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { repositoryDeployConfig } from '../../infra/deploy-config-file';

const repositoryRoot = join(__dirname, '..', '..');
const sourceTrees = ['lambdas', 'infra', 'statemachine', 'cli', 'sandbox'];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

function configuredNames(): string[] {
  const names = Object.values(repositoryDeployConfig().environments).flatMap((environment) => [
    environment.clusterName,
    environment.serviceName,
    environment.taskFamily,
    ...environment.containers.flatMap((container) => [container.name, container.repository]),
    ...environment.secrets.map((secret) => secret.name),
    new URL(environment.smoke.baseUrl).host,
  ]);
  return [...new Set(names)];
}

describe('the sources', () => {
  it('name no cluster, service, family, container, repository, secret or host of the configuration', () => {
    // Prepare
    const names = configuredNames();
    const files = sourceTrees.flatMap((tree) => filesUnder(join(repositoryRoot, tree)));

    // Act
    const found = files.flatMap((file) => {
      const text = readFileSync(file, 'utf8');
      return names
        .filter((name) => text.includes(name))
        .map((name) => `${relative(repositoryRoot, file)}: ${name}`);
    });

    // Assess
    expect(names).toEqual(
      expect.arrayContaining(['afu9-cluster', 'afu9-control-center-staging', 'afu9/database']),
    );
    expect(found).toEqual([]);
  });

  it("say the application's name only through the configuration: no message in lambdas/ or cli/ holds its displayName", () => {
    // Prepare
    const { displayName } = repositoryDeployConfig();
    const files = ['lambdas', 'cli']
      .flatMap((tree) => filesUnder(join(repositoryRoot, tree)))
      .filter((file) => file.endsWith('.ts'));

    // Act: the text of every string and template literal (comments may name it; messages may not)
    const found = files.flatMap((file) => {
      const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
      const hits: string[] = [];
      const visit = (node: ts.Node): void => {
        if (
          ts.isStringLiteralLike(node) ||
          ts.isTemplateHead(node) ||
          ts.isTemplateMiddle(node) ||
          ts.isTemplateTail(node)
        ) {
          if (node.text.includes(displayName)) hits.push(`${relative(repositoryRoot, file)}: ${node.text}`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
      return hits;
    });

    // Assess
    expect(displayName).toBe('AFU-9');
    expect(found).toEqual([]);
  });
});
