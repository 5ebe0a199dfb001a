package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-par/par/session"
)

// DefaultSessionPrefix starts every key of a [Sessions] store. Its hash
// tag keeps all of them in one Redis Cluster slot, as the scripts that
// update a session and its sid and sub indexes together need.
const DefaultSessionPrefix = "{gopar:session}:"

// SessionOptions configures a [Sessions] store.
type SessionOptions struct {
	// Prefix starts every key. Default [DefaultSessionPrefix]. In a Redis
	// Cluster it must hold a hash tag ({…}); replicas of one app share it.
	Prefix string
	// Timeout bounds each Redis call (context.WithTimeout under the
	// caller's context). Default [DefaultTimeout].
	Timeout time.Duration
}

// Sessions is a [session.Store] on Redis, for apps on many replicas: a
// session made on one is served, refreshed and ended on any other. It is
// immutable after [NewSessions] and safe for concurrent use. It does not
// own the Redis client: close that yourself.
//
// Redis sees only what the session Manager gives it: each session sealed
// with AES-256-GCM by the core module's sealer (package internal/seal,
// through package session, with session.Config.Keys) and bound to its key,
// and keys that are SHA-256 digests (of the cookie ID, of the issuer with
// the sid or sub, of the issuer with a logout token's jti).
//
// Layout: a session is a hash (v: version, d: sealed value, i: its
// indexes) with the session's expiry; an index is a set of session keys;
// a refresh lock is SET NX PX with a random token, released by a script
// that checks the token; a single-use mark is SET NX PX. Put (a
// compare-and-set on v), Touch, Delete and DeleteIndexed are Lua scripts,
// atomic on the server. It needs Redis 7.0 or later (PEXPIREAT … GT).
type Sessions struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
}

var _ session.Store = (*Sessions)(nil)

// NewSessions returns a Sessions store on rdb. It does no I/O.
func NewSessions(rdb redis.UniversalClient, opts SessionOptions) (*Sessions, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil redis client")
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("redisstore: SessionOptions.Timeout is negative (%s)", opts.Timeout)
	}
	s := &Sessions{rdb: rdb, prefix: opts.Prefix, timeout: opts.Timeout}
	if s.prefix == "" {
		s.prefix = DefaultSessionPrefix
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	return s, nil
}

// String describes the store without secrets.
func (s *Sessions) String() string { return "redisstore.Sessions(prefix=" + s.prefix + ")" }

func (s *Sessions) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// err classifies a failed call, as the flow store does.
func (s *Sessions) err(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &Error{Op: op, Err: ctxErr}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no reply within %s: %w", s.timeout, err)
	}
	return &Error{Op: op, Err: err, unavailable: isUnavailable(err)}
}

// Get implements [session.Store].
func (s *Sessions) Get(ctx context.Context, key string) (*session.Entry, error) {
	cctx, cancel := s.call(ctx)
	defer cancel()
	k := s.prefix + key
	pipe := s.rdb.Pipeline()
	hm := pipe.HMGet(cctx, k, "v", "d", "i")
	pt := pipe.PExpireTime(cctx, k)
	if _, err := pipe.Exec(cctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, s.err(ctx, "session get", err)
	}
	vals := hm.Val()
	if len(vals) != 3 || vals[0] == nil || vals[1] == nil {
		return nil, session.ErrNotFound
	}
	vs, _ := vals[0].(string)
	version, err := strconv.ParseUint(vs, 10, 64)
	if err != nil {
		return nil, &Error{Op: "session get", Err: errors.New("stored session has no valid version")}
	}
	d, _ := vals[1].(string)
	e := &session.Entry{Value: []byte(d), Version: version}
	if ix, _ := vals[2].(string); ix != "" {
		e.Indexes = strings.Split(ix, "\n")
	}
	if exp := pt.Val(); exp > 0 {
		e.Expires = time.UnixMilli(int64(exp / time.Millisecond))
	}
	return e, nil
}

// putScript is the compare-and-set of Put: KEYS[1] the session; ARGV the
// expected version, the value, the expiry (Unix ms), the index prefix and
// the indexes.
var putScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'v')
local want = tonumber(ARGV[1])
if (not cur and want ~= 0) or (cur and tonumber(cur) ~= want) then return 0 end
local old = redis.call('HGET', KEYS[1], 'i')
if old then
  for ix in string.gmatch(old, '[^\n]+') do redis.call('SREM', ARGV[4] .. ix, KEYS[1]) end
end
redis.call('DEL', KEYS[1])
local ixs = {}
for i = 5, #ARGV do ixs[#ixs + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], 'v', want + 1, 'd', ARGV[2], 'i', table.concat(ixs, '\n'))
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
for _, ix in ipairs(ixs) do
  local k = ARGV[4] .. ix
  redis.call('SADD', k, KEYS[1])
  if redis.call('PTTL', k) < 0 then redis.call('PEXPIREAT', k, ARGV[3]) else redis.call('PEXPIREAT', k, ARGV[3], 'GT') end
end
return 1`)

// Put implements [session.Store].
func (s *Sessions) Put(ctx context.Context, key string, e *session.Entry) error {
	if !e.Expires.After(time.Now()) {
		return &Error{Op: "session put", Err: errors.New("expiry is not in the future")}
	}
	args := []any{e.Version, e.Value, e.Expires.UnixMilli(), s.prefix + "i:"}
	for _, ix := range e.Indexes {
		if ix == "" || strings.Contains(ix, "\n") {
			return &Error{Op: "session put", Err: errors.New("malformed index key")}
		}
		args = append(args, ix)
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	n, err := putScript.Run(cctx, s.rdb, []string{s.prefix + key}, args...).Int()
	if err != nil {
		return s.err(ctx, "session put", err)
	}
	if n == 0 {
		return session.ErrConflict
	}
	return nil
}

// touchScript moves a session's expiry and extends its indexes'.
var touchScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
local ixs = redis.call('HGET', KEYS[1], 'i')
if ixs then
  for ix in string.gmatch(ixs, '[^\n]+') do redis.call('PEXPIREAT', ARGV[2] .. ix, ARGV[1], 'GT') end
end
return 1`)

// Touch implements [session.Store].
func (s *Sessions) Touch(ctx context.Context, key string, expires time.Time) error {
	cctx, cancel := s.call(ctx)
	defer cancel()
	n, err := touchScript.Run(cctx, s.rdb, []string{s.prefix + key}, expires.UnixMilli(), s.prefix+"i:").Int()
	if err != nil {
		return s.err(ctx, "session touch", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// deleteScript removes a session and its index entries.
var deleteScript = redis.NewScript(`
local ixs = redis.call('HGET', KEYS[1], 'i')
if ixs then
  for ix in string.gmatch(ixs, '[^\n]+') do redis.call('SREM', ARGV[1] .. ix, KEYS[1]) end
end
return redis.call('DEL', KEYS[1])`)

// Delete implements [session.Store].
func (s *Sessions) Delete(ctx context.Context, key string) error {
	cctx, cancel := s.call(ctx)
	defer cancel()
	if err := deleteScript.Run(cctx, s.rdb, []string{s.prefix + key}, s.prefix+"i:").Err(); err != nil && !errors.Is(err, redis.Nil) {
		return s.err(ctx, "session delete", err)
	}
	return nil
}

// deleteIndexedScript removes every session of an index, each with its
// other index entries, and the index; it returns how many existed.
var deleteIndexedScript = redis.NewScript(`
local n = 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local ixs = redis.call('HGET', key, 'i')
  if ixs then
    for ix in string.gmatch(ixs, '[^\n]+') do redis.call('SREM', ARGV[1] .. ix, key) end
  end
  n = n + redis.call('DEL', key)
end
redis.call('DEL', KEYS[1])
return n`)

// DeleteIndexed implements [session.Store].
func (s *Sessions) DeleteIndexed(ctx context.Context, index string) (int, error) {
	cctx, cancel := s.call(ctx)
	defer cancel()
	n, err := deleteIndexedScript.Run(cctx, s.rdb, []string{s.prefix + "i:" + index}, s.prefix+"i:").Int()
	if err != nil {
		return 0, s.err(ctx, "session delete indexed", err)
	}
	return n, nil
}

// Lock implements [session.Store]: SET NX PX with a random token.
func (s *Sessions) Lock(ctx context.Context, key string, ttl time.Duration) (string, bool, error) {
	token := rand.Text()
	cctx, cancel := s.call(ctx)
	defer cancel()
	ok, err := s.rdb.SetNX(cctx, s.prefix+key, token, ttl).Result()
	if err != nil {
		return "", false, s.err(ctx, "session lock", err)
	}
	return token, ok, nil
}

var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// Unlock implements [session.Store].
func (s *Sessions) Unlock(ctx context.Context, key, token string) error {
	cctx, cancel := s.call(ctx)
	defer cancel()
	if err := unlockScript.Run(cctx, s.rdb, []string{s.prefix + key}, token).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return s.err(ctx, "session unlock", err)
	}
	return nil
}

// Once implements [session.Store]: SET NX with the expiry.
func (s *Sessions) Once(ctx context.Context, key string, expires time.Time) (bool, error) {
	ttl := time.Until(expires)
	if ttl < time.Millisecond {
		ttl = time.Millisecond
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	ok, err := s.rdb.SetNX(cctx, s.prefix+key, "1", ttl).Result()
	if err != nil {
		return false, s.err(ctx, "session once", err)
	}
	return ok, nil
}
