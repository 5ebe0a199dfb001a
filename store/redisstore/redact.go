package redisstore

import (
	"fmt"
	"log/slog"
)

// keyNote says whether a key is set, never what it is.
func keyNote(key []byte) string {
	if key == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%d bytes (redacted)", len(key))
}

// String describes the options without the Key: formatting Options (fmt,
// log/slog) never shows it.
func (o Options) String() string {
	return fmt.Sprintf("redisstore.Options{Prefix: %q, Timeout: %s, Key: %s, InsecureClearText: %t}",
		o.Prefix, o.Timeout, keyNote(o.Key), o.InsecureClearText)
}

// GoString (the %#v verb) is String.
func (o Options) GoString() string { return o.String() }

// LogValue logs the options without the Key.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(slog.String("prefix", o.Prefix), slog.Duration("timeout", o.Timeout),
		slog.String("key", keyNote(o.Key)), slog.Bool("insecure_clear_text", o.InsecureClearText))
}

// String describes the store without its key (and without the Redis
// client's options, which may hold a password).
func (s *Store) String() string {
	if s == nil {
		return "redisstore.Store(<nil>)"
	}
	return fmt.Sprintf("redisstore.Store(prefix=%s timeout=%s encrypted=%t, key redacted)", s.prefix, s.timeout, s.sealer != nil)
}

// GoString (the %#v verb) is String.
func (s *Store) GoString() string { return s.String() }

// LogValue logs the store without its key.
func (s *Store) LogValue() slog.Value { return slog.StringValue(s.String()) }
