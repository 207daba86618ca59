import {
  imageParameterName,
  imageParameterPrefixProblem,
  imageParameterValue,
  parseImageReference,
} from '../../../lambdas/domain/image-parameters';

const digest = 'sha256:f17abd9a871ef6ec25b19d8b6cc997a3221ae2cee6aa9d128ff56dc48d98d521';
const registry = '111122223333.dkr.ecr.eu-central-1.amazonaws.com';

describe('image references of a task definition', () => {
  it.each([
    [`${registry}/afu9/control-center@${digest}`, { registry, repository: 'afu9/control-center', digest }],
    [
      `${registry}/afu9/mcp-github:stage-3f9c2ab`,
      { registry, repository: 'afu9/mcp-github', tag: 'stage-3f9c2ab' },
    ],
    [
      `${registry}/afu9/mcp-deploy:stage-3f9c2ab@${digest}`,
      { registry, repository: 'afu9/mcp-deploy', tag: 'stage-3f9c2ab', digest },
    ],
    ['localhost:5000/api:1', { registry: 'localhost:5000', repository: 'api', tag: '1' }],
    ['nginx', { repository: 'nginx' }],
    ['library/nginx:1.27', { repository: 'library/nginx', tag: '1.27' }],
  ])('splits %s', (image, expected) => {
    expect(parseImageReference(image)).toEqual(expected);
  });

  it.each(['', `${registry}/afu9/api@sha256:abc`, `${registry}/afu9/api:`, 'a@b@c'])(
    'refuses %j, which is no image reference',
    (image) => {
      expect(parseImageReference(image)).toBeUndefined();
    },
  );
});

describe('image parameters', () => {
  it('names one parameter per environment and container, holding repository@digest', () => {
    expect(imageParameterName('/deploy', 'staging', 'control-center')).toBe(
      '/deploy/staging/control-center/image',
    );
    expect(imageParameterValue('afu9/control-center', digest)).toBe(`afu9/control-center@${digest}`);
  });

  it('accepts a prefix of up to 12 levels, leaving SSM three for the environment, container and image', () => {
    expect(imageParameterPrefixProblem('/deploy')).toBeUndefined();
    expect(imageParameterPrefixProblem('/a/b/c/d/e/f/g/h/i/j/k/l')).toBeUndefined();
    expect(imageParameterPrefixProblem('/a/b/c/d/e/f/g/h/i/j/k/l/m')).toMatch(/at most 12 levels/);
  });
});
