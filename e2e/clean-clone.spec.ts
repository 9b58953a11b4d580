/**
 * The README's own commands on a clean clone: `git clone` of this repository (its
 * committed HEAD) into a temp folder, `npm install && npm run dev` exactly as the README
 * says, in a shell without ONNXRUNTIME_NODE_INSTALL or any npm_* variable, then the
 * default preset loads in the page. The documented `npm run --silent caption -- … --json`
 * form writes clean JSON.
 */
import { expect, test } from '@playwright/test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from './app/helpers';

/** The environment of a fresh shell: no npm context from the runner, no skip variable. */
function freshEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|NPM_|ONNXRUNTIME_NODE_INSTALL|INIT_CWD|NODE_OPTIONS)/.test(k)) env[k] = v;
  return { ...env, FORCE_COLOR: '0', NO_COLOR: '1' };
}

/** The README's first shell block under "Set-up". */
function readmeRunCommand(): string {
  const readme = readFileSync('README.md', 'utf8');
  const m = /## Set-up[\s\S]*?```sh\n([^\n]+)\n```/.exec(readme);
  if (!m) throw new Error('README.md has no "## Set-up" section with a ```sh block');
  return m[1].trim();
}

test('a clean clone: the README install + run command serves the app and the default preset loads', async ({ page }) => {
  test.setTimeout(600_000);
  const repo = spawnSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' });
  test.skip(repo.status !== 0, 'not a git checkout: nothing to clone');
  const command = readmeRunCommand();
  expect(command).toBe('npm install && npm run dev');

  const dir = mkdtempSync(join(tmpdir(), 'salmonn-clone-'));
  const clone = join(dir, 'repo');
  let server: ChildProcess | null = null;
  try {
    const git = spawnSync('git', ['clone', '--quiet', repo.stdout.trim(), clone], { encoding: 'utf8' });
    expect(git.status, git.stderr).toBe(0);

    // The README's command, verbatim; Vite takes the next free port when 5173 is taken.
    let output = '';
    server = spawn('bash', ['-c', command], { cwd: clone, env: freshEnv(), detached: true });
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d.toString();
        const m = /Local:\s+(http:\/\/\S+?)\/?\s/.exec(output);
        if (m) resolve(m[1]);
      };
      server!.stdout!.on('data', onData);
      server!.stderr!.on('data', onData);
      server!.on('exit', (code) => reject(new Error(`"${command}" exited with ${code} before serving:\n${output}`)));
    });
    expect(output).not.toContain('Unknown project config');
    expect(output).not.toMatch(/api\.nuget\.org|ENOTFOUND/);
    // npm run dev built the default preset that a clone does not have.
    expect(output).toContain('npm run models:tiny');

    await page.goto(url);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('SALMONN Captioner');
    await expect(page.locator('#preset')).toHaveValue('lite'); // a new user's default: the lite preset (downloads from the Hub)
    await page.locator('#preset').selectOption('tiny'); // built by npm run dev, offline
    await page.getByTestId('force-wasm').check();
    await page.getByTestId('load-model').click();
    await expect(page.getByTestId('model-status')).toHaveAttribute('data-status', 'ready', { timeout: 180_000 });
    await expect(page.getByTestId('model-name')).toContainText('tiny-random-seed0');

    // The documented CLI form: stdout is the JSON report and nothing else.
    const cli = spawnSync('bash', ['-c', `npm run --silent caption -- "${fixture('short.mp4')}" --json --max-new-tokens 4`], { cwd: clone, env: freshEnv(), encoding: 'utf8', timeout: 180_000 });
    expect(cli.status, cli.stderr).toBe(0);
    const report = JSON.parse(cli.stdout) as { caption: string; video: { name: string } };
    expect(report.video.name).toBe('short.mp4');
  } finally {
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
