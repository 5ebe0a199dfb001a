// push.mjs pushes authorization requests (RFC 9126) with openid-client, or
// runs whole logins, for a fixed time at a fixed concurrency, and prints one
// JSON line:
// {"impl":"openid-client","auth":…,"concurrency":…,"pushes":…,"errors":…,"seconds":…,"cpu_seconds":…}
// where pushes counts completed operations (pushes, or logins) and
// cpu_seconds is this process's own CPU time in the measured window.
//
// It sends what go-par sends: response_type, client_id, redirect_uri, scope,
// state, nonce and an S256 code_challenge, with client_secret_basic or a
// private_key_jwt ES256 assertion. Modes:
//   push   one configuration (discovery once), pushes only;
//   login  one configuration, then push, callback, code exchange and ID
//          token verification (signature against the JWKS, fetched once);
//   cold   a first login each time: a new connection pool (new TLS
//          handshakes), discovery, push, callback, code exchange, JWKS
//          fetch and ID token verification.
// The authorization step needs no request: the stub's code is the
// request_uri's suffix (bench/internal/stub), so the callback URL is built
// here, as Go's clients build it.
//
// HTTP goes through undici (the fetch of Node itself) with an Agent per
// configuration: --tls h2 allows HTTP/2 (undici's allowH2), h1 and off do
// not. The stub's certificate is trusted with NODE_EXTRA_CA_CERTS.
// bench/cmd/compare runs it; by hand:
//
//	node push.mjs --issuer http://127.0.0.1:PORT --auth client_secret_basic --concurrency 32 --seconds 3
import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';

function args(argv) {
  const out = { auth: 'client_secret_basic', concurrency: 1, seconds: 3, warmup: 0.5, mode: 'push', tls: 'off' };
  const strings = ['issuer', 'auth', 'mode', 'tls'];
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in out) && name !== 'issuer') throw new Error(`unknown flag ${argv[i]}`);
    out[name] = strings.includes(name) ? argv[i + 1] : Number(argv[i + 1]);
  }
  if (!out.issuer) throw new Error('--issuer is required');
  const u = new URL(out.issuer);
  if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') throw new Error('loopback issuers only');
  if (!(out.concurrency >= 1 && out.concurrency <= 1024)) throw new Error('--concurrency must be 1..1024');
  if (!(out.seconds > 0 && out.seconds <= 600)) throw new Error('--seconds must be in (0, 600]');
  if (!['push', 'login', 'cold'].includes(out.mode)) throw new Error('--mode must be push, login or cold');
  if (!['off', 'h1', 'h2'].includes(out.tls)) throw new Error('--tls must be off, h1 or h2');
  return out;
}

const clientID = '0a775a87-878c-4b83-abe3-ee29c720c3e7';
const secret = 'rGeNSwAjv+AH/W6Ew5dOB7aO3eDlTFr=';
const redirectURI = 'https://app.example/callback';
const requestURIPrefix = 'urn:ietf:params:oauth:request_uri:';

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
  const issuer = new URL(opts.issuer);

  // configure returns a configuration with its own connection pool.
  async function configure() {
    const agent = new Agent({ allowH2: opts.tls === 'h2', connections: opts.concurrency * 2 });
    const fetcher = (url, options) => undiciFetch(url, { ...options, dispatcher: agent });
    const execute = [client.enableNonRepudiationChecks];
    if (opts.tls === 'off') execute.push(client.allowInsecureRequests);
    const config = await client.discovery(issuer, clientID, undefined, auth, {
      execute,
      [client.customFetch]: fetcher,
    });
    config[client.customFetch] = fetcher;
    return { config, agent };
  }

  async function push(config) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = await client.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: redirectURI,
      scope: 'openid mitid',
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const requestURI = url.searchParams.get('request_uri');
    if (!requestURI) throw new Error('no request_uri');
    return { verifier, state, nonce, requestURI };
  }

  async function login(config) {
    const f = await push(config);
    if (!f.requestURI.startsWith(requestURIPrefix)) throw new Error('not a stub request_uri');
    const cb = new URL(redirectURI);
    cb.searchParams.set('code', f.requestURI.slice(requestURIPrefix.length));
    cb.searchParams.set('state', f.state);
    cb.searchParams.set('iss', config.serverMetadata().issuer);
    const tokens = await client.authorizationCodeGrant(config, cb, {
      pkceCodeVerifier: f.verifier,
      expectedState: f.state,
      expectedNonce: f.nonce,
      idTokenExpected: true,
    });
    if (tokens.claims().sub !== 'alice') throw new Error('wrong subject');
  }

  let op;
  if (opts.mode === 'cold') {
    op = async () => {
      const { config, agent } = await configure();
      try {
        await login(config);
      } finally {
        await agent.close();
      }
    };
  } else {
    const { config } = await configure();
    op = opts.mode === 'push' ? () => push(config) : () => login(config);
  }

  let counting = false;
  let pushes = 0;
  let errors = 0;
  let lastError = '';
  let stop = false;
  async function worker() {
    while (!stop) {
      try {
        await op();
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
  // Operations still in flight are not counted; give them 5 s, then exit anyway.
  await Promise.race([Promise.all(workers), new Promise((r) => setTimeout(r, 5000))]);
  const out = { impl: 'openid-client', auth: opts.auth, concurrency: opts.concurrency, pushes, errors, seconds, cpu_seconds };
  if (errors > 0) out.last_error = lastError;
  process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
}

main().catch((e) => {
  process.stderr.write(`push.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
