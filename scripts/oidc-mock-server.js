#!/usr/bin/env node
// Starts oauth2-mock-server (npm, pinned in package.json) as a standalone
// OpenID Connect provider on 127.0.0.1, for tests and local development.
//
//   node scripts/oidc-mock-server.js [--port N] [--alg RS256] [--watch-stdin]
//
// --port N       listen on port N (default 0: a free port chosen by the OS)
// --alg ALG      signing key algorithm (default RS256; see the package README)
// --watch-stdin  exit when stdin closes: a test that starts this script with
//                a pipe on stdin cannot leave it running if the test dies
//
// The first line on stdout is the issuer URL (e.g. http://127.0.0.1:40123),
// nothing else is ever written to stdout; diagnostics go to stderr. The
// server runs until SIGINT/SIGTERM (or stdin closes, with --watch-stdin).
//
// What the server does (node_modules/oauth2-mock-server/README.md): GET
// /authorize redirects to redirect_uri with a fresh code (PKCE
// code_challenge remembered), POST /token redeems any code (checking
// code_verifier when a challenge was given) and any refresh token, always
// issuing a new refresh token; the ID token has sub "johndoe" and aud = the
// client id it was authenticated with. /introspect, /revoke and /jwks are
// published in /.well-known/openid-configuration. /introspect answers
// inactive for a token starting with "inactive-", else active for an hour.
'use strict';

const HOST = '127.0.0.1';

function parseArgs(argv) {
  const opts = { port: 0, alg: 'RS256', watchStdin: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--port': {
        const p = Number(value());
        if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error('--port must be an integer in [0, 65535]');
        opts.port = p;
        break;
      }
      case '--alg':
        opts.alg = value();
        break;
      case '--watch-stdin':
        opts.watchStdin = true;
        break;
      case '-h':
      case '--help':
        process.stderr.write('usage: node scripts/oidc-mock-server.js [--port N] [--alg RS256] [--watch-stdin]\n');
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // The package is ESM only; import() works from this CommonJS script.
  const { OAuth2Server } = await import('oauth2-mock-server');
  const server = new OAuth2Server();
  await server.issuer.keys.generate(opts.alg);
  // RFC 7662 answers the package leaves to its users: a token whose text
  // starts with "inactive-" is inactive; any other is active for an hour,
  // with exp, so a client can learn an opaque token's lifetime. The package
  // does not parse the form body of /introspect, so this server reads it
  // and hands it on as req.body (body-parser skips a request whose _body is
  // set).
  server.service.on('beforeIntrospect', (response, req) => {
    const token = (req.body && req.body.token) || '';
    response.body = token.startsWith('inactive-')
      ? { active: false }
      : { active: true, exp: Math.floor(Date.now() / 1000) + 3600, token_type: 'Bearer', scope: 'openid' };
  });
  const http = require('node:http');
  const handler = server.service.requestHandler;
  const httpServer = http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url.split('?')[0] !== '/introspect') return handler(req, res);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      req.body = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
      req._body = true;
      handler(req, res);
    });
  });
  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port, HOST, resolve);
  });
  // The issuer is the address we really listen on (not "localhost", so
  // clients do not try ::1 first).
  server.issuer.url = `http://${HOST}:${httpServer.address().port}`;
  process.stdout.write(`${server.issuer.url}\n`);

  let stopping = false;
  const stop = async (why) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`oidc-mock-server: stopping (${why})\n`);
    try {
      await new Promise((resolve) => httpServer.close(resolve));
    } catch (err) {
      process.stderr.write(`oidc-mock-server: stop failed: ${err.message}\n`);
    }
    process.exit(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  if (opts.watchStdin) {
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('close', () => stop('stdin closed'));
    process.stdin.resume();
  }
}

main().catch((err) => {
  process.stderr.write(`oidc-mock-server: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
