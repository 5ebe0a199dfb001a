package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/go-par/par/client"
	"github.com/go-par/par/jar"
	"github.com/go-par/par/partest"
)

// payment is a detail with a large integer (beyond 2^53) and a nested
// object: what a float64 detour would damage.
const payment = `{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"123.50"},` +
	`"creditorAccount":{"iban":"DK5000400440116243"},"sequence":12345678901234567890,"actions":["initiate"]}`

func rarServer(t *testing.T) *partest.Server {
	t.Helper()
	return secretServer(t, func(c *partest.Config) {
		c.Clients[0].AuthorizationDetailsTypes = []string{"payment_initiation", "account_information"}
	})
}

// TestAuthorizationDetailsLogin: details pushed in the PAR form and inside
// a request object come back granted in the token response exactly, and a
// refresh keeps them.
func TestAuthorizationDetailsLogin(t *testing.T) {
	t.Parallel()
	accounts := `{"type":"account_information","locations":["https://bank.example/accounts"],"datatypes":["balance"]}`
	for _, ro := range []bool{false, true} {
		name := map[bool]string{false: "PAR form", true: "request object"}[ro]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := rarServer(t)
			cfg := client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)}
			if ro {
				cfg.RequestObject = &jar.Config{Secret: []byte(secret)}
			}
			c, flow, params := login(t, srv, cfg, client.WithAuthorizationDetails(
				client.AuthorizationDetail(payment), client.AuthorizationDetail(accounts)))
			tok, err := c.Exchange(context.Background(), flow, params)
			if err != nil {
				t.Fatal(err)
			}
			if len(tok.AuthorizationDetails) != 2 {
				t.Fatalf("granted %d details", len(tok.AuthorizationDetails))
			}
			if got := string(tok.AuthorizationDetails[0]); got != payment {
				t.Errorf("granted\n%s\nwant\n%s", got, payment)
			}
			if got := string(tok.AuthorizationDetails[1]); got != accounts {
				t.Errorf("granted %s, want %s", got, accounts)
			}
			if tok.AuthorizationDetails[0].Type() != "payment_initiation" {
				t.Errorf("Type() = %q", tok.AuthorizationDetails[0].Type())
			}
			var p struct {
				Sequence json.Number `json:"sequence"`
			}
			if err := json.Unmarshal(tok.AuthorizationDetails[0], &p); err != nil || p.Sequence != "12345678901234567890" {
				t.Errorf("sequence %q, %v", p.Sequence, err)
			}
			// A JSON round trip of Tokens keeps them too.
			b, err := json.Marshal(tok.AuthorizationDetails)
			if err != nil || string(b) != "["+payment+","+accounts+"]" {
				t.Errorf("marshalled %s, %v", b, err)
			}
			re, err := c.Refresh(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if len(re.AuthorizationDetails) != 2 || string(re.AuthorizationDetails[0]) != payment {
				t.Errorf("after refresh: %v", re.AuthorizationDetails)
			}
		})
	}
}

// TestAuthorizationDetailsRefused: malformed details are refused before
// the push, with ErrInvalidAuthorizationDetails.
func TestAuthorizationDetailsRefused(t *testing.T) {
	t.Parallel()
	srv := rarServer(t)
	c, err := client.New(context.Background(), client.Config{Issuer: srv.Issuer(), ClientID: "app",
		Auth: client.ClientSecretBasic(secret), RedirectURL: cb, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	d := func(s ...string) client.Option {
		ds := make([]client.AuthorizationDetail, len(s))
		for i := range s {
			ds[i] = client.AuthorizationDetail(s[i])
		}
		return client.WithAuthorizationDetails(ds...)
	}
	tests := []struct {
		name string
		opts []client.Option
	}{
		{"none", []client.Option{d()}},
		{"not JSON", []client.Option{d(`{"type":`)}},
		{"an empty detail", []client.Option{d("")}},
		{"an array, not an object", []client.Option{d(`["payment_initiation"]`)}},
		{"no type", []client.Option{d(`{"actions":["read"]}`)}},
		{"empty type", []client.Option{d(`{"type":""}`)}},
		{"type a number", []client.Option{d(`{"type":7}`)}},
		{"actions not strings", []client.Option{d(`{"type":"payment_initiation","actions":[1]}`)}},
		{"locations not an array", []client.Option{d(`{"type":"payment_initiation","locations":"https://x"}`)}},
		{"identifier not a string", []client.Option{d(`{"type":"payment_initiation","identifier":{}}`)}},
		{"a type the provider does not list", []client.Option{d(`{"type":"credit_card"}`)}},
		{"WithParam: an object, not an array", []client.Option{client.WithParam("authorization_details", payment)}},
		{"WithParam: null", []client.Option{client.WithParam("authorization_details", "null")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Requests(partest.EndpointPAR)
			_, err := c.Push(context.Background(), tt.opts...)
			if !errors.Is(err, client.ErrInvalidAuthorizationDetails) {
				t.Fatalf("Push: %v, want ErrInvalidAuthorizationDetails", err)
			}
			if n := srv.Requests(partest.EndpointPAR) - before; n != 0 {
				t.Errorf("%d pushes after refused details", n)
			}
		})
	}
	// WithParam with a well-formed array is checked the same way, and goes.
	if _, err := c.Push(context.Background(), client.WithParam("authorization_details", "[ "+payment+" ]")); err != nil {
		t.Fatal(err)
	}
}

// TestGrantedDetailsMalformed: a token response whose authorization_details
// are not objects with a type is refused.
func TestGrantedDetailsMalformed(t *testing.T) {
	t.Parallel()
	srv := rarServer(t)
	srv.SetFault(partest.EndpointToken, partest.Fault{Response: func(b map[string]any) {
		b["authorization_details"] = []any{"payment_initiation"}
	}})
	c, flow, params := login(t, srv, client.Config{ClientID: "app", Auth: client.ClientSecretBasic(secret)},
		client.WithAuthorizationDetails(client.AuthorizationDetail(payment)))
	if _, err := c.Exchange(context.Background(), flow, params); !errors.Is(err, client.ErrInvalidResponse) {
		t.Fatalf("Exchange: %v, want ErrInvalidResponse", err)
	}
}

// TestAuthorizationDetailJSON: a detail is its own JSON text.
func TestAuthorizationDetailJSON(t *testing.T) {
	t.Parallel()
	var got struct {
		D []client.AuthorizationDetail `json:"d"`
	}
	in := `{"d":[` + payment + `,{"type":"x","n":1e400}]}`
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(got)
	if err != nil || string(out) != in {
		t.Fatalf("round trip %s, %v", out, err)
	}
	if got.D[1].Type() != "x" || client.AuthorizationDetail(`{}`).Type() != "" || client.AuthorizationDetail(`x`).Type() != "" {
		t.Error("Type()")
	}
	if b, _ := json.Marshal(client.AuthorizationDetail(nil)); string(b) != "null" {
		t.Errorf("empty detail marshals to %s", b)
	}
}
