package interop_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-par/par/client"
	"github.com/go-par/par/interop/internal/opharness"
	"github.com/go-par/par/jar"
)

// TestJARMLogins logs in with JWT-secured authorization responses (JARM)
// in every response mode the SDK offers: the jarm client's responses are
// signed PS256, the jarm-enc client's signed ES256 and encrypted to its
// RSA key (RSA-OAEP-256, A256GCM), which the SDK decrypts with
// Config.ResponseDecryptionKey. The callback carries response alone; the
// SDK verifies it and redeems the code inside.
func TestJARMLogins(t *testing.T) {
	t.Parallel()
	f := startOP(t, opharness.ModeOptional)
	for _, id := range []string{"jarm", "jarm-enc"} {
		for _, mode := range []string{"jwt", "query.jwt", "form_post.jwt"} {
			t.Run(id+"/"+mode, func(t *testing.T) {
				t.Parallel()
				c := newClient(t, f, id, secretBasic(id)(f), func(cfg *client.Config) {
					cfg.ResponseMode = mode
					if k := f.encKeys[id]; k != nil {
						cfg.ResponseDecryptionKey = k
					}
				})
				flow, params := login(t, f, c, id)
				if flow.ResponseMode != mode {
					t.Errorf("flow.ResponseMode = %q", flow.ResponseMode)
				}
				if len(params) != 1 || params.Get("response") == "" {
					t.Fatalf("callback parameters %v, want response alone", params)
				}
				dots := strings.Count(params.Get("response"), ".")
				if want := map[bool]int{false: 2, true: 4}[f.encKeys[id] != nil]; dots != want {
					t.Errorf("response JWT with %d dots, want %d", dots, want)
				}
				inner, err := c.ResponseParams(testContext(t), params)
				if err != nil {
					t.Fatalf("ResponseParams: %v", err)
				}
				if inner.Get("state") != flow.State || inner.Get("iss") != f.op.Issuer || inner.Get("code") == "" {
					t.Errorf("response claims: state ok %v, iss %q, code %v", inner.Get("state") == flow.State, inner.Get("iss"), inner.Has("code"))
				}
				tok, err := c.Exchange(testContext(t), flow, params)
				if err != nil {
					t.Fatalf("Exchange: %v", err)
				}
				checkTokens(t, f, flow, tok)
			})
		}
	}
}

// TestJARMRefusedAgainstProvider: node-oidc-provider's genuine response
// JWT with its signature changed on the way, and an encrypted one for a
// client configured without the decryption key, are refused with
// ErrInvalidResponseJWT (before the token endpoint: Exchange checks the
// response first).
func TestJARMRefusedAgainstProvider(t *testing.T) {
	t.Parallel()
	f := startOP(t, opharness.ModeOptional)
	c := newClient(t, f, "jarm", secretBasic("jarm")(f), func(cfg *client.Config) { cfg.ResponseMode = "jwt" })
	flow, params := login(t, f, c, "jarm")
	parts := strings.Split(params.Get("response"), ".")
	if len(parts) != 3 {
		t.Fatalf("response has %d parts", len(parts))
	}
	tampered := params.Get("response")[:len(params.Get("response"))-4] + "AAAA"
	params.Set("response", tampered)
	if _, err := c.Exchange(testContext(t), flow, params); !errors.Is(err, client.ErrInvalidResponseJWT) {
		t.Fatalf("Exchange with a changed signature: %v, want ErrInvalidResponseJWT", err)
	}
	// jarm-enc's encrypted response, to a client without the key.
	enc := newClient(t, f, "jarm-enc", secretBasic("jarm-enc")(f), func(cfg *client.Config) { cfg.ResponseMode = "jwt" })
	flow, params = login(t, f, enc, "jarm-enc")
	if _, err := enc.Exchange(testContext(t), flow, params); !errors.Is(err, client.ErrInvalidResponseJWT) {
		t.Fatalf("Exchange of an encrypted response without the key: %v, want ErrInvalidResponseJWT", err)
	}
}

// interopDetails are the rar client's details: a nested object and an
// integer at the edge of what node-oidc-provider's JSON.parse keeps
// exactly (2^53 - 1).
var interopDetails = []client.AuthorizationDetail{
	client.AuthorizationDetail(`{"type":"payment_initiation","actions":["initiate"],"locations":["https://bank.example/payments"],` +
		`"instructedAmount":{"currency":"EUR","amount":"123.50"},"creditor":{"name":"Merchant A","account":{"iban":"DE02100100109307118603"}},` +
		`"sequence":9007199254740991,"identifier":"pay-1"}`),
	client.AuthorizationDetail(`{"type":"account_information","datatypes":["balance"],"privileges":["read"]}`),
}

// TestRARLogins asks node-oidc-provider for authorization_details (RFC
// 9396) through the SDK, in the PAR form and inside a request object, and
// finds the granted details in the tokens exactly as sent.
func TestRARLogins(t *testing.T) {
	t.Parallel()
	f := startOP(t, opharness.ModeOptional)
	for _, how := range []string{"par form", "request object"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, f, "rar", secretBasic("rar")(f), func(cfg *client.Config) {
				if how == "request object" {
					cfg.RequestObject = &jar.Config{Secret: []byte(f.secrets["rar"]), Type: jar.TypeRequestObject}
				}
			})
			if got := c.Metadata().AuthorizationDetailsTypesSupported; len(got) != 2 {
				t.Errorf("authorization_details_types_supported = %v", got)
			}
			ctx := testContext(t)
			flow, err := c.Push(ctx, client.WithAuthorizationDetails(interopDetails...))
			if err != nil {
				t.Fatalf("Push: %v", err)
			}
			authURL, err := c.AuthorizationURL(flow)
			if err != nil {
				t.Fatal(err)
			}
			checkAuthorizationURL(t, f, authURL, "rar", flow)
			params := authorize(t, f.browser(t), authURL)
			tok, err := c.Exchange(ctx, flow, params)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			checkTokens(t, f, flow, tok)
			if len(tok.AuthorizationDetails) != len(interopDetails) {
				t.Fatalf("granted %d details, want %d", len(tok.AuthorizationDetails), len(interopDetails))
			}
			for i, d := range tok.AuthorizationDetails {
				if !bytes.Equal(d, interopDetails[i]) {
					t.Errorf("granted detail %d\n%s\nwant\n%s", i, d, interopDetails[i])
				}
			}
			var p struct {
				Sequence json.Number `json:"sequence"`
			}
			if err := json.Unmarshal(tok.AuthorizationDetails[0], &p); err != nil || p.Sequence != "9007199254740991" {
				t.Errorf("sequence %q (%v)", p.Sequence, err)
			}
		})
	}
	// A type the provider does not list is refused before the push.
	c := newClient(t, f, "rar", secretBasic("rar")(f))
	_, err := c.Push(testContext(t), client.WithAuthorizationDetails(client.AuthorizationDetail(`{"type":"credit_card"}`)))
	if !errors.Is(err, client.ErrInvalidAuthorizationDetails) {
		t.Fatalf("Push with an unknown type: %v, want ErrInvalidAuthorizationDetails", err)
	}
}
