// server.mjs starts a node-oidc-provider (pinned in ../package.json) for the
// go-par interoperability tests. The Go tests start it; it is not a product.
//
//   node provider/server.mjs --config /tmp/op.json [--port 0] [--mode optional|required|dpop-nonce]
//
// --port 0 (the default) takes a free 127.0.0.1 port. When listening it prints
// one line to stdout:  READY <issuer>
// It exits when stdin closes (the parent died) or on SIGTERM/SIGINT, so no
// orphan outlives a killed test run.
//
// Modes:
//   optional    PAR offered, not required (clients with require_pushed_authorization_requests excepted)
//   required    require_pushed_authorization_requests: true for every client, advertised in discovery
//   dpop-nonce  like optional, but DPoP proofs must carry a server nonce (RFC 9449 §8, §9)
//   no-par      PAR disabled, as at most OpenID Connect providers: no pushed_authorization_request_endpoint,
//               classic front-channel authorization requests only (the par-only client is not registered)
//
// The config file (written by the Go test) holds what only the test knows:
//   {
//     "redirect_uri": "http://127.0.0.1:<port>/cb",
//     "secrets": { "<client_id>": "<secret>", ... },
//     "jwks":    { "<client_id>": { "keys": [ <public JWK> ] }, ... },
//     "backchannel_logout_uri": "http://127.0.0.1:<port>/..."   (optional: the session client's)
//   }
// A private_key_jwt client's jwks holds its signing keys; any other client
// may have one too, holding its encryption key (use "enc") for encrypted
// JWT-secured authorization responses.
// The client catalogue (ids, authentication methods, algorithms) is below.
// Login and consent are headless: GET /interaction/:uid finishes the
// interaction for a fixed test user, so a cookie-jar HTTP client can follow
// the authorize redirects to the redirect_uri.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { parseArgs } from 'node:util';

import Provider, { errors } from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    mode: { type: 'string', default: 'optional' },
    config: { type: 'string' },
  },
});

const MODES = new Set(['optional', 'required', 'dpop-nonce', 'no-par']);
if (!MODES.has(args.mode)) {
  fail(`unknown --mode ${args.mode}`);
}
if (!args.config) {
  fail('--config is required');
}

function fail(msg) {
  process.stderr.write(`server.mjs: ${msg}\n`);
  process.exit(2);
}

// Exit with the parent: stdin is a pipe from the Go test.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => process.exit(0));
}

const testConfig = JSON.parse(fs.readFileSync(args.config, 'utf8'));
const redirectURI = testConfig.redirect_uri;
if (typeof redirectURI !== 'string' || !redirectURI) {
  fail('config: redirect_uri missing');
}

function secretFor(id) {
  const s = testConfig.secrets?.[id];
  if (typeof s !== 'string' || !s) fail(`config: secret for ${id} missing`);
  return s;
}

function jwksFor(id) {
  const j = testConfig.jwks?.[id];
  if (!j || !Array.isArray(j.keys) || j.keys.length === 0) fail(`config: jwks for ${id} missing`);
  return j;
}

// The client catalogue. Every client is a confidential web client using the
// authorization code flow with the test's redirect_uri.
const catalogue = [
  // Client authentication (RFC 6749 §2.3.1, OIDC Core §9).
  { client_id: 'basic', token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'client_credentials'] },
  { client_id: 'basic-special', token_endpoint_auth_method: 'client_secret_basic' },
  { client_id: 'post', token_endpoint_auth_method: 'client_secret_post' },
  { client_id: 'secret-jwt', token_endpoint_auth_method: 'client_secret_jwt', token_endpoint_auth_signing_alg: 'HS256' },
  { client_id: 'pkjwt-es256', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256' },
  { client_id: 'pkjwt-rs256', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS256' },
  { client_id: 'pkjwt-ps256', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'PS256' },
  // Per-client PAR requirement (RFC 9126 §6).
  { client_id: 'par-only', token_endpoint_auth_method: 'client_secret_basic', require_pushed_authorization_requests: true },
  // Signed request objects pushed to the PAR endpoint (RFC 9101, RFC 9126 §3).
  { client_id: 'jar-hs256', token_endpoint_auth_method: 'client_secret_basic', request_object_signing_alg: 'HS256', require_signed_request_object: true },
  { client_id: 'jar-rs256', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS256', request_object_signing_alg: 'RS256', require_signed_request_object: true },
  { client_id: 'jar-ps256', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'PS256', request_object_signing_alg: 'PS256', require_signed_request_object: true },
  { client_id: 'jar-es256', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256', request_object_signing_alg: 'ES256', require_signed_request_object: true },
  { client_id: 'jar-eddsa', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'EdDSA', request_object_signing_alg: 'EdDSA', require_signed_request_object: true },
  // Sender-constrained tokens (RFC 9449 §5.2).
  { client_id: 'dpop', token_endpoint_auth_method: 'client_secret_basic', dpop_bound_access_tokens: true },
  // JWT-secured authorization responses (JARM §3): signed PS256; signed
  // ES256 and encrypted to the client's RSA key (use enc in its jwks).
  { client_id: 'jarm', token_endpoint_auth_method: 'client_secret_basic', authorization_signed_response_alg: 'PS256' },
  {
    client_id: 'jarm-enc',
    token_endpoint_auth_method: 'client_secret_basic',
    authorization_signed_response_alg: 'ES256',
    authorization_encrypted_response_alg: 'RSA-OAEP-256',
    authorization_encrypted_response_enc: 'A256GCM',
  },
  // Rich Authorization Requests (RFC 9396 §10.2 authorization_details_types).
  { client_id: 'rar', token_endpoint_auth_method: 'client_secret_basic', authorization_details_types: ['payment_initiation', 'account_information'] },
  // Sessions (package session): refresh tokens, and OIDC Back-Channel
  // Logout 1.0 to the test's backchannel_logout_uri, with sid.
  {
    client_id: 'session',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'],
    ...(testConfig.backchannel_logout_uri
      ? { backchannel_logout_uri: testConfig.backchannel_logout_uri, backchannel_logout_session_required: true }
      : {}),
  },
];

const clients = catalogue
  .filter((c) => testConfig.secrets?.[c.client_id] !== undefined || testConfig.jwks?.[c.client_id] !== undefined)
  .filter((c) => args.mode !== 'no-par' || !c.require_pushed_authorization_requests)
  .map((c) => {
    const out = {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [redirectURI],
      ...c,
    };
    if (c.token_endpoint_auth_method === 'private_key_jwt' || c.authorization_encrypted_response_alg) {
      out.jwks = jwksFor(c.client_id);
    }
    if (c.token_endpoint_auth_method !== 'private_key_jwt') {
      out.client_secret = secretFor(c.client_id);
    }
    return out;
  });
if (clients.length === 0) {
  fail('config: no client has a secret or a jwks');
}

// The provider's own signing keys, fresh for every run.
function privateJWK(type, opts, extra) {
  const { privateKey } = crypto.generateKeyPairSync(type, opts);
  return { ...privateKey.export({ format: 'jwk' }), ...extra };
}
const providerKeys = {
  keys: [
    privateJWK('rsa', { modulusLength: 2048 }, { kid: 'op-rsa', use: 'sig' }),
    privateJWK('ec', { namedCurve: 'P-256' }, { kid: 'op-ec', use: 'sig' }),
  ],
};

// Rich Authorization Requests (RFC 9396): the types the provider knows. Their
// members are the resource server's business; the provider checks only the
// common shape (type, locations, actions, datatypes, identifier, privileges).
// Requests with authorization_details are for one resource server, the
// default resource below (node-oidc-provider ties RAR to RFC 8707 resource
// indicators), and what was asked is what is granted.
const RAR_TYPES = ['payment_initiation', 'account_information'];
const RAR_RESOURCE = 'urn:go-par:interop:rar';

// The one test user.
const ACCOUNT_ID = 'interop-user-1';
const ACCOUNT_CLAIMS = {
  sub: ACCOUNT_ID,
  email: 'interop@example.test',
  email_verified: true,
  name: 'Interop Tester',
  given_name: 'Interop',
  family_name: 'Tester',
};

// A map-backed adapter without the 1000-entry cap of the built-in one.
const stores = new Map();
function storeFor(name) {
  if (!stores.has(name)) stores.set(name, new Map());
  return stores.get(name);
}
const grantIndex = new Map(); // grantId -> Set of [name, id]
const uidIndex = new Map(); // session uid -> id
const userCodeIndex = new Map(); // user code -> id

class MemoryAdapter {
  constructor(name) {
    this.name = name;
    this.store = storeFor(name);
  }

  async upsert(id, payload, expiresIn) {
    const exp = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
    this.store.set(id, { payload: structuredClone(payload), exp });
    if (payload.grantId) {
      if (!grantIndex.has(payload.grantId)) grantIndex.set(payload.grantId, new Set());
      grantIndex.get(payload.grantId).add(`${this.name}\u0000${id}`);
    }
    if (payload.uid) uidIndex.set(payload.uid, id);
    if (payload.userCode) userCodeIndex.set(payload.userCode, id);
  }

  async find(id) {
    const e = this.store.get(id);
    if (!e) return undefined;
    if (e.exp !== undefined && e.exp < Date.now()) {
      this.store.delete(id);
      return undefined;
    }
    return structuredClone(e.payload);
  }

  async findByUid(uid) {
    const id = uidIndex.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = userCodeIndex.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const e = this.store.get(id);
    if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    this.store.delete(id);
  }

  async revokeByGrantId(grantId) {
    for (const key of grantIndex.get(grantId) ?? []) {
      const [name, id] = key.split('\u0000');
      storeFor(name).delete(id);
    }
    grantIndex.delete(grantId);
  }
}

const server = http.createServer();
server.listen(Number(args.port), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration());
  provider.proxy = false;

  // Useful when a test fails: run with GOPAR_INTEROP_DEBUG=1 to see why.
  if (process.env.GOPAR_INTEROP_DEBUG) {
    for (const ev of ['server_error', 'authorization.error', 'pushed_authorization_request.error', 'grant.error', 'backchannel.error']) {
      provider.on(ev, (ctx, err) => process.stderr.write(`op ${ev}: ${err?.message} ${err?.error_description ?? ''}\n`));
    }
  }

  const callback = provider.callback();
  server.on('request', (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    if (req.method === 'GET' && path.startsWith('/interaction/')) {
      finishInteraction(provider, req, res).catch((err) => {
        process.stderr.write(`interaction: ${err.stack}\n`);
        res.statusCode = 500;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ error: 'server_error', error_description: 'interaction failed' }));
      });
      return;
    }
    callback(req, res);
  });
  process.stdout.write(`READY ${issuer}\n`);
});

// finishInteraction logs the test user in and grants what the client asked
// for (OIDC Core §3.1.2.4), without rendering anything.
async function finishInteraction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, grantId } = details;
  switch (prompt.name) {
    case 'login':
      await provider.interactionFinished(req, res, {
        login: { accountId: ACCOUNT_ID, amr: ['pwd'], acr: 'urn:go-par:interop' },
      }, { mergeWithLastSubmission: false });
      return;
    case 'consent': {
      const grant = grantId
        ? await provider.Grant.find(grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const d = prompt.details;
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      if (d.missingResourceScopes) {
        for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
          grant.addResourceScope(indicator, scopes.join(' '));
        }
      }
      for (const detail of d.rar ?? []) {
        grant.addRar(detail);
      }
      const id = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId: id } }, { mergeWithLastSubmission: true });
      return;
    }
    default:
      throw new Error(`unexpected prompt ${prompt.name}`);
  }
}

function configuration() {
  return {
    adapter: MemoryAdapter,
    clients,
    jwks: providerKeys,
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    findAccount: async (ctx, sub) => {
      if (sub !== ACCOUNT_ID) return undefined;
      return { accountId: sub, claims: async () => ({ ...ACCOUNT_CLAIMS }) };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    responseTypes: ['code'],
    pkce: { required: () => true },
    // Outgoing requests (back-channel logout tokens) go to the test's app on
    // 127.0.0.1, which the provider's SSRF guard (a dispatcher refusing
    // special-use addresses) would refuse: plain fetch, test-only.
    fetch: (url, options) => {
      const { dispatcher, ...rest } = options;
      return fetch(url, rest);
    },
    // Refresh tokens for every client allowed the refresh_token grant (the
    // session client), without the offline_access consent dance.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      pushedAuthorizationRequests: {
        enabled: args.mode !== 'no-par',
        requirePushedAuthorizationRequests: args.mode === 'required',
      },
      requestObjects: { enabled: true },
      dPoP: {
        enabled: true,
        ...(args.mode === 'dpop-nonce'
          ? { nonceSecret: crypto.randomBytes(32), requireNonce: () => true }
          : {}),
      },
      clientCredentials: { enabled: true },
      // JARM: response_mode jwt, query.jwt, form_post.jwt (and fragment.jwt);
      // encryption for authorization_encrypted_response_alg.
      jwtResponseModes: { enabled: true },
      encryption: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          return ctx.oidc.params?.authorization_details ? RAR_RESOURCE : undefined;
        },
        getResourceServerInfo: async (ctx, indicator) => {
          if (indicator !== RAR_RESOURCE) throw new errors.InvalidTarget();
          return { scope: '', audience: RAR_RESOURCE, accessTokenFormat: 'opaque' };
        },
        useGrantedResource: async () => false,
      },
      richAuthorizationRequests: {
        enabled: true,
        types: Object.fromEntries(RAR_TYPES.map((type) => [type, { validate() {} }])),
        authorizationDetailsForGrantSource: async (ctx) => (ctx.oidc.params.authorization_details
          ? JSON.parse(ctx.oidc.params.authorization_details)
          : undefined),
        authorizationDetailsForAccessToken: async (ctx, token, source) => source?.rar,
        authorizationDetailsForIntrospection: async (ctx, token) => token.rar,
      },
      userinfo: { enabled: true },
      // OIDC Back-Channel Logout 1.0: ending a session posts a logout token
      // to the backchannel_logout_uri of its clients.
      backchannelLogout: { enabled: true },
      // RP-Initiated Logout without rendered pages (devInteractions are
      // off): the logout page is the bare confirmation form the headless
      // browser submits (with logout=yes), and success is JSON.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = `<!DOCTYPE html><html><body>${form}</body></html>`;
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'application/json';
          ctx.body = JSON.stringify({ signed_out: true });
        },
      },
      revocation: { enabled: true },
      introspection: { enabled: true },
    },
    enabledJWA: {
      requestObjectSigningAlgValues: ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'],
      clientAuthSigningAlgValues: ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519'],
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      Grant: 3600,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 86400,
      Session: 3600,
    },
    // Errors rendered to the user agent (no redirect_uri to send them to)
    // come back as JSON, so the Go helper can report their codes.
    renderError: async (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = JSON.stringify(out);
    },
  };
}
