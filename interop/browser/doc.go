// Package browser holds the browser tests of go-par: headless Chromium,
// driven over the DevTools protocol by chromedp, logs in to the example web
// app (started with the README's own command, go run ./examples/webapp)
// through its embedded test provider's login page, and checks the result
// page: the subject, the level of assurance and the protocol timeline with
// its two-parameter authorization URL. It saves screenshots of the provider's
// login page and the result page into $GOPAR_SCREENSHOTS (default: a
// temporary directory).
//
// They also check what only a browser shows (issue 17, items 11–14): Back
// after logout shows no personal data (the back/forward cache); the
// session and binding cookies are __Host- and Secure even on
// http://127.0.0.1, and Chromium keeps them; the login form's POST carries
// the app's Origin (Referrer-Policy same-origin); no page can be framed; a
// reopened callback while logged in shows the session; a refused logout is
// titled as such; http://localhost leads to the redirect URI's host before
// the login; and with cookies blocked (a profile whose preferences block
// them) the user is told to allow cookies before going to the provider.
//
// TestWebappReplicasInChromium runs the example app as two replicas,
// separate processes (this test binary started again, running package site
// with module store/redisstore's Redis flow and session stores), on one
// redis-server and one partest provider on another site (localhost): a
// login on replica A shows the waterfall of the login's hops (screenshot
// waterfall.png), replica B serves the same session, and the provider's
// logout page ends it on both through B's front-channel logout URI, loaded
// in a cross-site iframe that carries no cookie.
//
// They need chromium (Debian: apt-get install -y chromium) and, for the
// replicas, redis-server (apt-get install -y redis-server). Without them the
// tests fail with that hint, unless GOPAR_SKIP_INTEROP=1, which skips them.
package browser
