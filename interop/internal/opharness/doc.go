// Package opharness runs node-oidc-provider (pinned in interop/package.json)
// for the interoperability tests and plays the user's browser against it.
//
// [Start] launches provider/server.mjs on a free 127.0.0.1 port and waits for
// its READY line; [Provider.Close] stops it (the script also exits when its
// stdin closes, so a killed test leaves no process behind). [Browser] follows
// the authorization endpoint's redirects through the script's headless login
// and consent with a cookie jar and returns what would reach the redirect_uri
// (RFC 6749 §4.1.2, OAuth 2.0 Form Post Response Mode), or the provider's
// [ErrorPage] when it renders an error instead (RFC 6749 §4.1.2.1).
//
// The package is for tests only; node and `npm ci --prefix interop` are its
// prerequisites ([Check], [ErrNotInstalled]).
package opharness
