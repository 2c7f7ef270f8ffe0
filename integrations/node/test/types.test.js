// index.d.ts is hand-written: it must type-check as an application uses it, against
// express-session's and pg's own declarations (test/types/check.ts, compiled, not run).
'use strict';

const { execFile } = require('node:child_process');
const path = require('node:path');
const { promisify } = require('node:util');
const { test } = require('node:test');

test('index.d.ts type-checks with tsc --strict', async () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const check = path.join(__dirname, 'types', 'check.ts');
    const args = ['--noEmit', '--strict', '--esModuleInterop', '--module', 'commonjs', '--target', 'es2020', check];
    await promisify(execFile)(process.execPath, [tsc, ...args]).catch((err) => {
        throw new Error(`tsc failed:\n${err.stdout}${err.stderr}`);
    });
});
