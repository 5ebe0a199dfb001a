package hostile_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/go-par/par/client"
	"github.com/go-par/par/partest"
)

// errTokenRequested marks a JARM case in which the client made a token
// request after the forged response: every refusal must come before.
var errTokenRequested = errors.New("hostile: a token request followed the response")

// notTokenRequested expects no token request (see jarmLogin).
func notTokenRequested(err error) error {
	if errors.Is(err, errTokenRequested) {
		return errTokenRequested
	}
	return nil
}

// jarmOptions set up a JARM client (response_mode jwt; the provider signs
// ES256, like its ID tokens) with fault f at the authorization endpoint.
func jarmOptions(f partest.Fault) envOptions {
	return envOptions{
		partest: func(c *partest.Config) {
			c.Clients[0].AuthorizationSignedResponseAlg = jose.ES256
			c.Faults = map[string]partest.Fault{partest.EndpointAuthorize: f}
		},
		client: func(c *client.Config) { c.ResponseMode = "jwt" },
	}
}

// jarmLogin runs a JARM login whose callback tamper may change, through
// ParseResponse (the browser's GET to the redirect URI) and Exchange; a
// token request made along the way joins errTokenRequested to the error.
func jarmLogin(tamper func(e *env, flow *client.Flow, params url.Values)) func(context.Context, *env) error {
	return func(ctx context.Context, e *env) error {
		c := e.mustClient(ctx)
		flow, params := e.authorize(ctx, c)
		if tamper != nil {
			tamper(e, flow, params)
		}
		before := e.srv.Requests(partest.EndpointToken)
		r, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.redirect+"?"+params.Encode(), nil)
		got, err := client.ParseResponse(r)
		if err == nil {
			_, err = c.Exchange(ctx, flow, got)
		}
		if e.srv.Requests(partest.EndpointToken) != before {
			err = errors.Join(err, errTokenRequested)
		}
		return err
	}
}

// jarmCases are the hostile table's JWT-secured response section (JARM
// §2.4, FAPI 2.0 Message Signing §5.4): each forgery is refused with a
// typed error before any token request.
func jarmCases() []hostileCase {
	claims := func(edit func(c map[string]any)) partest.Fault { return partest.Fault{JARMClaims: edit} }
	refused := func(targets ...error) check { return all(is(targets...), notTokenRequested) }
	foreign, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return []hostileCase{
		{name: "jarm/unsigned (alg none)", opts: jarmOptions(partest.Fault{JARMAlg: "none"}), run: jarmLogin(nil),
			want: refused(client.ErrInvalidResponseJWT)},
		{name: "jarm/HS256 with the client secret (the provider signs ES256)", opts: jarmOptions(partest.Fault{JARMAlg: jose.HS256}),
			run: jarmLogin(nil), want: refused(client.ErrInvalidResponseJWT)},
		{name: "jarm/signed with a key not in the JWKS", opts: jarmOptions(partest.Fault{JARMAlg: jose.ES256, JARMKey: foreign}),
			run: jarmLogin(nil), want: refused(client.ErrInvalidResponseJWT)},
		{name: "jarm/wrong iss", opts: jarmOptions(partest.Fault{Issuer: "https://evil.example/op"}), run: jarmLogin(nil),
			want: refused(client.ErrInvalidResponseJWT, client.ErrIssuerMismatch)},
		{name: "jarm/no iss", opts: jarmOptions(partest.Fault{OmitIss: true}), run: jarmLogin(nil),
			want: refused(client.ErrInvalidResponseJWT, client.ErrIssuerMismatch)},
		{name: "jarm/wrong aud", opts: jarmOptions(claims(func(c map[string]any) { c["aud"] = "another-client" })),
			run: jarmLogin(nil), want: refused(client.ErrInvalidResponseJWT)},
		{name: "jarm/expired", opts: jarmOptions(claims(func(c map[string]any) { c["exp"] = time.Now().Add(-5 * time.Minute).Unix() })),
			run: jarmLogin(nil), want: refused(client.ErrInvalidResponseJWT)},
		{name: "jarm/missing exp", opts: jarmOptions(claims(func(c map[string]any) { delete(c, "exp") })),
			run: jarmLogin(nil), want: refused(client.ErrInvalidResponseJWT)},
		{name: "jarm/exp a day ahead", opts: jarmOptions(claims(func(c map[string]any) { c["exp"] = time.Now().Add(24 * time.Hour).Unix() })),
			run: jarmLogin(nil), want: refused(client.ErrInvalidResponseJWT)},
		{name: "jarm/replayed response of another flow", opts: jarmOptions(partest.Fault{}), run: func(ctx context.Context, e *env) error {
			c := e.mustClient(ctx)
			e.authorize(ctx, c) // an earlier flow's genuine response, never used
			e.srv.SetFault(partest.EndpointAuthorize, partest.Fault{ReplayJARM: true})
			return jarmLogin(nil)(ctx, e)
		}, want: refused(client.ErrStateMismatch)},
		{name: "jarm/response together with plain parameters", opts: jarmOptions(partest.Fault{JARMWithPlainParams: true}),
			run: jarmLogin(nil), want: refused(client.ErrInvalidResponse)},
		{name: "jarm/plain response to a JARM flow", opts: jarmOptions(partest.Fault{}),
			run: jarmLogin(func(e *env, flow *client.Flow, p url.Values) {
				p.Del("response")
				p.Set("code", "a-code-from-elsewhere")
				p.Set("state", flow.State)
				p.Set("iss", e.srv.Issuer())
			}), want: refused(client.ErrInvalidResponseJWT)},
		{name: "jarm/not a JWT", opts: jarmOptions(partest.Fault{}),
			run:  jarmLogin(func(_ *env, _ *client.Flow, p url.Values) { p.Set("response", "not.a.jwt.at.all.") }),
			want: refused(client.ErrInvalidResponseJWT)},
		{name: "jarm/forged response at the login handler leaves the flow usable", opts: jarmOptions(partest.Fault{}),
			run: func(ctx context.Context, e *env) error {
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
				forged := url.Values{"response": {"eyJhbGciOiJub25lIn0." + payloadOf(params.Get("response")) + "."}}
				if status, _, err := b.callback(ctx, forged); err != nil || status == http.StatusOK {
					return fmt.Errorf("forged response answered %d (%v)", status, err)
				}
				refusal := a.lastErr()
				if status, _, err := b.callback(ctx, params); err != nil || status != http.StatusOK {
					return fmt.Errorf("the genuine response after a forged one answered %d (%v, %v)", status, err, a.lastErr())
				}
				return refusal
			}, want: is(client.ErrInvalidResponseJWT)},
	}
}

// payloadOf is the payload segment of a compact JWS.
func payloadOf(jws string) string {
	if parts := strings.Split(jws, "."); len(parts) == 3 {
		return parts[1]
	}
	return ""
}
