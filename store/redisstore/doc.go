// Package redisstore keeps go-par login flows in Redis, so that an app on
// many replicas can push on one and take the callback on another, and,
// with [Sessions], the sessions of package session (see its "Running
// several replicas").
//
// A [Store] implements the login package's Store contract: Save stores a
// [client.Flow] under its state until the request_uri expires (SET … PX),
// and Take removes and returns it atomically (GETDEL, or a Lua GET+DEL
// script on servers older than Redis 6.2), so every flow is used once
// (one-time state, RFC 9700 §4.7.1). Keys are the prefix
// plus base64url(SHA-256(state)), never the state itself.
//
// The flow holds the PKCE verifier (RFC 7636 §4.1), a secret, so
// [Options.Key] (32 random bytes, the same on every replica) is required:
// values are sealed with AES-256-GCM before they reach Redis. Clear JSON
// needs an explicit [Options.InsecureClearText].
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	st, err := redisstore.New(rdb, redisstore.Options{Key: key})
//	// login.Config{Store: st, …}
//
// When Redis is down or too slow, Save and Take fail within
// [Options.Timeout] with an error that matches [ErrUnavailable].
package redisstore
