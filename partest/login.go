package partest

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/go-par/par/internal/httpx"
)

// AuthorizeError is returned by [Server.Login] when the authorization
// endpoint shows an error page instead of redirecting to the client, as it
// does for an unknown client, an unregistered redirect_uri or an invalid,
// expired or reused request_uri (RFC 6749 §4.1.2.1, RFC 9126 §4). A
// BrokerLayout server, like the MitID broker, sends the browser (302) to
// its own error page {issuer}/Error?errorId=… instead, for every error of
// the request; Login follows that redirect and reports the page (status
// 200) with its ErrorID.
type AuthorizeError struct {
	StatusCode  int
	Code        string // such as invalid_request_uri
	Description string
	ErrorID     string // errorId of the MitID broker's error page, else ""
}

// Error shows the status, the error code and the description.
func (e *AuthorizeError) Error() string {
	msg := fmt.Sprintf("partest: authorization endpoint answered %d %s", e.StatusCode, e.Code)
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Login plays a headless user agent: it GETs authorizationURL without
// cookies and without following redirects, logs in the hinted user
// (login_hint), the client's default user or the first user, and returns
// the parameters the server sends to the redirect URI: code, state and iss,
// or error, error_description, state and iss (and session_state, and no
// iss on errors, from a BrokerLayout server); in a JWT response mode
// (JARM), the one parameter response. It reads query redirects and
// form_post pages, and submits the interactive login form when
// Config.Interactive is set. An error page gives an [*AuthorizeError]. To
// make a login end with an error instead (the user cancels), see
// [Server.FailNextLogin].
//
// For an authentication_uri of the CIBA→PAR bridge (Config.CIBA) the login
// approves the backchannel request, and the browser lands on a page saying
// the window may be closed: Login then returns empty parameters and no
// error. When init-auth was given a redirectUri, Login returns what is sent
// there (state and iss).
func (s *Server) Login(authorizationURL string) (url.Values, error) {
	return s.LoginAs(authorizationURL, "")
}

// LoginAs is [Server.Login] for the user with the given subject.
func (s *Server) LoginAs(authorizationURL, subject string) (url.Values, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hc := s.Client()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authorizationURL, nil)
	if err != nil {
		return nil, fmt.Errorf("partest: login: %w", err)
	}
	if subject != "" && !s.Config.Interactive {
		req.Header.Set(subjectHeader, subject)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("partest: login: %w", err)
	}
	return s.readLogin(ctx, hc, resp, subject, true)
}

func (s *Server) readLogin(ctx context.Context, hc *http.Client, resp *http.Response, subject string, formAllowed bool) (url.Values, error) {
	body, err := httpx.ReadBody(resp)
	if err != nil {
		return nil, fmt.Errorf("partest: login: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusFound, http.StatusSeeOther, http.StatusMovedPermanently, http.StatusTemporaryRedirect:
		loc := resp.Header.Get("Location")
		u, err := url.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("partest: login: bad Location: %w", err)
		}
		if s.Config.BrokerLayout && strings.HasPrefix(loc, s.endpointURL(pathErrorPage)+"?") {
			// The broker's own error page: the browser follows it, the
			// client is never called.
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
			if err != nil {
				return nil, fmt.Errorf("partest: login: %w", err)
			}
			resp2, err := hc.Do(req)
			if err != nil {
				return nil, fmt.Errorf("partest: login: %w", err)
			}
			body, err := httpx.ReadBody(resp2)
			if err != nil {
				return nil, fmt.Errorf("partest: login: %w", err)
			}
			code, desc := parseErrorPage(string(body))
			return nil, &AuthorizeError{StatusCode: resp2.StatusCode, Code: code, Description: desc, ErrorID: u.Query().Get("errorId")}
		}
		return u.Query(), nil
	case http.StatusOK:
		if page, ok := parseLoginPage(string(body)); ok && formAllowed {
			sub := subject
			if sub == "" {
				sub = page.hinted
			}
			if sub == "" && len(page.subjects) > 0 {
				sub = page.subjects[0]
			}
			form := url.Values{"tx": {page.tx}, "sub": {sub}}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, page.action, strings.NewReader(form.Encode()))
			if err != nil {
				return nil, fmt.Errorf("partest: login: %w", err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp2, err := hc.Do(req)
			if err != nil {
				return nil, fmt.Errorf("partest: login: %w", err)
			}
			return s.readLogin(ctx, hc, resp2, subject, false)
		}
		if _, v, ok := parseFormPost(string(body)); ok {
			return v, nil
		}
		if strings.Contains(string(body), doneMarker) {
			return url.Values{}, nil
		}
	}
	code, desc := parseErrorPage(string(body))
	return nil, &AuthorizeError{StatusCode: resp.StatusCode, Code: code, Description: desc}
}

var (
	reFormAction = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	reHidden     = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)"/>`)
	reSubject    = regexp.MustCompile(`<button type="submit" name="sub" value="([^"]*)"( autofocus)?>`)
	reErrorPage  = regexp.MustCompile(`data-error="([^"]*)" data-error-description="([^"]*)"`)
)

// parseFormPost reads the server's form_post page: the form's action and
// its hidden fields.
func parseFormPost(page string) (string, url.Values, bool) {
	m := reFormAction.FindStringSubmatch(page)
	if m == nil || strings.Contains(page, `name="tx"`) {
		return "", nil, false
	}
	v := url.Values{}
	for _, f := range reHidden.FindAllStringSubmatch(page, -1) {
		v.Set(html.UnescapeString(f[1]), html.UnescapeString(f[2]))
	}
	return html.UnescapeString(m[1]), v, true
}

type loginPage struct {
	action, tx, hinted string
	subjects           []string
}

// parseLoginPage reads the interactive login page.
func parseLoginPage(page string) (loginPage, bool) {
	var p loginPage
	m := reFormAction.FindStringSubmatch(page)
	if m == nil {
		return p, false
	}
	p.action = html.UnescapeString(m[1])
	for _, f := range reHidden.FindAllStringSubmatch(page, -1) {
		if html.UnescapeString(f[1]) == "tx" {
			p.tx = html.UnescapeString(f[2])
		}
	}
	for _, b := range reSubject.FindAllStringSubmatch(page, -1) {
		sub := html.UnescapeString(b[1])
		p.subjects = append(p.subjects, sub)
		if b[2] != "" {
			p.hinted = sub
		}
	}
	return p, p.tx != "" && len(p.subjects) > 0
}

// parseErrorPage reads the error code and description of an error page.
func parseErrorPage(page string) (string, string) {
	m := reErrorPage.FindStringSubmatch(page)
	if m == nil {
		return "", ""
	}
	return html.UnescapeString(m[1]), html.UnescapeString(m[2])
}
