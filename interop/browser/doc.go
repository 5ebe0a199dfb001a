// Package browser holds the browser test of go-par: headless Chromium,
// driven over the DevTools protocol by chromedp, logs in to the example web
// app (started with the README's own command, go run ./examples/webapp)
// through its embedded test provider's login page, and checks the result
// page: the subject, the level of assurance and the protocol timeline with
// its two-parameter authorization URL. It saves screenshots of the provider's
// login page and the result page into $GOPAR_SCREENSHOTS (default: a
// temporary directory).
//
// It needs chromium (Debian: apt-get install -y chromium). Without it the
// test fails with that hint, unless GOPAR_SKIP_INTEROP=1, which skips it.
package browser
