#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's CommonJS loader, so `npx afu9-deploy` works right after `npm ci`.
// The SDK's notice that its 2027 releases need Node 22 is not the user's concern here (versions are locked).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('../cli/main.ts').runFromProcess();
