package discovery_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-par/par/discovery"
)

const oidcPath = "/op/.well-known/openid-configuration"

func TestFetchBroker(t *testing.T) {
	t.Parallel()
	srv := newMetadataServer(t, true, func(base string) map[string]route {
		return map[string]route{oidcPath: {body: fixture(t, "broker-pp.json", base)}}
	})
	md, err := discovery.Fetch(t.Context(), srv.Client(), srv.URL+"/op")
	if err != nil {
		t.Fatalf("Fetch = %v", err)
	}
	if got, want := md.PushedAuthorizationRequestEndpoint, srv.URL+"/op/connect/par"; got != want {
		t.Errorf("PushedAuthorizationRequestEndpoint = %q, want %q", got, want)
	}
	if got, want := md.Issuer, srv.URL+"/op"; got != want {
		t.Errorf("Issuer = %q, want %q", got, want)
	}
	if !bytes.Equal(md.Raw(), fixture(t, "broker-pp.json", srv.URL)) {
		t.Error("Raw() differs from the served document")
	}
	if got, want := srv.requestPaths(), []string{oidcPath}; !reflect.DeepEqual(got, want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
}

func TestFetchLoopbackHTTPAndNilClient(t *testing.T) {
	t.Parallel()
	srv := newMetadataServer(t, false, func(base string) map[string]route {
		return map[string]route{"/.well-known/openid-configuration": {body: fixture(t, "nemlogin-hypothetical.json", base)}}
	})
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server URL %q is not http on loopback", srv.URL)
	}
	md, err := discovery.Fetch(t.Context(), nil, srv.URL)
	if err != nil {
		t.Fatalf("Fetch(nil client, %s) = %v", srv.URL, err)
	}
	if !md.RequirePushedAuthorizationRequests || md.PushedAuthorizationRequestEndpoint != srv.URL+"/par" {
		t.Errorf("Fetch = PAR %q required %v, want %q required", md.PushedAuthorizationRequestEndpoint, md.RequirePushedAuthorizationRequests, srv.URL+"/par")
	}
}

func TestFetchIssuerMismatch(t *testing.T) {
	t.Parallel()
	srv := newMetadataServer(t, true, func(base string) map[string]route {
		upper := bytes.Replace(fixture(t, "broker-pp.json", base), []byte(`"issuer": "`+base+`/op"`), []byte(`"issuer": "`+base+`/OP"`), 1)
		return map[string]route{
			oidcPath:                                 {body: fixture(t, "broker-pp.json", base)},
			"/case/.well-known/openid-configuration": {body: upper},
		}
	})
	tests := []struct {
		name, issuer, got string
	}{
		// The URL is built with the slash removed, so the document is
		// found, but its issuer is not the configured one.
		{"trailing slash configured", srv.URL + "/op/", srv.URL + "/op"},
		{"path case in document", srv.URL + "/case", srv.URL + "/OP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := discovery.Fetch(t.Context(), srv.Client(), tt.issuer)
			var me *discovery.IssuerMismatchError
			if !errors.As(err, &me) {
				t.Fatalf("Fetch(%q) = %v, want *IssuerMismatchError", tt.issuer, err)
			}
			if me.Expected != tt.issuer || me.Got != tt.got {
				t.Errorf("IssuerMismatchError = {%q, %q}, want {%q, %q}", me.Expected, me.Got, tt.issuer, tt.got)
			}
		})
	}
}

func TestFetchInvalidIssuer(t *testing.T) {
	t.Parallel()
	// No server: an invalid issuer must be refused before any request.
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("request to %s sent for an invalid issuer", r.URL)
		return nil, errors.New("unreachable")
	})}
	for _, issuer := range []string{
		"http://pp.netseidbroker.dk/op",
		"http://10.0.0.1/op",
		"https://pp.netseidbroker.dk/op?x=1",
		"https://pp.netseidbroker.dk/op#x",
		"pp.netseidbroker.dk/op",
		"",
	} {
		_, err := discovery.Fetch(t.Context(), hc, issuer)
		if !errors.Is(err, discovery.ErrInvalidIssuer) {
			t.Errorf("Fetch(%q) = %v, want ErrInvalidIssuer", issuer, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestFetchRFC8414Fallback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, issuerPath, wantPath string
	}{
		{"path", "/oidc", "/.well-known/oauth-authorization-server/oidc"},
		{"nested path", "/tenants/a/oidc", "/.well-known/oauth-authorization-server/tenants/a/oidc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newMetadataServer(t, true, func(base string) map[string]route {
				doc := fixture(t, "node-oidc-provider.json", base)
				doc = bytes.ReplaceAll(doc, []byte(base+"/oidc"), []byte(base+tt.issuerPath))
				return map[string]route{tt.wantPath: {body: doc}}
			})
			issuer := srv.URL + tt.issuerPath
			md, err := discovery.Fetch(t.Context(), srv.Client(), issuer)
			if err != nil {
				t.Fatalf("Fetch(%q) = %v", issuer, err)
			}
			if md.Issuer != issuer || md.Endpoint("token_endpoint", true) != srv.URL+tt.issuerPath+"/token" {
				t.Errorf("Fetch = issuer %q, mTLS token endpoint %q", md.Issuer, md.Endpoint("token_endpoint", true))
			}
			want := []string{tt.issuerPath + "/.well-known/openid-configuration", tt.wantPath}
			if got := srv.requestPaths(); !reflect.DeepEqual(got, want) {
				t.Errorf("requests = %q, want %q", got, want)
			}
		})
	}
	t.Run("no jwks_uri needed at the OAuth location", func(t *testing.T) {
		t.Parallel()
		srv := newMetadataServer(t, true, func(base string) map[string]route {
			return map[string]route{"/.well-known/oauth-authorization-server": {body: minimal(base, "")}}
		})
		if _, err := discovery.Fetch(t.Context(), srv.Client(), srv.URL); err != nil {
			t.Errorf("Fetch(OAuth-only server) = %v", err)
		}
	})
}

func TestFetchOIDCLocationRequiresJWKS(t *testing.T) {
	t.Parallel()
	srv := newMetadataServer(t, true, func(base string) map[string]route {
		return map[string]route{"/.well-known/openid-configuration": {body: minimal(base, "")}}
	})
	_, err := discovery.Fetch(t.Context(), srv.Client(), srv.URL)
	var pe *discovery.ParseError
	if !errors.As(err, &pe) || pe.Member != "jwks_uri" || !errors.Is(err, discovery.ErrMissingMember) {
		t.Fatalf("Fetch = %v, want a missing jwks_uri", err)
	}
	if want := srv.URL + "/.well-known/openid-configuration"; pe.URL != want {
		t.Errorf("ParseError.URL = %q, want %q", pe.URL, want)
	}
}

func TestFetchHTTPErrors(t *testing.T) {
	t.Parallel()
	big := bytes.Repeat([]byte("x"), 10<<10)
	tests := []struct {
		name      string
		first     route // answer at the OIDC location
		wantCodes []int // status of each HTTPError, in order
		wantReqs  int
	}{
		{"404 on both", route{status: http.StatusNotFound}, []int{404, 404}, 2},
		{"500 is not a reason to fall back", route{status: http.StatusInternalServerError, body: big}, []int{500}, 1},
		{"403", route{status: http.StatusForbidden}, []int{403}, 1},
		{"410", route{status: http.StatusGone}, []int{410}, 1},
		{"201", route{status: http.StatusCreated, body: []byte("{}")}, []int{201}, 1},
		{"204", route{status: http.StatusNoContent}, []int{204}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newMetadataServer(t, true, func(base string) map[string]route {
				return map[string]route{oidcPath: tt.first}
			})
			_, err := discovery.Fetch(t.Context(), srv.Client(), srv.URL+"/op")
			var codes []int
			for _, e := range flatten(err) {
				var he *discovery.HTTPError
				if errors.As(e, &he) {
					codes = append(codes, he.StatusCode)
					if len(he.Body) > 512 {
						t.Errorf("HTTPError.Body has %d bytes, want at most 512", len(he.Body))
					}
				}
			}
			if !reflect.DeepEqual(codes, tt.wantCodes) {
				t.Errorf("Fetch = %v; HTTPError statuses %v, want %v", err, codes, tt.wantCodes)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long; bodies must stay out of it", len(err.Error()))
			}
			if got := srv.requests.Load(); got != int64(tt.wantReqs) {
				t.Errorf("server got %d requests, want %d", got, tt.wantReqs)
			}
		})
	}
	t.Run("404 on both names both URLs", func(t *testing.T) {
		t.Parallel()
		srv := newMetadataServer(t, true, func(string) map[string]route { return nil })
		_, err := discovery.Fetch(t.Context(), srv.Client(), srv.URL+"/op")
		for _, u := range []string{srv.URL + oidcPath, srv.URL + "/.well-known/oauth-authorization-server/op"} {
			if err == nil || !strings.Contains(err.Error(), u) {
				t.Errorf("Fetch = %v, want it to name %s", err, u)
			}
		}
	})
}

// flatten lists err and, for a joined error, its parts.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestFetchRedirectRefused(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			srv := newMetadataServer(t, true, func(base string) map[string]route {
				return map[string]route{
					oidcPath: {status: status, header: map[string]string{"Location": base + "/moved"}},
					"/moved": {body: fixture(t, "broker-pp.json", base)},
				}
			})
			// A caller's client that would follow redirects: Fetch must
			// still refuse them.
			hc := srv.Client()
			hc.CheckRedirect = nil
			_, err := discovery.Fetch(t.Context(), hc, srv.URL+"/op")
			var he *discovery.HTTPError
			if !errors.As(err, &he) || he.StatusCode != status || he.Location != srv.URL+"/moved" {
				t.Fatalf("Fetch = %v, want *HTTPError{%d, Location: %s/moved}", err, status, srv.URL)
			}
			if !strings.Contains(err.Error(), "redirect refused") {
				t.Errorf("error %q does not say the redirect was refused", err)
			}
			if got, want := srv.requestPaths(), []string{oidcPath}; !reflect.DeepEqual(got, want) {
				t.Errorf("requests = %q, want %q", got, want)
			}
			if hc.CheckRedirect != nil {
				t.Error("Fetch modified the caller's client")
			}
		})
	}
}

func TestFetchBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body func(base string) []byte
		want error
	}{
		{"larger than 1 MiB", func(base string) []byte {
			doc := minimal(base+"/op", `"jwks_uri":"`+base+`/jwks","x_padding":"`+strings.Repeat("a", 1<<20)+`"`)
			return doc
		}, discovery.ErrTooLarge},
		{"HTML", func(string) []byte { return []byte("<!DOCTYPE html><html><body>login</body></html>") }, discovery.ErrMalformed},
		{"empty", func(string) []byte { return nil }, discovery.ErrMalformed},
		{"JSON array", func(string) []byte { return []byte(`[]`) }, discovery.ErrMalformed},
		{"wrong type", func(base string) []byte {
			return bytes.Replace(fixture(t, "broker-pp.json", base), []byte(`"require_pushed_authorization_requests": false`), []byte(`"require_pushed_authorization_requests": "false"`), 1)
		}, discovery.ErrWrongType},
		{"http endpoint in document", func(base string) []byte {
			return bytes.Replace(fixture(t, "broker-pp.json", base), []byte(base+"/op/connect/par"), []byte("http://pp.netseidbroker.dk/op/connect/par"), 1)
		}, discovery.ErrInvalidEndpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newMetadataServer(t, true, func(base string) map[string]route {
				return map[string]route{oidcPath: {body: tt.body(base)}}
			})
			md, err := discovery.Fetch(t.Context(), srv.Client(), srv.URL+"/op")
			var pe *discovery.ParseError
			if md != nil || !errors.Is(err, tt.want) || !errors.As(err, &pe) {
				t.Fatalf("Fetch = %v, want a *ParseError wrapping %v", err, tt.want)
			}
			if pe.URL != srv.URL+oidcPath {
				t.Errorf("ParseError.URL = %q, want %q", pe.URL, srv.URL+oidcPath)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long, want a short message", len(err.Error()))
			}
		})
	}
}

func TestFetchContext(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	srv := quiet(httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(block) })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := discovery.Fetch(ctx, srv.Client(), srv.URL)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch(cancelled ctx) = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = discovery.Fetch(ctx, srv.Client(), srv.URL)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Fetch(ctx with deadline, hanging server) = %v, want context.DeadlineExceeded", err)
	}
}
