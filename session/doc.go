// Package session keeps what a login leaves behind: a server-side session
// per browser holding the user's tokens, the verified ID token, the
// provider's session ID (sid) and, optionally, a DPoP key of its own; an
// HTTP client per session that attaches and refreshes the access token;
// step-up logins when a resource server asks for more (RFC 9470); and the
// provider's logouts (OpenID Connect Back-Channel Logout 1.0 and
// Front-Channel Logout 1.0).
//
//	m, err := session.New(session.Config{
//		Client: c,                        // a *client.Client
//		Store:  sessions,                 // shared by every replica (store/redisstore), with
//		Keys:   [][]byte{key},            // the same 32-byte keys
//		DPoP:   true,                     // one DPoP key per session
//		Login:  login.Config{Store: flows},
//	})
//	mux.Handle("/auth/", m.Login().Mux("/auth"))                 // login, callback (makes the session), logout
//	mux.HandleFunc("POST /auth/backchannel", m.BackChannelLogout)
//	mux.HandleFunc("GET /auth/frontchannel", m.FrontChannelLogout)
//
//	s, err := m.Session(w, r)          // who is logged in; ErrNoSession otherwise
//	hc, err := m.Client(w, r)          // resource calls with the session's tokens
//	resp, err := hc.Get(api)
//	var up *session.StepUpError
//	if errors.As(err, &up) {
//		m.StepUp(w, r, up, "/transfer") // a new login at the level asked for; back to /transfer
//	}
//
// # The browser
//
// The browser holds one opaque cookie, __Host-session by default:
// HttpOnly, Secure, SameSite=Lax, Path=/, 256 random bits; the Store keys
// the session by a SHA-256 digest of it, so the Store's contents do not
// let anybody take over a session. Each session is sealed with AES-256-GCM
// (the SDK's one sealer, as for flows) and bound to its key. A login always
// makes a new session under a new ID and ends the browser's previous one
// (no session fixation); a step-up upgrades the same session (same start,
// the tokens and ID token of the step-up) under a new ID. Sessions end
// after IdleTimeout without use and AbsoluteTimeout after their first
// login. Logout ends the local session before the browser goes to the
// provider, and asks the browser to drop the site's cache
// (Clear-Site-Data: "cache"), so that Back does not show a page with
// personal data again: serve such pages with Cache-Control: no-store, and
// see examples/webapp (site/static/app.js) for the pagehide/pageshow guard that
// also keeps Chromium's back/forward cache from restoring them.
//
// With Config.CookieSessions the whole sealed session is the cookie (at most
// MaxCookieSize bytes, name included; a larger one refuses the login with
// ErrTooLarge): no server-side sessions, but the Store still coordinates
// refreshes and remembers the provider's logouts as marks by sid and sub,
// which every request checks (a cookie cannot be deleted from the server).
//
// # Tokens
//
// The client of [Manager.Client] refreshes an access token shortly before
// it expires and once after a 401 invalid_token challenge. Exactly one
// request refreshes a session at a time across all replicas (a lock in the
// Store); the others wait and use its result. The new tokens are written
// with a compare-and-set, not cancelled with the request, so a rotated
// refresh token is never used twice nor lost (short of the process dying
// between the provider's answer and the write). A refreshed ID token must
// pass the login's checks and belong to the same login (OIDC Core §12.2).
// When the provider refuses the refresh, or there is no refresh token, the
// session ends and the error wraps ErrEnded.
//
// # Running several replicas
//
// Every replica builds a Manager from the same Config. What they must
// share, and how:
//
//   - the login flows, between the push on one replica and the callback on
//     another: login.Config.Store = a Redis flow store (store/redisstore)
//     or login's CookieStore, with the same keys everywhere;
//   - the sessions, with their tokens, sid index, refresh locks and used
//     logout-token IDs: Config.Store = the Redis session store
//     (store/redisstore's Sessions), with the same Config.Keys everywhere —
//     or CookieSessions with a shared Store for the locks and logout marks;
//   - the keys: Config.Keys (sessions), the flow store's keys, the client's
//     credentials; DPoP keys need no sharing, each travels sealed in its
//     session;
//   - the ID token for logout: it is in the session, so the replica that
//     serves the logout has the id_token_hint, whichever replica logged
//     the user in;
//   - the provider's logouts: the back-channel POST reaches one replica,
//     which deletes the sessions in the shared Store; a front-channel iframe
//     likewise. Sessions found by sid need the provider to send sid (its ID
//     tokens and logout tokens; with sub only, every session of the user
//     ends).
//
// A MemoryStore (the default) serves one replica only.
package session
