package mitid

import (
	"fmt"
	"log/slog"

	"github.com/go-par/par/client"
	"github.com/go-par/par/internal/redact"
)

// sentValues are values of a flow that a broker's error response must not
// echo into a *client.ResponseError (whose Error() prints the description)
// or a log line: the auth_req_id, the init-auth state. The client's own
// credentials are already redacted by client.PostForm; requests sent
// through CIBAConfig.HTTPClient carry none.
func sentValues(values ...string) *redact.Values {
	v := &redact.Values{}
	v.Add(values...)
	return v
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

// String describes the configuration by its endpoints; the BackChannel (a
// *client.Client holding the client's credentials) prints as its own
// redacting String or, for other implementations, by type only.
func (c CIBAConfig) String() string {
	return fmt.Sprintf("mitid.CIBAConfig{BackChannel: %s, InitAuthEndpoint: %q, CancelEndpoint: %q, InitAuthJSON: %t}",
		backChannelName(c.BackChannel), c.InitAuthEndpoint, c.CancelEndpoint, c.InitAuthJSON)
}

// GoString (the %#v verb) is String.
func (c CIBAConfig) GoString() string { return c.String() }

// LogValue logs the configuration without credentials.
func (c CIBAConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// backChannelName shows a *client.Client by its redacting String, any
// other BackChannel by type.
func backChannelName(bc BackChannel) string {
	switch c := bc.(type) {
	case nil:
		return "<nil>"
	case *client.Client:
		return c.String()
	}
	return fmt.Sprintf("%T", bc)
}

// String describes the CIBA client by its endpoints, without credentials.
func (c *CIBA) String() string {
	if c == nil {
		return "mitid.CIBA(<nil>)"
	}
	return fmt.Sprintf("mitid.CIBA(back channel=%s ciba=%s token=%s)", backChannelName(c.bc), c.cibaURL, c.tokenURL)
}

// GoString (the %#v verb) is String.
func (c *CIBA) GoString() string { return c.String() }

// LogValue logs the CIBA client without credentials.
func (c *CIBA) LogValue() slog.Value { return slog.StringValue(c.String()) }
