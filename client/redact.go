package client

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/go-par/par/internal/backchannel"
	"github.com/go-par/par/internal/redact"
)

// String describes the client without its secrets: formatting a Client
// (fmt, log/slog) never shows the client secret, keys or tokens.
func (c *Client) String() string {
	if c == nil {
		return "client(<nil>)"
	}
	return "client(issuer=" + c.issuer + " client_id=" + c.clientID + " auth=" + c.auth.method + ")"
}

// GoString (the %#v verb) is String.
func (c *Client) GoString() string { return c.String() }

// LogValue logs the issuer, client_id and authentication method only.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("client(<nil>)")
	}
	return slog.GroupValue(slog.String("issuer", c.issuer), slog.String("client_id", c.clientID),
		slog.String("auth", c.auth.method))
}

// String describes the configuration without secrets: Auth prints as its
// method, RequestObject and DPoP by their own redacting String methods,
// ResponseDecryptionKey only as set or not.
func (c Config) String() string {
	dec := "<nil>"
	if c.ResponseDecryptionKey != nil {
		dec = "(redacted)"
	}
	return fmt.Sprintf("client.Config{Issuer: %q, ClientID: %q, Auth: %v, RedirectURL: %q, Scopes: %q, ResponseMode: %q, "+
		"Profile: %v, MessageSigning: %v, RequestObject: %v, DPoP: %v, DPoPJKTOnly: %t, RequireIssuerParameter: %t, ResponseDecryptionKey: %s}",
		c.Issuer, c.ClientID, authName(c.Auth), c.RedirectURL, c.Scopes, c.ResponseMode,
		c.Profile, c.MessageSigning, c.RequestObject, c.DPoP, c.DPoPJKTOnly, c.RequireIssuerParameter, dec)
}

// GoString (the %#v verb) is String.
func (c Config) GoString() string { return c.String() }

// LogValue logs the configuration without secrets.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("issuer", c.Issuer), slog.String("client_id", c.ClientID),
		slog.String("auth", authName(c.Auth)), slog.String("redirect_uri", c.RedirectURL),
		slog.String("profile", c.Profile.String())}
	if c.RequestObject != nil {
		attrs = append(attrs, slog.Any("request_object", *c.RequestObject))
	}
	if c.DPoP != nil {
		attrs = append(attrs, slog.Any("dpop", c.DPoP))
	}
	return slog.GroupValue(attrs...)
}

// authName is an AuthMethod's method name, or "<nil>"; it never calls a
// user type's String, which might show a secret.
func authName(a AuthMethod) string {
	if a == nil {
		return "<nil>"
	}
	if j, ok := a.(*JWTAuth); ok && j == nil {
		return "<nil>"
	}
	return a.Method() + "(redacted)"
}

// sentValues returns the values a provider's error response must not
// echo: the client's own secrets, the secrets of the requests behind r
// (when r is not nil), and extra (a flow's state, nonce and verifier, a
// code, a token).
func (c *Client) sentValues(r *backchannel.Response, extra ...string) *redact.Values {
	v := &redact.Values{}
	v.Add(c.secrets...)
	v.Add(extra...)
	if r != nil {
		r.Sent(v)
	}
	return v
}

// clientSecrets are the secrets a client holds for its whole life: the
// client secret of client_secret_basic/post/jwt and the HS256 request
// object key.
func clientSecrets(cfg Config) []string {
	var s []string
	switch a := cfg.Auth.(type) {
	case *secretAuth:
		s = append(s, a.secret)
	case *JWTAuth:
		if a != nil {
			s = append(s, a.secret)
		}
	}
	if cfg.RequestObject != nil && len(cfg.RequestObject.Secret) > 0 {
		s = append(s, string(cfg.RequestObject.Secret))
	}
	return s
}

// redactAuthorizationError removes from the provider's error members any
// value this client sent for the flow (state, nonce, verifier, code,
// secret): a provider that echoes them must not get them into an error
// string or a log line.
func (c *Client) redactAuthorizationError(ae *AuthorizationError, flow *Flow, params url.Values) {
	v := c.sentValues(nil, flow.State, flow.Nonce, flow.CodeVerifier, params.Get("code"))
	ae.Code, ae.Description, ae.URI = v.Redact(ae.Code), v.Redact(ae.Description), v.Redact(ae.URI)
}

// redactText returns err, or, when its text shows one of the client's own
// secrets, an error with that text redacted. go-oidc quotes a JWT's iss
// and aud in its errors: a provider that signs a token or a UserInfo
// response for an "issuer" that echoes the client secret must not get it
// into an error string. The replacement keeps no chain (err's text is
// what it hides); the caller's sentinel still wraps it.
func (c *Client) redactText(err error) error {
	if len(c.secrets) == 0 {
		return err
	}
	msg := err.Error()
	if red := c.sentValues(nil).Redact(msg); red != msg {
		return errors.New(red)
	}
	return err
}
