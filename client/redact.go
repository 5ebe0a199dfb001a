package client

import (
	"fmt"
	"log/slog"
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
// method, RequestObject and DPoP by their own redacting String methods.
func (c Config) String() string {
	return fmt.Sprintf("client.Config{Issuer: %q, ClientID: %q, Auth: %v, RedirectURL: %q, Scopes: %q, ResponseMode: %q, "+
		"Profile: %v, RequestObject: %v, DPoP: %v, DPoPJKTOnly: %t, RequireIssuerParameter: %t}",
		c.Issuer, c.ClientID, authName(c.Auth), c.RedirectURL, c.Scopes, c.ResponseMode,
		c.Profile, c.RequestObject, c.DPoP, c.DPoPJKTOnly, c.RequireIssuerParameter)
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
