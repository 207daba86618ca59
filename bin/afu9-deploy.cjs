#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's CommonJS loader, so `npx afu9-deploy` works right after `npm ci`.
require('tsx/cjs');
require('../cli/main.ts').runFromProcess();
