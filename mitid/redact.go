package mitid

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/go-par/par/client"
	"github.com/go-par/par/internal/redact"
)

// sentValues are values of a flow that a broker's error response must not
// echo into a *client.ResponseError (whose Error() prints the description)
// or a log line: the auth_req_id, the init-auth state. The client's own
// credentials and the secret members of its forms are already redacted by
// client.Post and client.Grant; requests sent through CIBAConfig.HTTPClient
// carry none.
func sentValues(values ...string) *redact.Values {
	v := &redact.Values{}
	v.Add(values...)
	return v
}

// redactResponseError redacts values from the *client.ResponseError in err
// (one client.Post just made, which cannot know the broker's own members
// such as init-auth's requestId) and returns err.
func redactResponseError(err error, values ...string) error {
	var re *client.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	v := sentValues(values...)
	re.Code, re.Description, re.URI = v.Redact(re.Code), v.Redact(re.Description), v.Redact(re.URI)
	re.Header, re.Body = v.Header(re.Header), v.Bytes(re.Body)
	return err
}

// redacted replaces a non-empty secret in String output.
func redacted(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// String describes the parameters without State, which guards the
// broker's redirect like a CSRF token.
func (p InitAuthParams) String() string {
	return fmt.Sprintf("mitid.InitAuthParams{RedirectURI: %q, State: %s}", p.RedirectURI, redacted(p.State))
}

// GoString (the %#v verb) is String.
func (p InitAuthParams) GoString() string { return p.String() }

// LogValue logs the parameters without State.
func (p InitAuthParams) LogValue() slog.Value { return slog.StringValue(p.String()) }

// String shows the parameters without TransferTokenExchangeCode (a
// one-time code that redeems a controlled transfer) and CPRHint (which the
// broker requires to travel encrypted).
func (p Params) String() string {
	type plain Params // no methods: formats field by field
	q := plain(p)
	q.TransferTokenExchangeCode, q.CPRHint = redacted(q.TransferTokenExchangeCode), redacted(q.CPRHint)
	return fmt.Sprintf("mitid.Params%+v", q)
}

// GoString (the %#v verb) is String.
func (p Params) GoString() string { return p.String() }

// LogValue logs the parameters without their secrets.
func (p Params) LogValue() slog.Value { return slog.StringValue(p.String()) }

// String describes the configuration by its endpoints; the Client (a
// *client.Client holding the client's credentials) prints as its own
// redacting String.
func (c CIBAConfig) String() string {
	return fmt.Sprintf("mitid.CIBAConfig{Client: %s, InitAuthEndpoint: %q, CancelEndpoint: %q, InitAuthJSON: %t}",
		c.Client.String(), c.InitAuthEndpoint, c.CancelEndpoint, c.InitAuthJSON)
}

// GoString (the %#v verb) is String.
func (c CIBAConfig) GoString() string { return c.String() }

// LogValue logs the configuration without credentials.
func (c CIBAConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String describes the CIBA client by its endpoints, without credentials.
func (c *CIBA) String() string {
	if c == nil {
		return "mitid.CIBA(<nil>)"
	}
	return fmt.Sprintf("mitid.CIBA(client=%s ciba=%s token=%s)", c.client.String(), c.cibaURL, c.tokenURL)
}

// GoString (the %#v verb) is String.
func (c *CIBA) GoString() string { return c.String() }

// LogValue logs the CIBA client without credentials.
func (c *CIBA) LogValue() slog.Value { return slog.StringValue(c.String()) }
