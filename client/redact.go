package client

import "log/slog"

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
