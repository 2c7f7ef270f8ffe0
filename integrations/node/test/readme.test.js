// The README's examples work as printed: the Express app of "From Node.js", copied into
// an empty directory with the package installed as the README says, and the Python
// example of "From Python", which must be integrations/python/example.py verbatim.
'use strict';

const assert = require('node:assert/strict');
const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');
const { test } = require('node:test');
const { Client, DATABASE_URL } = require('./helpers');

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');

// The fenced code blocks of a language in the README, as text.
function blocks(language) {
    const found = [];
    const re = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```$', 'gm');
    for (let m; (m = re.exec(README)) !== null; ) found.push(m[1]);
    return found;
}

// Starts `node app.js` in dir; resolves to {url, child} once it says where it listens.
function startExample(dir) {
    const child = spawn(process.execPath, ['app.js'], {
        cwd: dir,
        env: { ...process.env, DATABASE_URL: DATABASE_URL(), PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`app.js did not start: ${out}`)), 20000);
        const collect = (chunk) => {
            out += chunk;
            const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
            if (m) {
                clearTimeout(timer);
                resolve({ url: m[1], child });
            }
        };
        child.stdout.on('data', collect);
        child.stderr.on('data', collect);
        child.on('exit', (code) => reject(new Error(`app.js exited with ${code}: ${out}`)));
    });
}

test("the README's express example, in an empty directory", async () => {
    const [app] = blocks('js').filter((b) => b.startsWith('// app.js'));
    assert.ok(app, 'README.md has the app.js block');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgsession-readme-'));
    try {
        fs.writeFileSync(path.join(dir, 'app.js'), app);
        const npm = (args) =>
            execFileAsync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...args], { cwd: dir });
        await npm(['express', 'express-session', 'pg']);
        await npm(['--install-links', path.join(ROOT, 'integrations/node')]);
        assert.ok(!fs.lstatSync(path.join(dir, 'node_modules/pgsession')).isSymbolicLink(), 'a copy, not a link');
        // package.json "files": the code and its declarations, not the tests.
        const installed = path.join(dir, 'node_modules/pgsession');
        assert.deepEqual(fs.readdirSync(installed).sort(), ['README.md', 'index.d.ts', 'index.js', 'lib', 'package.json']);

        const { url, child } = await startExample(dir);
        try {
            const browser = new Client(url);
            assert.equal((await browser.get('/me')).status, 401);
            assert.deepEqual(await browser.post('/login', { user: 'ada' }), { status: 200, body: { user: 'ada' } });
            assert.deepEqual(await browser.get('/me'), { status: 200, body: { user: 'ada' } });
            assert.deepEqual(await browser.post('/logout'), { status: 200, body: { user: null } });
            assert.equal((await browser.get('/me')).status, 401);
        } finally {
            child.kill();
        }
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});

test("the README's Python example is integrations/python/example.py, and runs", async () => {
    const file = path.join(ROOT, 'integrations/python/example.py');
    const source = fs.readFileSync(file, 'utf8');
    assert.deepEqual(blocks('python'), [source]);
    // Debian's python3, where python3-psycopg is installed (not one earlier on PATH).
    const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const { stdout } = await execFileAsync(python, [file], { env: { ...process.env, DATABASE_URL: DATABASE_URL() } });
    assert.equal(stdout, 'logged in as user-42\nlogged out: True True\n');
});
