// push.mjs pushes authorization requests (RFC 9126) with openid-client for a
// fixed time at a fixed concurrency, and prints one JSON line:
// {"impl":"openid-client","auth":…,"concurrency":…,"pushes":…,"errors":…,"seconds":…,"cpu_seconds":…}
// where cpu_seconds is this process's own CPU time in the measured window.
//
// It sends what go-par sends: response_type, client_id, redirect_uri, scope,
// state, nonce and an S256 code_challenge, with client_secret_basic or a
// private_key_jwt ES256 assertion. bench/cmd/compare runs it; by hand:
//
//	node push.mjs --issuer http://127.0.0.1:PORT --auth client_secret_basic --concurrency 32 --seconds 3
import * as client from 'openid-client';

function args(argv) {
  const out = { auth: 'client_secret_basic', concurrency: 1, seconds: 3, warmup: 0.5 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in out) && name !== 'issuer') throw new Error(`unknown flag ${argv[i]}`);
    out[name] = name === 'issuer' || name === 'auth' ? argv[i + 1] : Number(argv[i + 1]);
  }
  if (!out.issuer) throw new Error('--issuer is required');
  const u = new URL(out.issuer);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') throw new Error('loopback issuers only');
  if (!(out.concurrency >= 1 && out.concurrency <= 1024)) throw new Error('--concurrency must be 1..1024');
  if (!(out.seconds > 0 && out.seconds <= 600)) throw new Error('--seconds must be in (0, 600]');
  return out;
}

const clientID = '0a775a87-878c-4b83-abe3-ee29c720c3e7';
const secret = 'rGeNSwAjv+AH/W6Ew5dOB7aO3eDlTFr=';

async function main() {
  const opts = args(process.argv.slice(2));
  let auth;
  switch (opts.auth) {
    case 'client_secret_basic':
      auth = client.ClientSecretBasic(secret);
      break;
    case 'private_key_jwt_ES256': {
      const { privateKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
      auth = client.PrivateKeyJwt({ key: privateKey, kid: 'es-1' });
      break;
    }
    default:
      throw new Error(`unknown --auth ${opts.auth}`);
  }
  const config = await client.discovery(new URL(opts.issuer), clientID, undefined, auth, {
    execute: [client.allowInsecureRequests],
  });

  async function push() {
    const verifier = client.randomPKCECodeVerifier();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: 'https://app.example/callback',
      scope: 'openid mitid',
      state: client.randomState(),
      nonce: client.randomNonce(),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    if (!url.searchParams.get('request_uri')) throw new Error('no request_uri');
  }

  let counting = false;
  let pushes = 0;
  let errors = 0;
  let lastError = '';
  let stop = false;
  async function worker() {
    while (!stop) {
      try {
        await push();
        if (counting) pushes++;
      } catch (e) {
        if (counting) errors++;
        lastError = String(e && e.message ? e.message : e);
      }
    }
  }
  const workers = Array.from({ length: opts.concurrency }, worker);
  await new Promise((r) => setTimeout(r, opts.warmup * 1000));
  counting = true;
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await new Promise((r) => setTimeout(r, opts.seconds * 1000));
  counting = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpu_seconds = (used.user + used.system) / 1e6;
  stop = true;
  // Pushes still in flight are not counted; give them 5 s, then exit anyway.
  await Promise.race([Promise.all(workers), new Promise((r) => setTimeout(r, 5000))]);
  const out = { impl: 'openid-client', auth: opts.auth, concurrency: opts.concurrency, pushes, errors, seconds, cpu_seconds };
  if (errors > 0) out.last_error = lastError;
  process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
}

main().catch((e) => {
  process.stderr.write(`push.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
