// npm links the bins of dependencies into node_modules/.bin, but never the project's own. This
// `prepare` step (run by `npm ci`) links `afu9-deploy`, so `npx afu9-deploy` works in a fresh clone.
const fs = require('node:fs');
const path = require('node:path');

const binDir = path.join(__dirname, '..', 'node_modules', '.bin');
const link = path.join(binDir, 'afu9-deploy');
fs.mkdirSync(binDir, { recursive: true });
fs.rmSync(link, { force: true });
fs.symlinkSync(path.join('..', '..', 'bin', 'afu9-deploy.cjs'), link);
