// Starts the built sample server on 127.0.0.1 with a free port, in emulator mode (no credentials).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** @returns {Promise<number>} a port that was free a moment ago */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * @param {string} repoRoot
 * @returns {{ url: string, stop: () => Promise<void>, output: () => string } & Promise<never>}
 */
export async function startSampleServer(repoRoot, { timeoutMs = 60000 } = {}) {
  // A server someone already started (for debugging the page against a server in a debugger).
  if (process.env.VOICECHAT_SAMPLE_URL) {
    return { url: process.env.VOICECHAT_SAMPLE_URL.replace(/\/$/, ''), output: () => '', stop: async () => {} };
  }
  const projectDir = path.join(repoRoot, 'samples', 'VoiceChat.Sample');
  const configuration = process.env.VOICECHAT_CONFIGURATION ?? 'debug';
  const dll = path.join(repoRoot, 'artifacts', 'bin', 'VoiceChat.Sample', configuration, 'VoiceChat.Sample.dll');
  if (!existsSync(dll)) {
    throw new Error(`${dll} is missing: build the sample first (dotnet build samples/VoiceChat.Sample).`);
  }
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env, ASPNETCORE_ENVIRONMENT: 'Development', DOTNET_NOLOGO: '1' };
  // Emulator mode: no credentials may leak in from the environment.
  for (const key of Object.keys(env)) {
    if (/^VoiceChat__Gemini__(ApiKey|Backend)$/i.test(key) || key === 'GOOGLE_API_KEY' || key === 'GEMINI_API_KEY'
      || key === 'GOOGLE_APPLICATION_CREDENTIALS') {
      delete env[key];
    }
  }
  // The content root is the project directory, as with `dotnet run`, so wwwroot is found.
  const child = spawn('dotnet', [dll, '--urls', url], { cwd: projectDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  let exited = false;
  child.once('exit', () => { exited = true; });
  // Never leave the server behind, even when the test run is killed (suite timeout, Ctrl+C).
  const killChild = () => { if (!exited) child.kill('SIGKILL'); };
  process.once('exit', killChild);
  for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT'])) {
    process.once(signal, () => { killChild(); process.exit(130); });
  }

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`The sample server exited during start-up:\n${log}`);
    try {
      const res = await fetch(`${url}/health/live`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`The sample server did not answer /health/live in time:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    output: () => log,
    stop: async () => {
      if (exited) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await gone;
      clearTimeout(timer);
    },
  };
}
