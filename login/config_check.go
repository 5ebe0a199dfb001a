package login

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// IsFormPostMode reports whether a response_mode makes the provider
// deliver the callback as a POST from its own page (OAuth 2.0 Form Post
// Response Mode): a cross-site request, which carries only SameSite=None
// cookies. The rule is by name, so that modes built on form_post are
// covered before the SDK knows them: a mode that starts or ends with
// "form_post", such as form_post and JARM's form_post.jwt.
func IsFormPostMode(mode string) bool {
	return strings.HasPrefix(mode, "form_post") || strings.HasSuffix(mode, "form_post")
}

// checkCallbackPath refuses a CallbackPath that no mounting can route the
// client's redirect URI to: Mux(prefix) serves prefix+CallbackPath and
// ServeHTTP CallbackPath, so the redirect URI's path must end with it.
func (h *Handler) checkCallbackPath() error {
	u, err := url.Parse(h.c.RedirectURL())
	if err != nil || h.c.RedirectURL() == "" {
		return nil // the client checks its redirect URL
	}
	p := u.Path
	if p == "" {
		p = "/"
	}
	if !strings.HasSuffix(p, h.callbackPath) {
		return fmt.Errorf("login: config: CallbackPath %q can never receive the callback: the client's RedirectURL path is %q, "+
			"and the Handler serves prefix+CallbackPath (Mux) or CallbackPath (ServeHTTP); set CallbackPath to %q or a suffix of it",
			h.callbackPath, p, p)
	}
	return nil
}

// checkFormPostCookies refuses flow cookies that a form-post callback from
// the provider's site can never carry back.
func (h *Handler) checkFormPostCookies(mode string, c CookieConfig) error {
	authz := h.c.Metadata().AuthorizationEndpoint
	if !crossSite(authz, h.c.RedirectURL()) {
		return nil // a same-site POST carries Lax and Strict cookies too
	}
	why := fmt.Sprintf("with response_mode %q the callback is a cross-site POST from %s, which carries no SameSite=Lax or Strict cookie", mode, hostOf(authz))
	if cs, ok := h.store.(*CookieStore); ok && cs.attrs.sameSite != http.SameSiteNoneMode {
		return fmt.Errorf("login: config: Store: the CookieStore's cookies are SameSite=%s: %s, so every login would fail with flow not found; "+
			"create it with CookieConfig.SameSite http.SameSiteNoneMode", sameSiteName(cs.attrs.sameSite), why)
	}
	if h.bind && h.cookie.sameSite != http.SameSiteNoneMode {
		field := "Cookie.SameSite"
		if c.InsecureCookie {
			field = "Cookie.InsecureCookie" // SameSite=None needs Secure
		}
		return fmt.Errorf("login: config: %s: the binding cookie is SameSite=%s: %s, so every login would fail; "+
			"use a Secure cookie with SameSite=None (the default for form-post modes)", field, sameSiteName(h.cookie.sameSite), why)
	}
	return nil
}

// crossSite reports whether a page at URL a and URL b are certainly on
// different sites (RFC 6265bis §5.2), judged without the Public Suffix
// List: different IP addresses, or domain names without a common parent of
// two or more labels, which a registrable domain always has. When unsure
// (a.example.co.uk and b.example.co.uk) it reports false, so New refuses
// only what can never work.
func crossSite(a, b string) bool {
	ua, err := url.Parse(a)
	if err != nil {
		return false
	}
	ub, err := url.Parse(b)
	if err != nil {
		return false
	}
	ha := strings.ToLower(strings.TrimSuffix(ua.Hostname(), "."))
	hb := strings.ToLower(strings.TrimSuffix(ub.Hostname(), "."))
	if ha == "" || hb == "" || ha == hb {
		return false
	}
	if _, err := netip.ParseAddr(ha); err == nil {
		return true // an IP address is a site of its own
	}
	if _, err := netip.ParseAddr(hb); err == nil {
		return true
	}
	la, lb := strings.Split(ha, "."), strings.Split(hb, ".")
	common := 0
	for common < len(la) && common < len(lb) && la[len(la)-1-common] == lb[len(lb)-1-common] {
		common++
	}
	return common < 2
}

func hostOf(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return "the provider"
}

func sameSiteName(s http.SameSite) string {
	switch s {
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	}
	return "Lax"
}
