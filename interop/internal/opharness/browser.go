package opharness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// maxPage caps every page the browser reads.
const maxPage = 1 << 20

// maxHops bounds the redirects followed before the redirect_uri is reached.
const maxHops = 20

// ErrPageNotRecognised is returned (wrapped) when a provider page is neither
// a redirect to the redirect_uri, a form_post to it, nor a JSON error page.
var ErrPageNotRecognised = errors.New("opharness: unexpected authorization page")

// Callback is what the user agent would deliver to the redirect_uri.
type Callback struct {
	// URL is the redirect_uri with the query the provider appended (query
	// and fragment modes), or the form action (form_post).
	URL string
	// Params are the authorization response parameters.
	Params url.Values
	// FormPost is true for response_mode=form_post.
	FormPost bool
}

// Request returns the request the user agent would send to the redirect_uri:
// a GET with the query, or a form POST (OAuth 2.0 Form Post Response Mode).
func (c *Callback) Request(ctx context.Context) (*http.Request, error) {
	if !c.FormPost {
		u, err := url.Parse(c.URL)
		if err != nil {
			return nil, fmt.Errorf("opharness: callback url: %w", err)
		}
		u.RawQuery = c.Params.Encode()
		u.Fragment = ""
		return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, strings.NewReader(c.Params.Encode()))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r, nil
}

// ErrorPage is an error the provider rendered to the user agent instead of
// redirecting (RFC 6749 §4.1.2.1: no valid redirect_uri to return to).
// server.mjs renders them as JSON.
type ErrorPage struct {
	StatusCode  int
	Code        string
	Description string
}

func (e *ErrorPage) Error() string {
	return fmt.Sprintf("opharness: provider error page: %d %s: %s", e.StatusCode, e.Code, e.Description)
}

// Browser is a headless user agent: it follows the provider's redirects
// through the auto-login interaction with a cookie jar and stops at the
// redirect_uri. It is safe for concurrent use; each Browser has its own
// cookies (one provider session).
type Browser struct {
	hc       *http.Client
	redirect *url.URL
}

// NewBrowser returns a Browser that stops at redirectURI.
func NewBrowser(redirectURI string) (*Browser, error) {
	ru, err := url.Parse(redirectURI)
	if err != nil || ru.Scheme == "" || ru.Host == "" {
		return nil, fmt.Errorf("opharness: redirect uri %q is not absolute", redirectURI)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	b := &Browser{redirect: ru}
	b.hc = &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if b.isRedirectURI(req.URL) {
				return http.ErrUseLastResponse
			}
			if len(via) >= maxHops {
				return fmt.Errorf("opharness: more than %d redirects", maxHops)
			}
			return nil
		},
	}
	return b, nil
}

// isRedirectURI reports whether u is the redirect_uri (query and fragment
// aside).
func (b *Browser) isRedirectURI(u *url.URL) bool {
	return u.Scheme == b.redirect.Scheme && u.Host == b.redirect.Host && u.Path == b.redirect.Path
}

// Authorize opens authURL and returns the authorization response delivered
// to the redirect_uri. A page the provider renders instead is an *ErrorPage.
func (b *Browser) Authorize(ctx context.Context, authURL string) (*Callback, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("opharness: %w", err)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("opharness: authorize: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	if err != nil {
		return nil, fmt.Errorf("opharness: authorize: %w", err)
	}

	if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
		u, err := resp.Request.URL.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("opharness: redirect location: %w", err)
		}
		if !b.isRedirectURI(u) {
			return nil, fmt.Errorf("%w: redirect to %s", ErrPageNotRecognised, u.Redacted())
		}
		params := u.Query()
		if u.Fragment != "" { // response_mode=fragment
			if params, err = url.ParseQuery(u.Fragment); err != nil {
				return nil, fmt.Errorf("opharness: fragment: %w", err)
			}
		}
		cb := *u
		cb.RawQuery, cb.Fragment = "", ""
		return &Callback{URL: cb.String(), Params: params}, nil
	}

	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	switch ct {
	case "text/html":
		action, params, err := ParseFormPost(body)
		if err != nil {
			return nil, fmt.Errorf("%w: status %d: %v", ErrPageNotRecognised, resp.StatusCode, err)
		}
		u, err := resp.Request.URL.Parse(action)
		if err != nil || !b.isRedirectURI(u) {
			return nil, fmt.Errorf("%w: form posts to %q", ErrPageNotRecognised, action)
		}
		return &Callback{URL: u.String(), Params: params, FormPost: true}, nil
	case "application/json":
		if resp.StatusCode >= 400 {
			return nil, ParseErrorPage(resp.StatusCode, body)
		}
	}
	return nil, fmt.Errorf("%w: status %d, content type %q", ErrPageNotRecognised, resp.StatusCode, ct)
}

// ParseErrorPage reads server.mjs's JSON error page. A body that is not one
// still gives an *ErrorPage, with an empty Code.
func ParseErrorPage(status int, body []byte) *ErrorPage {
	var out struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &out)
	return &ErrorPage{StatusCode: status, Code: out.Error, Description: out.ErrorDescription}
}

var (
	tagRE  = regexp.MustCompile(`(?is)<(form|input)\b([^>]*)>`)
	attrRE = regexp.MustCompile(`(?is)([a-z][a-z0-9_-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')`)
)

// ParseFormPost reads an OAuth 2.0 Form Post Response Mode page (§2): the
// action of its first form and the name/value pairs of that form's hidden
// inputs, HTML-unescaped.
func ParseFormPost(page []byte) (action string, params url.Values, err error) {
	inForm := false
	params = url.Values{}
	for _, m := range tagRE.FindAllSubmatch(page, -1) {
		attrs := parseAttrs(m[2])
		switch strings.ToLower(string(m[1])) {
		case "form":
			if inForm {
				return action, params, nil // only the first form counts
			}
			a, ok := attrs["action"]
			if !ok || a == "" {
				return "", nil, errors.New("form without action")
			}
			if method := attrs["method"]; !strings.EqualFold(method, "post") {
				return "", nil, fmt.Errorf("form method %q, want post", method)
			}
			action, inForm = a, true
		case "input":
			if !inForm || !strings.EqualFold(attrs["type"], "hidden") {
				continue
			}
			name, ok := attrs["name"]
			if !ok || name == "" {
				continue
			}
			params.Add(name, attrs["value"])
		}
	}
	if !inForm {
		return "", nil, errors.New("no form")
	}
	return action, params, nil
}

func parseAttrs(b []byte) map[string]string {
	attrs := map[string]string{}
	for _, a := range attrRE.FindAllSubmatch(b, -1) {
		name := strings.ToLower(string(a[1]))
		if _, dup := attrs[name]; dup {
			continue // HTML keeps the first of duplicate attributes
		}
		v := a[2]
		if v == nil {
			v = a[3]
		}
		attrs[name] = html.UnescapeString(string(v))
	}
	return attrs
}

// Logout ends the browser's session at the provider as its user would
// (OIDC RP-Initiated Logout 1.0 §2, node-oidc-provider's flow): it opens
// endSessionURL, submits the logout page's form with logout=yes, and
// succeeds when the provider then redirects or answers 2xx. server.mjs's
// logout page is the bare confirmation form.
func (b *Browser) Logout(ctx context.Context, endSessionURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endSessionURL, nil)
	if err != nil {
		return fmt.Errorf("opharness: %w", err)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		return fmt.Errorf("opharness: logout: %w", err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage))
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("opharness: logout: %w", err)
	}
	action, params, err := ParseFormPost(body)
	if err != nil {
		return fmt.Errorf("%w: logout page (status %d): %v", ErrPageNotRecognised, resp.StatusCode, err)
	}
	u, err := resp.Request.URL.Parse(action)
	if err != nil {
		return fmt.Errorf("opharness: logout form action: %w", err)
	}
	params.Set("logout", "yes")
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(params.Encode()))
	if err != nil {
		return fmt.Errorf("opharness: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = b.hc.Do(req)
	if err != nil {
		return fmt.Errorf("opharness: logout confirm: %w", err)
	}
	body, _ = io.ReadAll(io.LimitReader(resp.Body, maxPage))
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return ParseErrorPage(resp.StatusCode, body)
	}
	return nil
}
