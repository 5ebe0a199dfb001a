package hostile_test

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/discovery"
	"github.com/go-par/par/dpop"
	"github.com/go-par/par/internal/httpx"
	"github.com/go-par/par/internal/jwks"
	"github.com/go-par/par/login"
	"github.com/go-par/par/partest"
)

// minCases is the least number of cases the table must hold (issue 10).
const minCases = 40

// stall is how long a stalled endpoint waits; far longer than the
// stall cases' client timeout.
const stall = 20 * time.Second

// hostileCase is one misbehaving provider and the SDK call it is met with.
type hostileCase struct {
	name string
	opts envOptions
	// budget is how long the SDK call may take. Default 5 s; stall cases
	// set a short HTTP timeout and a budget a little above it.
	budget time.Duration
	// run drives the SDK and returns the error under test.
	run func(ctx context.Context, e *env) error
	// want checks the error; it returns why err is not the expected one.
	want check
}

// check returns nil when err is the expected error, else what is wrong.
type check func(err error) error

// is expects errors.Is(err, target) for every target.
func is(targets ...error) check {
	return func(err error) error {
		for _, target := range targets {
			if !errors.Is(err, target) {
				return fmt.Errorf("not errors.Is %q", target)
			}
		}
		return nil
	}
}

// as expects errors.As(err, *T) with a T for which ok holds.
func as[T error](ok func(T) bool) check {
	return func(err error) error {
		var target T
		if !errors.As(err, &target) {
			return fmt.Errorf("not errors.As %T", target)
		}
		if ok != nil && !ok(target) {
			return fmt.Errorf("%T has unexpected fields: %#v", target, target)
		}
		return nil
	}
}

// all expects every check to hold.
func all(checks ...check) check {
	return func(err error) error {
		for _, c := range checks {
			if e := c(err); e != nil {
				return e
			}
		}
		return nil
	}
}

// respErr expects a *client.ResponseError from endpoint with status and code.
func respErr(endpoint string, status int, code string) check {
	return as(func(re *client.ResponseError) bool {
		return re.Endpoint == endpoint && re.StatusCode == status && re.Code == code
	})
}

// timedOut expects a network timeout (net.Error with Timeout true).
func timedOut(err error) error {
	if !isTimeout(err) {
		return errors.New("not a net.Error timeout")
	}
	return nil
}

// fault installs f on endpoint at start.
func fault(endpoint string, f partest.Fault) envOptions {
	return envOptions{partest: func(c *partest.Config) {
		c.Faults = map[string]partest.Fault{endpoint: f}
	}}
}

// stalled is a fault that answers after stall, with a 300 ms client timeout.
func stalled(endpoint string) envOptions {
	o := fault(endpoint, partest.Fault{Delay: stall})
	o.timeout = 300 * time.Millisecond
	return o
}

func fetch(ctx context.Context, e *env) error {
	_, err := discovery.Fetch(ctx, e.hc, e.srv.Issuer())
	return err
}

func push(ctx context.Context, e *env) error {
	c, err := e.client(ctx)
	if err != nil {
		return err
	}
	_, err = c.Push(ctx)
	return err
}

// exchange runs a login whose callback and token steps are under test.
func exchange(ctx context.Context, e *env) error {
	c := e.mustClient(ctx)
	flow, params := e.authorize(ctx, c)
	_, err := c.Exchange(ctx, flow, params)
	return err
}

// exchangeWith runs a login and lets tamper change the callback parameters.
func exchangeWith(tamper func(e *env, flow *client.Flow, params url.Values)) func(context.Context, *env) error {
	return func(ctx context.Context, e *env) error {
		c := e.mustClient(ctx)
		flow, params := e.authorize(ctx, c)
		tamper(e, flow, params)
		_, err := c.Exchange(ctx, flow, params)
		return err
	}
}

// exchangeForged runs a login whose token endpoint returns the ID token that
// forge makes from a valid claim set for the flow.
func exchangeForged(forge func(e *env, claims map[string]any) (string, error)) func(context.Context, *env) error {
	return func(ctx context.Context, e *env) error {
		c := e.mustClient(ctx)
		flow, params := e.authorize(ctx, c)
		now := time.Now()
		claims := map[string]any{
			"iss": e.srv.Issuer(), "sub": "alice", "aud": clientID, "nonce": flow.Nonce,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		}
		raw, err := forge(e, claims)
		if err != nil {
			e.t.Fatalf("forging the ID token: %v", err)
		}
		e.srv.SetFault(partest.EndpointToken, partest.Fault{RawIDToken: raw})
		_, err = c.Exchange(ctx, flow, params)
		return err
	}
}

// metadataWith serves the partest metadata document changed by edit.
func metadataWith(edit func(md map[string]any)) func(context.Context, *env) error {
	return func(ctx context.Context, e *env) error {
		md := e.srv.Metadata()
		edit(md)
		b, err := json.Marshal(md)
		if err != nil {
			e.t.Fatal(err)
		}
		e.srv.SetFault(partest.EndpointDiscovery, partest.Fault{Status: http.StatusOK, Body: string(b)})
		return fetch(ctx, e)
	}
}

// userinfo runs a login, then installs f at userinfo and calls it.
func userinfo(f partest.Fault) func(context.Context, *env) error {
	return func(ctx context.Context, e *env) error {
		c := e.mustClient(ctx)
		tok := e.tokens(ctx, c)
		e.srv.SetFault(partest.EndpointUserinfo, f)
		_, err := c.UserInfo(ctx, tok)
		return err
	}
}

// refresh runs a login, then installs f at the token endpoint and refreshes.
func refresh(f partest.Fault) func(context.Context, *env) error {
	return func(ctx context.Context, e *env) error {
		c := e.mustClient(ctx)
		tok := e.tokens(ctx, c)
		if tok.Token.RefreshToken == "" {
			e.t.Fatal("no refresh token issued")
		}
		e.srv.SetFault(partest.EndpointToken, f)
		_, err := c.Refresh(ctx, tok)
		return err
	}
}

// viaLogin runs a whole login through the login handlers (start, the user
// at the provider, callback) and returns the error the handler reported.
func viaLogin(setFault func(e *env)) func(context.Context, *env) error {
	return func(ctx context.Context, e *env) error {
		a := e.loginApp(ctx, nil)
		b := newBrowser(e.app.URL, e.tr)
		if setFault != nil {
			setFault(e)
		}
		status, loc, err := b.start(ctx)
		if err != nil {
			return err
		}
		if status != http.StatusSeeOther {
			return a.lastErr()
		}
		params, err := e.srv.Login(loc)
		if err != nil {
			return err
		}
		if _, _, err := b.callback(ctx, params); err != nil {
			return err
		}
		return a.lastErr()
	}
}

// loginErr expects a *login.Error of op whose default page has status.
func loginErr(op string, status int) check {
	return as(func(le *login.Error) bool { return le.Op == op && login.StatusCode(le) == status })
}

// noAttack expects the attacker server to have received nothing.
func noAttack(e *env) error {
	if n := e.attacks.Load(); n != 0 {
		return fmt.Errorf("the redirect target got %d requests", n)
	}
	return nil
}

func hostileCases() []hostileCase {
	html := partest.Fault{Status: http.StatusInternalServerError, ContentType: "text/html; charset=utf-8",
		Body: "<!DOCTYPE html><html><body><h1>500 Internal Server Error</h1></body></html>"}
	htmlOK := partest.Fault{Status: http.StatusOK, ContentType: "text/html", Body: "<html><body>Welcome!</body></html>"}
	jsonErr := func(status int, code string) partest.Fault {
		return partest.Fault{Status: status, Body: `{"error":"` + code + `","error_description":"hostile"}`}
	}
	htmlBody := as(func(re *client.ResponseError) bool {
		return re.Code == "" && strings.Contains(string(re.Body), "<html>")
	})
	cases := []hostileCase{
		// --- discovery ---
		{name: "discovery/500", opts: fault(partest.EndpointDiscovery, partest.Fault{Status: 500}), run: fetch,
			want: as(func(he *discovery.HTTPError) bool { return he.StatusCode == 500 })},
		{name: "discovery/404 on both documents", opts: fault(partest.EndpointDiscovery, partest.Fault{Status: 404, Body: "not found"}), run: fetch,
			want: as(func(he *discovery.HTTPError) bool { return he.StatusCode == 404 })},
		{name: "discovery/html page with 200", opts: fault(partest.EndpointDiscovery, htmlOK), run: fetch,
			want: all(is(discovery.ErrMalformed), as[*discovery.ParseError](nil))},
		{name: "discovery/truncated json", opts: fault(partest.EndpointDiscovery, partest.Fault{TruncateBody: true}), run: fetch,
			want: is(discovery.ErrMalformed)},
		{name: "discovery/oversized body", opts: fault(partest.EndpointDiscovery, partest.Fault{OversizeBody: true}), run: fetch,
			want: is(discovery.ErrTooLarge)},
		{name: "discovery/stalled", opts: stalled(partest.EndpointDiscovery), budget: 2 * time.Second, run: fetch, want: timedOut},
		{name: "discovery/redirect refused", opts: envOptions{}, run: func(ctx context.Context, e *env) error {
			e.srv.SetFault(partest.EndpointDiscovery, partest.Fault{Redirect: e.attacker.URL + "/.well-known/openid-configuration"})
			err := fetch(ctx, e)
			if a := noAttack(e); a != nil {
				return a
			}
			return err
		}, want: as(func(he *discovery.HTTPError) bool { return he.StatusCode == http.StatusFound && he.Location != "" })},
		{name: "discovery/wrong issuer", opts: fault(partest.EndpointDiscovery, partest.Fault{Issuer: "https://evil.example/op"}), run: fetch,
			want: as(func(ie *discovery.IssuerMismatchError) bool { return ie.Got == "https://evil.example/op" })},
		{name: "discovery/wrong issuer through client.New", opts: fault(partest.EndpointDiscovery, partest.Fault{Issuer: "https://evil.example/op"}),
			run: push, want: as[*discovery.IssuerMismatchError](nil)},
		{name: "discovery/missing issuer", run: metadataWith(func(md map[string]any) { delete(md, "issuer") }),
			want: as(func(ie *discovery.IssuerMismatchError) bool { return ie.Got == "" })},
		{name: "discovery/issuer of wrong type", run: metadataWith(func(md map[string]any) { md["issuer"] = 42 }),
			want: is(discovery.ErrWrongType)},
		{name: "discovery/duplicate issuer member", run: func(ctx context.Context, e *env) error {
			b, _ := json.Marshal(e.srv.Metadata())
			dup := `{"issuer":"https://evil.example",` + string(b[1:])
			e.srv.SetFault(partest.EndpointDiscovery, partest.Fault{Status: 200, Body: dup})
			return fetch(ctx, e)
		}, want: is(discovery.ErrDuplicateMember)},
		{name: "discovery/json array", opts: fault(partest.EndpointDiscovery, partest.Fault{Status: 200, Body: `[{"issuer":"x"}]`}), run: fetch,
			want: is(discovery.ErrMalformed)},
		{name: "discovery/plain http par endpoint", run: metadataWith(func(md map[string]any) {
			md["pushed_authorization_request_endpoint"] = "http://evil.example/par"
		}), want: is(discovery.ErrInvalidEndpoint)},

		{name: "discovery/cache: 50 concurrent callers, one request to a failing provider",
			opts: fault(partest.EndpointDiscovery, partest.Fault{Status: 500, Delay: 100 * time.Millisecond}),
			run: func(ctx context.Context, e *env) error {
				cache := discovery.NewCache(discovery.CacheConfig{HTTPClient: e.hc})
				errs := make(chan error, 50)
				for range 50 {
					go func() { _, err := cache.Get(ctx, e.srv.Issuer()); errs <- err }()
				}
				var first error
				for range 50 {
					err := <-errs
					if err == nil {
						return errors.New("a caller got metadata from a failing provider")
					}
					first = cmp.Or(first, err)
				}
				if n := e.srv.Requests(partest.EndpointDiscovery); n > 4 { // the OIDC document and the RFC 8414 one, at most twice
					return fmt.Errorf("%d discovery requests for 50 callers", n)
				}
				return first
			}, want: as(func(he *discovery.HTTPError) bool { return he.StatusCode == 500 })},
		{name: "discovery/cache: caller gives up while the provider stalls", opts: stalled(partest.EndpointDiscovery), budget: time.Second,
			run: func(ctx context.Context, e *env) error {
				cache := discovery.NewCache(discovery.CacheConfig{HTTPClient: e.hc})
				short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
				_, err := cache.Get(short, e.srv.Issuer())
				return err
			}, want: is(context.DeadlineExceeded)},

		// --- PAR endpoint (RFC 9126 §2.2, §2.3) ---
		{name: "par/400 invalid_request", opts: fault(partest.EndpointPAR, jsonErr(400, "invalid_request")), run: push,
			want: respErr("par", 400, "invalid_request")},
		{name: "par/401 invalid_client", opts: envOptions{client: func(c *client.Config) { c.Auth = client.ClientSecretBasic("wrong") }},
			run: push, want: respErr("par", 401, "invalid_client")},
		{name: "par/500 html error page", opts: fault(partest.EndpointPAR, html), run: push,
			want: all(respErr("par", 500, ""), htmlBody)},
		{name: "par/200 instead of 201", opts: fault(partest.EndpointPAR, partest.Fault{Status: 200, Body: `{"request_uri":"urn:x","expires_in":60}`}),
			run: push, want: is(client.ErrInvalidResponse)},
		{name: "par/truncated json", opts: fault(partest.EndpointPAR, partest.Fault{TruncateBody: true}), run: push,
			want: is(client.ErrInvalidResponse)},
		{name: "par/oversized body", opts: fault(partest.EndpointPAR, partest.Fault{OversizeBody: true}), run: push,
			want: is(client.ErrInvalidResponse, httpx.ErrBodyTooLarge)},
		{name: "par/missing request_uri", opts: fault(partest.EndpointPAR, partest.Fault{Status: 201, Body: `{"expires_in":60}`}), run: push,
			want: is(client.ErrInvalidResponse)},
		{name: "par/request_uri not a string", opts: fault(partest.EndpointPAR, partest.Fault{Status: 201, Body: `{"request_uri":7,"expires_in":60}`}),
			run: push, want: is(client.ErrInvalidResponse)},
		{name: "par/expires_in zero", opts: fault(partest.EndpointPAR, partest.Fault{Status: 201, Body: `{"request_uri":"urn:x","expires_in":0}`}),
			run: push, want: is(client.ErrInvalidResponse)},
		{name: "par/expires_in as string", opts: fault(partest.EndpointPAR, partest.Fault{Status: 201, Body: `{"request_uri":"urn:x","expires_in":"60"}`}),
			run: push, want: is(client.ErrInvalidResponse)},
		{name: "par/201 with a json array", opts: fault(partest.EndpointPAR, partest.Fault{Status: 201, Body: `[{"request_uri":"urn:x","expires_in":60}]`}),
			run: push, want: is(client.ErrInvalidResponse)},
		{name: "par/201 with null", opts: fault(partest.EndpointPAR, partest.Fault{Status: 201, Body: `null`, ContentType: "application/json"}),
			run: push, want: is(client.ErrInvalidResponse)},
		{name: "par/error member not a string", opts: fault(partest.EndpointPAR, partest.Fault{Status: 400, Body: `{"error":1}`}), run: push,
			want: respErr("par", 400, "")},
		{name: "par/stalled", opts: stalled(partest.EndpointPAR), budget: 2 * time.Second, run: push, want: timedOut},
		{name: "par/302 redirect not followed", run: func(ctx context.Context, e *env) error {
			e.srv.SetFault(partest.EndpointPAR, partest.Fault{Redirect: e.attacker.URL + "/par"})
			err := push(ctx, e)
			if a := noAttack(e); a != nil {
				return a
			}
			return err
		}, want: respErr("par", http.StatusFound, "")},
		{name: "par/307 redirect keeps credentials home", run: func(ctx context.Context, e *env) error {
			e.srv.SetFault(partest.EndpointPAR, partest.Fault{Status: http.StatusTemporaryRedirect,
				Header: http.Header{"Location": {e.attacker.URL + "/par"}}})
			err := push(ctx, e)
			if a := noAttack(e); a != nil {
				return a
			}
			return err
		}, want: respErr("par", http.StatusTemporaryRedirect, "")},
		{name: "par/429 with Retry-After seconds", opts: fault(partest.EndpointPAR, partest.Fault{Status: 429, Body: "slow down",
			Header: http.Header{"Retry-After": {"7"}}}), run: push,
			want: as(func(re *client.ResponseError) bool {
				return re.StatusCode == 429 && re.RetryAfter == 7*time.Second && re.Temporary()
			})},
		{name: "par/503 with Retry-After date", run: func(ctx context.Context, e *env) error {
			e.srv.SetFault(partest.EndpointPAR, partest.Fault{Status: 503, Body: `{"error":"temporarily_unavailable"}`,
				Header: http.Header{"Retry-After": {time.Now().Add(2 * time.Minute).UTC().Format(http.TimeFormat)}}})
			return push(ctx, e)
		}, want: as(func(re *client.ResponseError) bool {
			return re.StatusCode == 503 && re.Code == "temporarily_unavailable" &&
				re.RetryAfter > time.Minute && re.RetryAfter <= 2*time.Minute && re.Temporary()
		})},
		{name: "par/503 with a Retry-After date centuries away", opts: fault(partest.EndpointPAR, partest.Fault{Status: 503,
			Header: http.Header{"Retry-After": {"Fri, 31 Dec 9999 23:59:59 GMT"}}}), run: push,
			want: as(func(re *client.ResponseError) bool { return re.StatusCode == 503 && re.RetryAfter == 24*time.Hour })},
		{name: "par/expires_in of a century is capped", run: func(ctx context.Context, e *env) error {
			e.srv.SetFault(partest.EndpointPAR, partest.Fault{Status: 201, Body: `{"request_uri":"urn:x","expires_in":3153600000}`})
			c := e.mustClient(ctx)
			flow, err := c.Push(ctx)
			if err != nil {
				return err
			}
			if d := flow.ExpiresAt.Sub(e.clock.now()); d > 24*time.Hour {
				return fmt.Errorf("request_uri kept for %v", d)
			}
			e.clock.advance(25 * time.Hour)
			_, err = c.AuthorizationURL(flow)
			return err
		}, want: is(client.ErrRequestURIExpired)},
		{name: "par/expires_in overflowing int64", opts: fault(partest.EndpointPAR, partest.Fault{Status: 201,
			Body: `{"request_uri":"urn:x","expires_in":99999999999999999999999}`}), run: push, want: is(client.ErrInvalidResponse)},
		{name: "par/dpop nonce challenge retried once only", opts: envOptions{client: withDPoP}, run: func(ctx context.Context, e *env) error {
			e.srv.SetFault(partest.EndpointPAR, partest.Fault{Status: 400, Body: `{"error":"use_dpop_nonce"}`,
				Header: http.Header{"Dpop-Nonce": {"n-" + rand.Text()}}})
			err := push(ctx, e)
			if n := e.srv.Requests(partest.EndpointPAR); n != 2 {
				return fmt.Errorf("PAR got %d requests, want 2 (one retry)", n)
			}
			return err
		}, want: respErr("par", 400, "use_dpop_nonce")},

		// --- authorization URL and request_uri (RFC 9126 §4) ---
		{name: "request_uri/expired before use", run: func(ctx context.Context, e *env) error {
			c := e.mustClient(ctx)
			flow, err := c.Push(ctx)
			if err != nil {
				return err
			}
			e.clock.advance(2 * time.Minute) // partest's request_uri lives 60 s
			_, err = c.AuthorizationURL(flow)
			return err
		}, want: is(client.ErrRequestURIExpired)},
		{name: "request_uri/reused at the provider", run: func(ctx context.Context, e *env) error {
			c := e.mustClient(ctx)
			flow, _ := e.authorize(ctx, c)
			u, err := c.AuthorizationURL(flow)
			if err != nil {
				return err
			}
			_, err = e.srv.Login(u)
			return err
		}, want: as(func(ae *partest.AuthorizeError) bool { return ae.Code == "invalid_request_uri" })},
		{name: "request_uri/already expired: login pushes once more, then gives up", run: func(ctx context.Context, e *env) error {
			// A provider that says expires_in 1: the request_uri is expired
			// (RequestURISkew 5 s) before the URL is built; Start pushes once
			// more (RFC 9126 §4: never reuse it) and then reports the expiry.
			a := e.loginApp(ctx, nil)
			e.srv.SetFault(partest.EndpointPAR, partest.Fault{Status: 201,
				Body: `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":1}`})
			if _, _, err := newBrowser(e.app.URL, e.tr).start(ctx); err != nil {
				return err
			}
			if n := e.srv.Requests(partest.EndpointPAR); n != 2 {
				return fmt.Errorf("PAR got %d requests, want 2 (one re-push)", n)
			}
			return a.lastErr()
		}, want: all(loginErr(login.OpStart, http.StatusServiceUnavailable), is(client.ErrRequestURIExpired))},

		// --- callback (RFC 6749 §4.1.2, RFC 9207) ---
		{name: "callback/iss mix-up", opts: fault(partest.EndpointAuthorize, partest.Fault{Issuer: "https://evil.example/op"}), run: exchange,
			want: is(client.ErrIssuerMismatch)},
		{name: "callback/iss missing although advertised", opts: fault(partest.EndpointAuthorize, partest.Fault{OmitIss: true}), run: exchange,
			want: is(client.ErrIssuerMismatch)},
		{name: "callback/iss twice", run: exchangeWith(func(e *env, _ *client.Flow, p url.Values) { p.Add("iss", e.srv.Issuer()) }),
			want: is(client.ErrIssuerMismatch)},
		{name: "callback/state mismatch", run: exchangeWith(func(_ *env, _ *client.Flow, p url.Values) { p.Set("state", "forged") }),
			want: is(client.ErrStateMismatch)},
		{name: "callback/provider error", run: exchangeWith(func(_ *env, _ *client.Flow, p url.Values) {
			p.Del("code")
			p.Set("error", "access_denied")
			p.Set("error_description", "mitid_user_aborted")
		}), want: as(func(ae *client.AuthorizationError) bool {
			return ae.Code == "access_denied" && ae.Description == "mitid_user_aborted"
		})},
		{name: "callback/missing code", run: exchangeWith(func(_ *env, _ *client.Flow, p url.Values) { p.Del("code") }),
			want: is(client.ErrMissingCode)},
		{name: "callback/duplicate parameter", run: func(ctx context.Context, e *env) error {
			r, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.redirect+"?code=a&code=b&state=s", nil)
			_, err := client.ParseResponse(r)
			return err
		}, want: is(client.ErrInvalidResponse)},
		{name: "callback/oversized form_post", run: func(ctx context.Context, e *env) error {
			r, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.redirect, strings.NewReader("code="+strings.Repeat("a", 1<<20)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			_, err := client.ParseResponse(r)
			return err
		}, want: is(client.ErrInvalidResponse)},
		{name: "callback/form_post with the wrong content type", run: func(ctx context.Context, e *env) error {
			r, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.redirect, strings.NewReader(`{"code":"a","state":"s"}`))
			r.Header.Set("Content-Type", "application/json")
			_, err := client.ParseResponse(r)
			return err
		}, want: is(client.ErrInvalidResponse)},
		{name: "callback/code replayed", run: func(ctx context.Context, e *env) error {
			c := e.mustClient(ctx)
			flow, params := e.authorize(ctx, c)
			if _, err := c.Exchange(ctx, flow, params); err != nil {
				e.t.Fatalf("first Exchange: %v", err)
			}
			_, err := c.Exchange(ctx, flow, params)
			return err
		}, want: respErr("token", 400, "invalid_grant")},

		// --- token endpoint (RFC 6749 §5) ---
		{name: "token/400 invalid_grant", opts: fault(partest.EndpointToken, jsonErr(400, "invalid_grant")), run: exchange,
			want: respErr("token", 400, "invalid_grant")},
		{name: "token/200 with an error body", opts: fault(partest.EndpointToken, jsonErr(200, "invalid_grant")), run: exchange,
			want: respErr("token", 200, "invalid_grant")},
		{name: "token/500 html error page", opts: fault(partest.EndpointToken, html), run: exchange,
			want: all(respErr("token", 500, ""), htmlBody)},
		{name: "token/200 html page", opts: fault(partest.EndpointToken, htmlOK), run: exchange,
			want: is(client.ErrInvalidResponse)},
		{name: "token/truncated json", opts: fault(partest.EndpointToken, partest.Fault{TruncateBody: true}), run: exchange,
			want: is(client.ErrInvalidResponse)},
		{name: "token/oversized body", opts: fault(partest.EndpointToken, partest.Fault{OversizeBody: true}), run: exchange,
			want: is(client.ErrInvalidResponse, httpx.ErrBodyTooLarge)},
		{name: "token/stalled", opts: stalled(partest.EndpointToken), budget: 2 * time.Second, run: exchange, want: timedOut},
		{name: "token/307 redirect not followed", run: func(ctx context.Context, e *env) error {
			e.srv.SetFault(partest.EndpointToken, partest.Fault{Status: http.StatusTemporaryRedirect,
				Header: http.Header{"Location": {e.attacker.URL + "/token"}}})
			err := exchange(ctx, e)
			if a := noAttack(e); a != nil {
				return a
			}
			return err
		}, want: respErr("token", http.StatusTemporaryRedirect, "")},
		{name: "token/429 with Retry-After", opts: fault(partest.EndpointToken, partest.Fault{Status: 429, Body: `{"error":"slow_down"}`,
			Header: http.Header{"Retry-After": {"30"}}}), run: exchange,
			want: as(func(re *client.ResponseError) bool { return re.StatusCode == 429 && re.RetryAfter == 30*time.Second })},
		{name: "token/no id_token", opts: fault(partest.EndpointToken, partest.Fault{Status: 200,
			Body: `{"access_token":"at","token_type":"Bearer","expires_in":60}`}), run: exchange, want: is(client.ErrInvalidResponse)},
		{name: "token/Bearer where DPoP was asked", opts: envOptions{client: withDPoP, partest: func(c *partest.Config) {
			c.Faults = map[string]partest.Fault{partest.EndpointToken: {Status: 200,
				Body: `{"access_token":"at","token_type":"Bearer","expires_in":60,"id_token":"x.y.z"}`}}
		}}, run: exchange, want: is(client.ErrInvalidResponse)},

		{name: "token/dpop nonce challenge retried once only", opts: envOptions{client: withDPoP, partest: func(c *partest.Config) {
			c.Clients[0].DPoPBound = true
		}}, run: func(ctx context.Context, e *env) error {
			c := e.mustClient(ctx)
			flow, params := e.authorize(ctx, c)
			e.srv.SetFault(partest.EndpointToken, partest.Fault{Status: 400, Body: `{"error":"use_dpop_nonce"}`,
				Header: http.Header{"Dpop-Nonce": {"n-" + rand.Text()}}})
			_, err := c.Exchange(ctx, flow, params)
			if n := e.srv.Requests(partest.EndpointToken); n != 2 {
				return fmt.Errorf("token endpoint got %d requests, want 2 (one retry)", n)
			}
			return err
		}, want: respErr("token", 400, "use_dpop_nonce")},

		{name: "token/DPoP token where Bearer was asked", opts: fault(partest.EndpointToken, partest.Fault{Status: 200,
			Body: `{"access_token":"at","token_type":"DPoP","expires_in":60,"id_token":"x.y.z"}`}), run: exchange, want: is(client.ErrInvalidResponse)},
		// --- ID token (OIDC Core §3.1.3.7) and alg confusion ---
		{name: "id_token/wrong issuer", opts: fault(partest.EndpointToken, partest.Fault{Issuer: "https://evil.example/op"}), run: exchange,
			want: is(client.ErrInvalidIDToken)},
		{name: "id_token/wrong audience", opts: fault(partest.EndpointToken, partest.Fault{IDToken: func(c map[string]any) { c["aud"] = "other" }}),
			run: exchange, want: is(client.ErrInvalidIDToken)},
		{name: "id_token/expired", opts: fault(partest.EndpointToken, partest.Fault{IDToken: func(c map[string]any) {
			c["exp"] = time.Now().Add(-time.Hour).Unix()
		}}), run: exchange, want: all(is(client.ErrInvalidIDToken), as[*oidc.TokenExpiredError](nil))},
		{name: "id_token/nonce missing", opts: fault(partest.EndpointToken, partest.Fault{IDToken: func(c map[string]any) { delete(c, "nonce") }}),
			run: exchange, want: is(client.ErrInvalidIDToken)},
		{name: "id_token/azp names another client", opts: fault(partest.EndpointToken, partest.Fault{IDToken: func(c map[string]any) {
			c["aud"] = []string{clientID, "evil"}
			c["azp"] = "evil"
		}}), run: exchange, want: is(client.ErrInvalidIDToken)},
		{name: "id_token/iss missing", opts: fault(partest.EndpointToken, partest.Fault{IDToken: func(c map[string]any) { delete(c, "iss") }}),
			run: exchange, want: is(client.ErrInvalidIDToken)},
		{name: "id_token/exp missing", opts: fault(partest.EndpointToken, partest.Fault{IDToken: func(c map[string]any) { delete(c, "exp") }}),
			run: exchange, want: is(client.ErrInvalidIDToken)},
		{name: "id_token/sub missing", opts: fault(partest.EndpointToken, partest.Fault{IDToken: func(c map[string]any) { delete(c, "sub") }}),
			run: exchange, want: is(client.ErrInvalidIDToken)},
		{name: "id_token/alg none", opts: fault(partest.EndpointToken, partest.Fault{IDTokenAlg: "none"}), run: exchange,
			want: is(client.ErrInvalidIDToken)},
		{name: "id_token/HS256 keyed with the client secret", opts: fault(partest.EndpointToken, partest.Fault{IDTokenAlg: jose.HS256}),
			run: exchange, want: is(client.ErrInvalidIDToken)},
		{name: "id_token/RS256 header on the EC key's kid", run: exchangeForged(func(e *env, claims map[string]any) (string, error) {
			kid := e.srv.PublicJWKS().Keys[0].KeyID // the ES256 key
			rk, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return "", err
			}
			return e.srv.SignWithKey(rk, jose.RS256, kid, "JWT", claims)
		}), want: is(client.ErrInvalidIDToken)},
		{name: "id_token/unknown kid", run: exchangeForged(func(e *env, claims map[string]any) (string, error) {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return "", err
			}
			return e.srv.SignWithKey(k, jose.ES256, "forged-kid", "JWT", claims)
		}), want: all(is(client.ErrInvalidIDToken), is(jwks.ErrUnknownKeyID))},
		{name: "id_token/known kid, foreign key", run: exchangeForged(func(e *env, claims map[string]any) (string, error) {
			kid := e.srv.PublicJWKS().Keys[0].KeyID
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				return "", err
			}
			return e.srv.SignWithKey(k, jose.ES256, kid, "JWT", claims)
		}), want: is(client.ErrInvalidIDToken)},
		{name: "id_token/not a jwt", opts: fault(partest.EndpointToken, partest.Fault{RawIDToken: "not-a-jwt"}), run: exchange,
			want: is(client.ErrInvalidIDToken)},
		{name: "id_token/at_hash mismatch", opts: fault(partest.EndpointToken, partest.Fault{IDToken: func(c map[string]any) {
			c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA"
		}}), run: exchange, want: is(client.ErrInvalidIDToken)},

		// --- JWKS (RFC 7517) ---
		{name: "jwks/500", opts: fault(partest.EndpointJWKS, partest.Fault{Status: 500}), run: exchange,
			want: is(client.ErrInvalidIDToken)},
		{name: "jwks/not json", opts: fault(partest.EndpointJWKS, htmlOK), run: exchange,
			want: all(is(client.ErrInvalidIDToken), is(client.ErrInvalidResponse))},
		{name: "jwks/no usable key", opts: fault(partest.EndpointJWKS, partest.Fault{Status: 200,
			Body: `{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}`}), run: exchange,
			want: all(is(client.ErrInvalidIDToken), is(client.ErrInvalidResponse))},
		{name: "jwks/oversized", opts: fault(partest.EndpointJWKS, partest.Fault{OversizeBody: true}), run: exchange,
			want: all(is(client.ErrInvalidIDToken), is(httpx.ErrBodyTooLarge))},
		{name: "jwks/stalled", opts: stalled(partest.EndpointJWKS), budget: 2 * time.Second,
			run: func(ctx context.Context, e *env) error {
				// discovery, PAR and token answer quickly; only the JWKS stalls.
				return exchange(ctx, e)
			}, want: all(is(client.ErrInvalidIDToken), timedOut)},
		{name: "jwks/rotated between push and token", run: func(ctx context.Context, e *env) error {
			c := e.mustClient(ctx)
			flow, params := e.authorize(ctx, c)
			if err := e.srv.RotateKeys(); err != nil {
				e.t.Fatal(err)
			}
			_, err := c.Exchange(ctx, flow, params)
			return err
		}, want: func(err error) error { // the first fetch sees the new key: success
			if err != nil {
				return fmt.Errorf("want success, got %w", err)
			}
			return nil
		}},
		{name: "jwks/rotated twice: the first rotation at once, the second after 5 s", run: func(ctx context.Context, e *env) error {
			c := e.mustClient(ctx)
			e.tokens(ctx, c) // caches the JWKS
			login := func() error {
				flow, params := e.authorize(ctx, c)
				_, err := c.Exchange(ctx, flow, params)
				return err
			}
			if err := e.srv.RotateKeys(); err != nil {
				e.t.Fatal(err)
			}
			if err := login(); err != nil {
				return fmt.Errorf("right after a rotation: want success (the first load does not count), got %w", err)
			}
			if err := e.srv.RotateKeys(); err != nil {
				e.t.Fatal(err)
			}
			if err := login(); !errors.Is(err, jwks.ErrUnknownKeyID) {
				return fmt.Errorf("a second rotation within 5 s of the refetch: want ErrUnknownKeyID, got %v", err)
			}
			e.clock.advance(6 * time.Second)
			return login()
		}, want: func(err error) error {
			if err != nil {
				return fmt.Errorf("after the refetch interval: want success, got %w", err)
			}
			return nil
		}},

		// --- UserInfo (OIDC Core §5.3) ---
		// The code is only in the challenge (RFC 6750 §3), as the MitID broker
		// sends it: ResponseError.Code has it.
		{name: "userinfo/401 with WWW-Authenticate", run: userinfo(partest.Fault{Status: 401,
			Header: http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}}),
			want: respErr("userinfo", 401, "invalid_token")},
		{name: "userinfo/sub mismatch", run: userinfo(partest.Fault{Status: 200, Body: `{"sub":"mallory"}`}),
			want: is(client.ErrInvalidResponse)},
		{name: "userinfo/sub missing", run: userinfo(partest.Fault{Status: 200, Body: `{"name":"Mallory"}`}),
			want: is(client.ErrInvalidResponse)},
		{name: "userinfo/html page", run: userinfo(htmlOK), want: is(client.ErrInvalidResponse)},
		{name: "userinfo/oversized", run: userinfo(partest.Fault{OversizeBody: true}),
			want: is(client.ErrInvalidResponse, httpx.ErrBodyTooLarge)},
		{name: "userinfo/stalled", opts: envOptions{timeout: 300 * time.Millisecond}, budget: 3 * time.Second,
			run: userinfo(partest.Fault{Delay: stall}), want: timedOut},

		{name: "userinfo/signed with alg none", opts: signedUserinfo, run: userinfo(partest.Fault{Status: 200, ContentType: "application/jwt",
			Body: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."}), want: is(client.ErrInvalidResponse)},
		{name: "userinfo/signed with an unknown kid", opts: signedUserinfo, run: func(ctx context.Context, e *env) error {
			k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				e.t.Fatal(err)
			}
			raw, err := e.srv.SignWithKey(k, jose.ES256, "forged", "", map[string]any{"sub": "alice", "iss": e.srv.Issuer(), "aud": clientID})
			if err != nil {
				e.t.Fatal(err)
			}
			return userinfo(partest.Fault{Status: 200, ContentType: "application/jwt", Body: raw})(ctx, e)
		}, want: is(client.ErrInvalidResponse, jwks.ErrUnknownKeyID)},
		{name: "userinfo/signed by the provider for another issuer", opts: signedUserinfo, run: func(ctx context.Context, e *env) error {
			raw, err := e.srv.SignIDToken(map[string]any{"sub": "alice", "iss": "https://evil.example", "aud": clientID}, "")
			if err != nil {
				e.t.Fatal(err)
			}
			return userinfo(partest.Fault{Status: 200, ContentType: "application/jwt", Body: raw})(ctx, e)
		}, want: is(client.ErrInvalidResponse)},
		{name: "userinfo/signed for an issuer that echoes the client secret", opts: signedUserinfo, run: func(ctx context.Context, e *env) error {
			raw, err := e.srv.SignIDToken(map[string]any{"sub": "alice", "iss": "https://evil.example/" + secret, "aud": clientID}, "")
			if err != nil {
				e.t.Fatal(err)
			}
			return userinfo(partest.Fault{Status: 200, ContentType: "application/jwt", Body: raw})(ctx, e)
		}, want: all(is(client.ErrInvalidResponse), func(err error) error {
			if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "[redacted]") {
				return fmt.Errorf("error text %q: want the echoed secret redacted", err)
			}
			return nil
		})},
		{name: "id_token/issuer that echoes the client secret", opts: fault(partest.EndpointToken, partest.Fault{Issuer: "https://evil.example/" + secret}),
			run: exchange, want: all(is(client.ErrInvalidIDToken), func(err error) error {
				if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "[redacted]") {
					return fmt.Errorf("error text %q: want the echoed secret redacted", err)
				}
				return nil
			})},
		{name: "userinfo/signed by the provider for another client", opts: signedUserinfo, run: func(ctx context.Context, e *env) error {
			raw, err := e.srv.SignIDToken(map[string]any{"sub": "alice", "iss": e.srv.Issuer(), "aud": "other"}, "")
			if err != nil {
				e.t.Fatal(err)
			}
			return userinfo(partest.Fault{Status: 200, ContentType: "application/jwt", Body: raw})(ctx, e)
		}, want: is(client.ErrInvalidResponse)},

		{name: "resource/redirect does not carry the token away", run: func(ctx context.Context, e *env) error {
			c := e.mustClient(ctx)
			tok := e.tokens(ctx, c)
			e.srv.SetFault(partest.EndpointUserinfo, partest.Fault{Status: http.StatusTemporaryRedirect,
				Header: http.Header{"Location": {e.attacker.URL + "/steal"}}})
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.Metadata()["userinfo_endpoint"].(string), nil)
			resp, err := c.ResourceClient(tok).Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTemporaryRedirect {
				return fmt.Errorf("status %d, want the 307 itself", resp.StatusCode)
			}
			return noAttack(e)
		}, want: func(err error) error { return err }},

		// --- refresh (RFC 6749 §6) ---
		{name: "refresh/invalid_grant", run: refresh(jsonErr(400, "invalid_grant")), want: respErr("token", 400, "invalid_grant")},
		{name: "refresh/503 with Retry-After", run: refresh(partest.Fault{Status: 503, Header: http.Header{"Retry-After": {"12"}}}),
			want: as(func(re *client.ResponseError) bool { return re.StatusCode == 503 && re.RetryAfter == 12*time.Second })},
		{name: "refresh/forged id_token", run: refresh(partest.Fault{IDTokenAlg: "none"}), want: is(client.ErrInvalidIDToken)},

		// --- the login handlers ---
		{name: "login/PAR 503 at start", run: viaLogin(func(e *env) {
			e.srv.SetFault(partest.EndpointPAR, partest.Fault{Status: 503})
		}), want: all(loginErr(login.OpStart, http.StatusServiceUnavailable), respErr("par", 503, ""))},
		{name: "login/iss mix-up at callback", run: viaLogin(func(e *env) {
			e.srv.SetFault(partest.EndpointAuthorize, partest.Fault{Issuer: "https://evil.example/op"})
		}), want: all(loginErr(login.OpExchange, http.StatusBadRequest), is(client.ErrIssuerMismatch))},
		{name: "login/token 500 at callback", run: viaLogin(func(e *env) {
			e.srv.SetFault(partest.EndpointToken, html)
		}), want: all(loginErr(login.OpExchange, http.StatusBadGateway), respErr("token", 500, ""))},
		{name: "login/provider error at callback", run: func(ctx context.Context, e *env) error {
			a := e.loginApp(ctx, nil)
			b := newBrowser(e.app.URL, e.tr)
			_, loc, err := b.start(ctx)
			if err != nil {
				return err
			}
			params, err := e.srv.Login(loc)
			if err != nil {
				return err
			}
			params.Del("code")
			params.Set("error", "access_denied")
			params.Set("error_description", "mitid_user_aborted")
			status, _, err := b.callback(ctx, params)
			if err != nil {
				return err
			}
			if status != http.StatusForbidden {
				return fmt.Errorf("callback page = %d, want 403", status)
			}
			return a.lastErr()
		}, want: all(loginErr(login.OpExchange, http.StatusForbidden),
			as(func(ae *client.AuthorizationError) bool { return ae.Code == "access_denied" }))},
		{name: "login/callback replayed", run: func(ctx context.Context, e *env) error {
			a := e.loginApp(ctx, nil)
			b := newBrowser(e.app.URL, e.tr)
			_, loc, err := b.start(ctx)
			if err != nil {
				return err
			}
			params, err := e.srv.Login(loc)
			if err != nil {
				return err
			}
			if status, body, err := b.callback(ctx, params); err != nil || status != http.StatusOK {
				e.t.Fatalf("first callback = %d %q %v", status, body, err)
			}
			if _, _, err := b.callback(ctx, params); err != nil {
				return err
			}
			return a.lastErr()
		}, want: all(loginErr(login.OpCallback, http.StatusBadRequest), is(login.ErrFlowNotFound))},
		{name: "login/callback from another browser", run: func(ctx context.Context, e *env) error {
			a := e.loginApp(ctx, nil)
			_, loc, err := newBrowser(e.app.URL, e.tr).start(ctx)
			if err != nil {
				return err
			}
			params, err := e.srv.Login(loc)
			if err != nil {
				return err
			}
			if _, _, err := newBrowser(e.app.URL, e.tr).callback(ctx, params); err != nil {
				return err
			}
			return a.lastErr()
		}, want: is(login.ErrBrowserMismatch)},
		{name: "login/stalled token endpoint", opts: envOptions{timeout: 300 * time.Millisecond}, budget: 3 * time.Second,
			run:  viaLogin(func(e *env) { e.srv.SetFault(partest.EndpointToken, partest.Fault{Delay: stall}) }),
			want: all(loginErr(login.OpExchange, http.StatusGatewayTimeout), timedOut)},
	}
	// --- JWT-secured authorization responses (JARM), jarm_test.go ---
	return append(cases, jarmCases()...)
}

// signedUserinfo makes partest answer userinfo with signed JWTs.
var signedUserinfo = envOptions{partest: func(c *partest.Config) { c.Clients[0].SignedUserinfo = true }}

func withDPoP(c *client.Config) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	p, err := dpop.NewProofer(k, nil)
	if err != nil {
		panic(err)
	}
	c.DPoP = p
}

// TestHostile runs the hostile-provider table. Each case must return the
// typed error it names, without a panic, within its budget, and leave no
// goroutine behind.
//
// It does not call t.Parallel, on purpose: the goroutine check compares
// process-wide counts, which is only meaningful while no other test runs
// (parallel tests wait until the sequential ones are done).
func TestHostile(t *testing.T) {
	cases := hostileCases()
	if len(cases) < minCases {
		t.Fatalf("the table holds %d cases, want at least %d", len(cases), minCases)
	}
	// Warm up what lives for the whole process (the default transport's
	// and the runtime's own goroutines) so it is not counted as a leak.
	runCase(t, cases[0], false)
	ran, passed := 0, 0
	for _, tc := range cases {
		if t.Run(tc.name, func(t *testing.T) {
			ran++
			runCase(t, tc, true)
		}) {
			passed++
		}
	}
	switch {
	case ran < len(cases):
		t.Logf("hostile: %d of %d cases run (-run filter), %d passed", ran, len(cases), passed-(len(cases)-ran))
	case passed == len(cases):
		t.Logf("hostile: %d cases passed", len(cases))
	default:
		t.Logf("hostile: %d cases, %d passed, %d failed", len(cases), passed, len(cases)-passed)
	}
}

func runCase(t *testing.T, tc hostileCase, report bool) {
	base := runtime.NumGoroutine()
	budget := tc.budget
	if budget == 0 {
		budget = 5 * time.Second
	}
	e := newEnv(t, tc.opts)
	t.Cleanup(e.close) // also when a step fails with t.Fatal
	ctx, cancel := context.WithTimeout(context.Background(), 2*budget)
	start := time.Now()
	panicked, err := safeRun(ctx, e, tc.run)
	elapsed := time.Since(start)
	cancel()
	closeStart := time.Now()
	e.close()
	closed := time.Since(closeStart)
	if !report {
		return
	}
	if panicked != nil {
		t.Fatalf("panic: %v", panicked)
	}
	if elapsed > budget {
		t.Errorf("took %v, budget %v", elapsed, budget)
	}
	if closed > 3*time.Second {
		t.Errorf("closing the servers took %v: a handler kept running after the client gave up", closed)
	}
	if why := tc.want(err); why != nil {
		t.Errorf("error %v (%T): %v", err, err, why)
	}
	if n, ok := settleGoroutines(base, 3*time.Second); !ok {
		t.Errorf("goroutines: %d before, %d after\n%s", base, n, goroutineDump())
	}
}

// safeRun runs f, turning a panic into a value.
func safeRun(ctx context.Context, e *env, f func(context.Context, *env) error) (panicked any, err error) {
	defer func() { panicked = recover() }()
	return nil, f(ctx, e)
}
