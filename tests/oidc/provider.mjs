// A real OpenID provider (panva/oidc-provider) for keyward's SSO tests.
// env: OP_PORT (required), OP_ISSUER (default http://127.0.0.1:$OP_PORT),
//      OP_REDIRECT_URIS (comma list), OP_CLIENT_SECRET (default "kw-secret"),
//      OP_DUPLICATE_KID_ONCE=1 (the first key set fetched lists the signing
//      key's kid twice, the second time with another key; later ones are right).
// Clients: "kw" answers honestly; kw-expired, kw-wrong-aud, kw-bad-sig,
// kw-wrong-iss, kw-wrong-azp, kw-future-iat, kw-future-nbf, kw-long-sub,
// kw-control-sub get an ID token rewritten after the provider issued it;
// kw-slow's token endpoint hangs 30 s.
import http from 'node:http';
import { Provider } from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.env.OP_PORT);
const issuer = process.env.OP_ISSUER ?? `http://127.0.0.1:${port}`;
const redirect_uris = (process.env.OP_REDIRECT_URIS ?? 'http://127.0.0.1:8080/sso/callback').split(',');
const client_secret = process.env.OP_CLIENT_SECRET ?? 'kw-secret';

// Fixed people; the login page takes the username and any password.
const USERS = {
  'alice': { sub: 'sub-alice', email: 'alice@school.example', email_verified: true, preferred_username: 'alice', name: 'Alice Teacher' },
  'bob': { sub: 'sub-bob', email: 'bob@school.example', email_verified: false, preferred_username: 'bob', name: 'Bob Unverified' },
  'zed': { sub: 'sub-zed', email: 'zed@elsewhere.example', email_verified: true, preferred_username: 'zed', name: 'Zed Unknown' },
  // A look-alike of the platform admin (Cyrillic е), with an address that may be someone else's.
  'eve': { sub: 'sub-eve', email: 'admin@platform.example', email_verified: true, preferred_username: 'd\u0435mo.admin', name: 'Eve Lookalike' },
};
const bySub = Object.fromEntries(Object.values(USERS).map((u) => [u.sub, u]));

// Signing key generated per run; the fixture keeps the private half so it can re-sign.
const { privateKey, publicKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'op-key-1', alg: 'RS256', use: 'sig' };
const { privateKey: strangerKey, publicKey: strangerPublic } = await jose.generateKeyPair('RS256', { extractable: true });
// The key set with the signing key's kid twice (OP_DUPLICATE_KID_ONCE).
const ambiguousJwks = { keys: await Promise.all([publicKey, strangerPublic].map(async (k) => ({ ...(await jose.exportJWK(k)), kid: 'op-key-1', alg: 'RS256', use: 'sig' }))) };
let duplicateKidOnce = process.env.OP_DUPLICATE_KID_ONCE === '1';

const TAMPER = ['kw-expired', 'kw-wrong-aud', 'kw-bad-sig', 'kw-wrong-iss', 'kw-wrong-azp', 'kw-future-iat', 'kw-future-nbf', 'kw-long-sub', 'kw-control-sub'];
const clients = ['kw', ...TAMPER, 'kw-slow'].map((client_id) => ({
  client_id, client_secret, redirect_uris,
  grant_types: ['authorization_code'], response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
}));

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingJwk] },
  cookies: { keys: ['fixture-cookie-key'] },
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['preferred_username', 'name'] },
  conformIdTokenClaims: false, // put email/profile claims in the ID token itself
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const u = bySub[sub];
    if (!u) return undefined;
    return { accountId: sub, async claims() { return { ...u }; } };
  },
  // First-party client: no consent screen; grant what was asked.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope ?? 'openid');
    grant.addOIDCClaims(['email', 'email_verified', 'preferred_username', 'name']);
    await grant.save();
    return grant;
  },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
});

// Rewrite the ID token of the token endpoint's answer for the tampering clients.
provider.use(async (ctx, next) => {
  if (ctx.path === '/jwks' && duplicateKidOnce) {
    duplicateKidOnce = false;
    ctx.type = 'application/jwk-set+json';
    ctx.body = ambiguousJwks;
    return;
  }
  if (ctx.path === '/token' && ctx.method === 'POST') {
    const auth = Buffer.from((ctx.get('authorization').split(' ')[1] ?? ''), 'base64').toString();
    const clientId = decodeURIComponent(auth.split(':')[0] ?? '');
    if (clientId === 'kw-slow') await new Promise((r) => setTimeout(r, 30_000));
    await next();
    if (TAMPER.includes(clientId) && ctx.status === 200 && ctx.body?.id_token) {
      const claims = jose.decodeJwt(ctx.body.id_token);
      let key = privateKey;
      if (clientId === 'kw-expired') { claims.iat = 999_990_000; claims.exp = 1_000_000_000; } // 2001: expired under any test clock
      if (clientId === 'kw-wrong-aud') claims.aud = 'someone-else';
      if (clientId === 'kw-wrong-iss') claims.iss = 'http://evil.example';
      if (clientId === 'kw-bad-sig') key = strangerKey; // same kid, other key
      const now = Math.floor(Date.now() / 1000);
      if (clientId === 'kw-wrong-azp') claims.azp = 'someone-else';
      if (clientId === 'kw-future-iat') { claims.iat = now + 3600; claims.exp = now + 7200; }
      if (clientId === 'kw-future-nbf') claims.nbf = now + 3600;
      if (clientId === 'kw-long-sub') claims.sub = 's'.repeat(256);
      if (clientId === 'kw-control-sub') claims.sub = 'sub-\u0007-bell';
      ctx.body = { ...ctx.body, id_token: await new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'op-key-1', typ: 'JWT' }).sign(key) };
    }
    return;
  }
  await next();
});

// The login page: username, password (ignored), "used a second factor" checkbox → amr.
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="en"><title>Test provider sign-in</title><h1>Test provider</h1>
<form method="post" action="/interaction/${esc(uid)}"><label>Username <input name="username" autocomplete="username"></label>
<label>Password <input name="password" type="password"></label>
<label><input type="checkbox" name="mfa" value="1"> Used a second factor</label>
<button type="submit">Sign in</button></form>
<p>prompt: ${esc(details.prompt.name)}</p></html>`);
    return;
  }
  let body = '';
  for await (const chunk of req) body += chunk;
  const form = new URLSearchParams(body);
  const user = USERS[form.get('username')];
  if (!user) {
    return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'unknown user at the provider' }, { mergeWithLastSubmission: false });
  }
  const amr = form.get('mfa') ? ['pwd', 'mfa'] : ['pwd'];
  return provider.interactionFinished(req, res, { login: { accountId: user.sub, amr } }, { mergeWithLastSubmission: false });
}

const server = http.createServer((req, res) => {
  const m = /^\/interaction\/([\w-]+)$/.exec(new URL(req.url, issuer).pathname);
  if (m) {
    interaction(req, res, m[1]).catch((err) => { res.statusCode = 400; res.end(String(err)); });
    return;
  }
  provider.callback()(req, res);
});
server.listen(port, '127.0.0.1', () => console.log(`provider ready ${issuer}`));
// A "provider" that accepts connections and never answers (OP_BLACKHOLE_PORT): keyward must time out.
if (process.env.OP_BLACKHOLE_PORT) {
  const net = await import('node:net');
  net.createServer(() => {}).listen(Number(process.env.OP_BLACKHOLE_PORT), '127.0.0.1');
}
process.on('SIGTERM', () => server.close(() => process.exit(0)));
