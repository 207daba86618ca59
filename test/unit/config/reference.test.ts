/**
 * The documents generated from the configuration schema stay equal to it: the JSON Schema editors
 * validate deploy.config.json with, and the reference in docs/configuration.md. When one fails, run
 * `npm run config:reference` and commit the result.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { repositoryConfigPath } from '../../../infra/deploy-config-file';
import {
  referenceFilePath,
  referenceFileText,
  schemaFilePath,
  schemaFileText,
} from '../../../infra/deploy-config-reference';

describe('the documents generated from the configuration schema', () => {
  it('deploy.config.schema.json is the JSON Schema of the zod schema, as generated', () => {
    expect(readFileSync(schemaFilePath, 'utf8')).toBe(schemaFileText());
  });

  it('docs/configuration.md is the reference of the zod schema, as generated', () => {
    expect(readFileSync(referenceFilePath, 'utf8')).toBe(referenceFileText());
  });

  it('deploy.config.json names the JSON Schema in $schema, so editors check it as it is typed', () => {
    // Act
    const { $schema } = JSON.parse(readFileSync(repositoryConfigPath, 'utf8')) as { $schema: string };

    // Assess
    expect(resolve(dirname(repositoryConfigPath), $schema)).toBe(schemaFilePath);
  });

  it('the JSON Schema refuses what the zod schema refuses: unknown keys and environment names with capitals', () => {
    // Act
    const schema = JSON.parse(readFileSync(schemaFilePath, 'utf8')) as {
      additionalProperties: boolean;
      properties: { environments: { propertyNames: { pattern: string } } };
    };

    // Assess
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.environments.propertyNames.pattern).toBe('^[a-z][a-z0-9-]*$');
  });
});
