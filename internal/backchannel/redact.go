package backchannel

import (
	"fmt"
	"log/slog"
)

// String describes the channel without its credentials: the client
// authentication and the DPoP key print by type only. Channel, Request and
// Response have value receivers, so values are covered too.
func (c Channel) String() string {
	return fmt.Sprintf("backchannel.Channel(auth=%s dpop=%t)", typeName(c.Auth), c.DPoP != nil)
}

// GoString (the %#v verb) is String.
func (c Channel) GoString() string { return c.String() }

// LogValue logs the channel without its credentials.
func (c Channel) LogValue() slog.Value { return slog.StringValue(c.String()) }

// String describes the request without its form values or access token.
func (r Request) String() string {
	return fmt.Sprintf("backchannel.Request(%s %s, %d form members, token=%t, dpop=%t)",
		r.Name, r.URL, len(r.Form), r.Token != "", r.DPoP)
}

// GoString (the %#v verb) is String.
func (r Request) GoString() string { return r.String() }

// LogValue logs the request without its form values or access token.
func (r Request) LogValue() slog.Value { return slog.StringValue(r.String()) }

// String describes the response by its status and size: its body may be a
// token response, and it keeps the requests sent.
func (r Response) String() string {
	return fmt.Sprintf("backchannel.Response(HTTP %d, %d bytes, values redacted)", r.StatusCode, len(r.Body))
}

// GoString (the %#v verb) is String.
func (r Response) GoString() string { return r.String() }

// LogValue logs the response without its body or the requests sent.
func (r Response) LogValue() slog.Value { return slog.StringValue(r.String()) }

func typeName(v any) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprintf("%T", v)
}
