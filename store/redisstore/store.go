package redisstore

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
)

// Defaults for [Options].
const (
	DefaultPrefix  = "gopar:flow:"
	DefaultTimeout = 2 * time.Second
	// KeySize is the length of [Options.Key]: an AES-256 key.
	KeySize = 32
)

// Options configures a [Store]. Key is required, unless InsecureClearText
// says that clear values are wanted.
type Options struct {
	// Prefix starts every Redis key. Default [DefaultPrefix]. Stores that
	// share a Redis database must share the prefix and the Key.
	Prefix string
	// Timeout bounds each Redis call made by Save and Take (a
	// context.WithTimeout under the caller's context). Default
	// [DefaultTimeout]. go-redis applies context deadlines to network reads
	// and writes only when the client has ContextTimeoutEnabled set;
	// otherwise its own ReadTimeout and WriteTimeout (3 s by default) apply.
	Timeout time.Duration
	// Key is a KeySize-byte secret (crypto/rand), the same on every replica,
	// that seals each flow with AES-256-GCM before it is written, bound to
	// its key in Redis. Required: a flow holds the PKCE code verifier and
	// the nonce, which are secrets (RFC 7636 §4.1). A store with a Key
	// refuses clear values. New copies the key.
	Key []byte
	// InsecureClearText stores flows as CLEAR JSON, without Key: anyone who
	// can read the Redis database, a replica, its dumps or a MONITOR stream
	// can read the verifiers and nonces of the logins in flight. It MUST NOT
	// be set unless that Redis is as private as the app's own memory. A
	// clear-text store refuses sealed values. It cannot be combined with
	// Key.
	InsecureClearText bool
	// Now is the clock used to turn the expiry into a TTL. Default time.Now.
	Now func() time.Time
}

// Store is a login flow store on Redis, for apps on many replicas: a flow
// saved by one replica can be taken by any other. It implements the login
// package's Store; it is immutable after [New] and safe for concurrent use.
// It does not own the Redis client: close that yourself.
type Store struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
	sealer  *sealer // nil: clear JSON
	now     func() time.Time
	// noGetDel is set once the server rejects GETDEL (Redis < 6.2); Take
	// then uses takeScript.
	noGetDel atomic.Bool
}

var _ login.Store = (*Store)(nil)

// New returns a Store on rdb (a *redis.Client, *redis.ClusterClient,
// *redis.Ring or failover client). It does no I/O. Options.Key is
// required unless Options.InsecureClearText is set; the error names the
// field.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil redis client")
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("redisstore: Options.Timeout is negative (%s)", opts.Timeout)
	}
	s := &Store{rdb: rdb, prefix: opts.Prefix, timeout: opts.Timeout, now: opts.Now}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case opts.Key == nil && !opts.InsecureClearText:
		return nil, fmt.Errorf("redisstore: Options.Key is required: %d random bytes, the same on every replica "+
			"(or set Options.InsecureClearText to store the flows' PKCE verifiers and nonces as clear JSON)", KeySize)
	case opts.Key != nil && opts.InsecureClearText:
		return nil, errors.New("redisstore: Options.Key and Options.InsecureClearText are both set: choose one")
	case opts.Key != nil:
		sl, err := newSealer(opts.Key)
		if err != nil {
			return nil, err
		}
		s.sealer = sl
	}
	return s, nil
}

// Encrypted reports whether flows are sealed with AES-256-GCM.
func (s *Store) Encrypted() bool { return s.sealer != nil }

// Save stores flow under its state until expires, as SET key value PX ttl.
// The request and response writer are not used. An expiry that is not in
// the future is an error; so is a flow without a state. When Redis cannot be
// reached within [Options.Timeout] the error matches [ErrUnavailable].
func (s *Store) Save(ctx context.Context, _ http.ResponseWriter, _ *http.Request, flow *client.Flow, expires time.Time) error {
	if flow == nil || flow.State == "" {
		return errors.New("redisstore: save: flow has no state")
	}
	ttl := expires.Sub(s.now())
	if ttl <= 0 {
		return fmt.Errorf("redisstore: save: expiry %s is not in the future", expires.UTC().Format(time.RFC3339))
	}
	// Redis TTLs are whole milliseconds; round up so a short TTL is not 0.
	ttl = (ttl + time.Millisecond - 1).Truncate(time.Millisecond)

	id := keyID(flow.State)
	plain, err := json.Marshal(flow)
	if err != nil {
		return fmt.Errorf("redisstore: save: encode flow: %w", err)
	}
	value := plain
	if s.sealer != nil {
		value = s.sealer.seal(plain, id)
		clear(plain)
	}

	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.Set(cctx, s.prefix+id, value, ttl).Err(); err != nil {
		return s.callError(ctx, "save", err)
	}
	return nil
}

// Take removes the flow stored under state and returns it, atomically:
// of many concurrent Takes of one state (a replayed callback) exactly one
// gets the flow and the others get login.ErrFlowNotFound, as do Takes of a
// state that was never saved or has expired. It uses GETDEL (Redis ≥ 6.2)
// and falls back to a Lua GET+DEL script when the server does not know it.
// When Redis cannot be reached within [Options.Timeout] the error matches
// [ErrUnavailable]. A stored value that does not open or parse is an
// [*Error]; it has been removed all the same.
func (s *Store) Take(ctx context.Context, _ http.ResponseWriter, _ *http.Request, state string) (*client.Flow, error) {
	if state == "" {
		return nil, login.ErrFlowNotFound
	}
	id := keyID(state)
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	value, err := s.getDel(cctx, s.prefix+id)
	switch {
	case errors.Is(err, redis.Nil):
		return nil, login.ErrFlowNotFound
	case err != nil:
		return nil, s.callError(ctx, "take", err)
	}
	flow, err := s.decode(value, id)
	if err != nil {
		return nil, &Error{Op: "take", Err: err}
	}
	if subtle.ConstantTimeCompare([]byte(flow.State), []byte(state)) != 1 {
		return nil, &Error{Op: "take", Err: errors.New("stored flow belongs to another state")}
	}
	return flow, nil
}

// takeScript is GETDEL for servers older than Redis 6.2: a script runs
// atomically, so two concurrent runs cannot both see the value.
var takeScript = redis.NewScript(`local v = redis.call('GET', KEYS[1])
if v then redis.call('DEL', KEYS[1]) end
return v`)

func (s *Store) getDel(ctx context.Context, key string) ([]byte, error) {
	if !s.noGetDel.Load() {
		v, err := s.rdb.GetDel(ctx, key).Bytes()
		if err == nil || !redis.HasErrorPrefix(err, "unknown command") {
			return v, err
		}
		s.noGetDel.Store(true)
	}
	v, err := takeScript.Run(ctx, s.rdb, []string{key}).Text()
	if err != nil {
		return nil, err
	}
	return []byte(v), nil
}

// decode opens and parses a stored value: the parser for whatever is in
// Redis, which may have been written by anyone with access to it.
func (s *Store) decode(value []byte, id string) (*client.Flow, error) {
	plain := value
	if s.sealer != nil {
		var err error
		if plain, err = s.sealer.open(value, id); err != nil {
			return nil, err
		}
		defer clear(plain)
	} else if isSealed(value) {
		return nil, errors.New("stored flow is encrypted but this store is InsecureClearText (no Options.Key)")
	}
	var flow client.Flow
	if err := json.Unmarshal(plain, &flow); err != nil {
		// The JSON error can quote the value; keep only its kind.
		return nil, errors.New("stored flow is not valid JSON")
	}
	if flow.State == "" {
		return nil, errors.New("stored flow has no state")
	}
	return &flow, nil
}

// keyID is base64url(SHA-256(state)): the state, which is a CSRF token,
// never appears in Redis keys, SCAN output or MONITOR traces in clear.
func keyID(state string) string {
	sum := sha256.Sum256([]byte(state))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
