package redisstore_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
	"github.com/go-par/par/store/redisstore"
)

// newFlow is a flow as client.Push makes it, with fresh secrets.
func newFlow() *client.Flow {
	b := make([]byte, 32)
	rand.Read(b)
	return &client.Flow{
		State:        rand.Text(),
		Nonce:        rand.Text(),
		CodeVerifier: base64.RawURLEncoding.EncodeToString(b),
		RequestURI:   "urn:ietf:params:oauth:request_uri:" + hex.EncodeToString(b),
		ExpiresAt:    time.Now().Add(10 * time.Minute).Round(0),
		RedirectURL:  "https://app.example/callback",
		Issuer:       "https://pp.netseidbroker.dk/op",
		DPoPJKT:      "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
	}
}

func newKey() []byte {
	k := make([]byte, redisstore.KeySize)
	rand.Read(k)
	return k
}

// testPrefix keeps the tests on the shared server apart, also across
// -count runs.
func testPrefix(t *testing.T) string { return "test:" + t.Name() + ":" + rand.Text()[:8] + ":" }

// wantKey is the documented key: prefix + base64url(SHA-256(state)).
func wantKey(prefix, state string) string {
	sum := sha256.Sum256([]byte(state))
	return prefix + base64.RawURLEncoding.EncodeToString(sum[:])
}

// newStore is New with a Timeout of a minute unless opts sets one: the
// tests that are not about timeouts must pass on a loaded machine.
func newStore(t *testing.T, rdb redis.UniversalClient, opts redisstore.Options) *redisstore.Store {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = time.Minute
	}
	st, err := redisstore.New(rdb, opts)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return st
}

func checkFlow(t *testing.T, got, want *client.Flow) {
	t.Helper()
	if got == nil {
		t.Fatal("Take() = nil flow")
	}
	g, w := *got, *want
	if !g.ExpiresAt.Equal(w.ExpiresAt) {
		t.Errorf("Take().ExpiresAt = %v, want %v", g.ExpiresAt, w.ExpiresAt)
	}
	g.ExpiresAt, w.ExpiresAt = time.Time{}, time.Time{}
	if g != w {
		t.Errorf("Take() = %+v, want %+v", g, w)
	}
}

// checkNoSecrets fails when an error message carries a flow's secrets.
func checkNoSecrets(t *testing.T, err error, flow *client.Flow) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for name, secret := range map[string]string{"state": flow.State, "nonce": flow.Nonce, "verifier": flow.CodeVerifier} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q contains the %s", msg, name)
		}
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // New does no I/O
	t.Cleanup(func() { rdb.Close() })
	tests := []struct {
		name      string
		rdb       redis.UniversalClient
		opts      redisstore.Options
		wantErr   string
		encrypted bool
	}{
		{name: "key", rdb: rdb, opts: redisstore.Options{Key: newKey()}, encrypted: true},
		{name: "insecure clear text", rdb: rdb, opts: redisstore.Options{InsecureClearText: true}},
		// A flow holds the PKCE verifier: no key is an error naming the
		// field, not a silent clear-text store.
		{name: "no key", rdb: rdb, wantErr: "redisstore: Options.Key is required: 32 random bytes, the same on every replica " +
			"(or set Options.InsecureClearText to store the flows' PKCE verifiers and nonces as clear JSON)"},
		{name: "no key, other options", rdb: rdb, opts: redisstore.Options{Prefix: "app:", Timeout: time.Second},
			wantErr: "redisstore: Options.Key is required: 32 random bytes, the same on every replica " +
				"(or set Options.InsecureClearText to store the flows' PKCE verifiers and nonces as clear JSON)"},
		{name: "key and insecure clear text", rdb: rdb, opts: redisstore.Options{Key: newKey(), InsecureClearText: true},
			wantErr: "redisstore: Options.Key and Options.InsecureClearText are both set: choose one"},
		{name: "nil client", opts: redisstore.Options{Key: newKey()}, wantErr: "redisstore: nil redis client"},
		{name: "short key", rdb: rdb, opts: redisstore.Options{Key: make([]byte, 16)}, wantErr: "redisstore: Options.Key is 16 bytes, want 32 (AES-256)"},
		{name: "empty non-nil key", rdb: rdb, opts: redisstore.Options{Key: []byte{}}, wantErr: "redisstore: Options.Key is 0 bytes, want 32 (AES-256)"},
		{name: "negative timeout", rdb: rdb, opts: redisstore.Options{Timeout: -time.Second, Key: newKey()}, wantErr: "redisstore: Options.Timeout is negative (-1s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, err := redisstore.New(tt.rdb, tt.opts)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("New() = %v, want error %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			if st.Encrypted() != tt.encrypted {
				t.Errorf("Encrypted() = %v, want %v", st.Encrypted(), tt.encrypted)
			}
		})
	}
}

func TestSaveTake(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	tests := []struct {
		name   string
		prefix string // "" = default
		key    []byte
	}{
		{name: "encrypted", prefix: testPrefix(t) + "enc:", key: newKey()},
		{name: "clear", prefix: testPrefix(t) + "clear:"},
		{name: "default prefix", key: newKey()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st := newStore(t, rdb, redisstore.Options{Prefix: tt.prefix, Key: tt.key, InsecureClearText: tt.key == nil})
			flow := newFlow()
			if err := st.Save(ctx, nil, nil, flow, flow.ExpiresAt); err != nil {
				t.Fatalf("Save() = %v", err)
			}
			prefix := tt.prefix
			if prefix == "" {
				prefix = redisstore.DefaultPrefix
			}
			key := wantKey(prefix, flow.State)
			ttl, err := rdb.PTTL(ctx, key).Result()
			if err != nil {
				t.Fatalf("PTTL(%s) = %v", key, err)
			}
			if want := time.Until(flow.ExpiresAt); ttl <= 0 || ttl > want+time.Second || ttl < want-5*time.Second {
				t.Errorf("PTTL(%s) = %v, want about %v", key, ttl, want)
			}

			got, err := st.Take(ctx, nil, nil, flow.State)
			if err != nil {
				t.Fatalf("Take() = %v", err)
			}
			checkFlow(t, got, flow)
			if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
				t.Errorf("EXISTS after Take = %d, %v, want 0", n, err)
			}
			if _, err := st.Take(ctx, nil, nil, flow.State); !errors.Is(err, login.ErrFlowNotFound) {
				t.Errorf("second Take() = %v, want login.ErrFlowNotFound", err)
			}
		})
	}
}

func TestSaveTakeShortTTL(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	st := newStore(t, rdb, redisstore.Options{Prefix: testPrefix(t), Key: newKey(), Now: func() time.Time { return now }})
	flow := newFlow()
	// 100 µs is rounded up to Redis' 1 ms, not down to an invalid 0.
	if err := st.Save(t.Context(), nil, nil, flow, now.Add(100*time.Microsecond)); err != nil {
		t.Fatalf("Save(expiry in 100µs) = %v", err)
	}
	flow2 := newFlow()
	if err := st.Save(t.Context(), nil, nil, flow2, now.Add(50*time.Millisecond)); err != nil {
		t.Fatalf("Save(expiry in 50ms) = %v", err)
	}
	time.Sleep(150 * time.Millisecond)
	for _, f := range []*client.Flow{flow, flow2} {
		if _, err := st.Take(t.Context(), nil, nil, f.State); !errors.Is(err, login.ErrFlowNotFound) {
			t.Errorf("Take(expired) = %v, want login.ErrFlowNotFound", err)
		}
	}
}

func TestSaveRejects(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	prefix := testPrefix(t)
	now := time.Now()
	st := newStore(t, rdb, redisstore.Options{Prefix: prefix, Key: newKey(), Now: func() time.Time { return now }})
	noState := newFlow()
	noState.State = ""
	tests := []struct {
		name    string
		flow    *client.Flow
		expires time.Time
		wantErr string
	}{
		{name: "nil flow", expires: now.Add(time.Minute), wantErr: "redisstore: save: flow has no state"},
		{name: "no state", flow: noState, expires: now.Add(time.Minute), wantErr: "redisstore: save: flow has no state"},
		{name: "expires now", flow: newFlow(), expires: now, wantErr: "redisstore: save: expiry " + now.UTC().Format(time.RFC3339) + " is not in the future"},
		{name: "expired", flow: newFlow(), expires: now.Add(-time.Second), wantErr: "redisstore: save: expiry " + now.Add(-time.Second).UTC().Format(time.RFC3339) + " is not in the future"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := st.Save(t.Context(), nil, nil, tt.flow, tt.expires)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Save() = %v, want %q", err, tt.wantErr)
			}
		})
	}
	t.Cleanup(func() {
		keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
		if err != nil || len(keys) != 0 {
			t.Errorf("KEYS %s* = %q, %v; want none written", prefix, keys, err)
		}
	})
}

func TestTakeUnknown(t *testing.T) {
	t.Parallel()
	st := newStore(t, sharedClient(t), redisstore.Options{Prefix: testPrefix(t), Key: newKey()})
	for _, state := range []string{"", "never-saved", strings.Repeat("x", 10000)} {
		if _, err := st.Take(t.Context(), nil, nil, state); !errors.Is(err, login.ErrFlowNotFound) {
			t.Errorf("Take(%.10q) = %v, want login.ErrFlowNotFound", state, err)
		}
	}
}

// TestConcurrentTake replays one callback 100 times at once, with GETDEL
// and with the Lua script used on servers without it: exactly one Take
// gets the flow.
func TestConcurrentTake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		rdb  func(t *testing.T) *redis.Client
	}{
		{name: "GETDEL", rdb: func(t *testing.T) *redis.Client { return sharedClient(t) }},
		{name: "Lua GET+DEL", rdb: func(t *testing.T) *redis.Client {
			return newClient(t, startRedis(t, "--rename-command", "GETDEL", "").addr())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rdb := tt.rdb(t)
			st := newStore(t, rdb, redisstore.Options{Prefix: testPrefix(t), Key: newKey()})
			flow := newFlow()
			if err := st.Save(t.Context(), nil, nil, flow, flow.ExpiresAt); err != nil {
				t.Fatalf("Save() = %v", err)
			}
			const n = 100
			var (
				wg       sync.WaitGroup
				start    = make(chan struct{})
				flows    = make(chan *client.Flow, n)
				notFound = make(chan struct{}, n)
				others   = make(chan error, n)
			)
			for range n {
				wg.Go(func() {
					<-start
					got, err := st.Take(t.Context(), nil, nil, flow.State)
					switch {
					case err == nil:
						flows <- got
					case errors.Is(err, login.ErrFlowNotFound):
						notFound <- struct{}{}
					default:
						others <- err
					}
				})
			}
			close(start)
			wg.Wait()
			close(others)
			for err := range others {
				t.Errorf("Take() = %v", err)
			}
			if len(flows) != 1 || len(notFound) != n-1 {
				t.Fatalf("of %d concurrent Takes: %d got the flow, %d got ErrFlowNotFound; want 1 and %d", n, len(flows), len(notFound), n-1)
			}
			checkFlow(t, <-flows, flow)
		})
	}
}

// TestLuaFallback checks Take on a server without GETDEL (as Redis < 6.2).
func TestLuaFallback(t *testing.T) {
	t.Parallel()
	rdb := newClient(t, startRedis(t, "--rename-command", "GETDEL", "").addr())
	if err := rdb.GetDel(t.Context(), "x").Err(); !redis.HasErrorPrefix(err, "unknown command") {
		t.Fatalf("GETDEL on the test server = %v, want unknown command", err)
	}
	st := newStore(t, rdb, redisstore.Options{Key: newKey()})
	for i := range 3 { // the first Take finds GETDEL missing, the next go straight to the script
		flow := newFlow()
		if err := st.Save(t.Context(), nil, nil, flow, flow.ExpiresAt); err != nil {
			t.Fatalf("Save() = %v", err)
		}
		got, err := st.Take(t.Context(), nil, nil, flow.State)
		if err != nil {
			t.Fatalf("Take() #%d = %v", i, err)
		}
		checkFlow(t, got, flow)
		if _, err := st.Take(t.Context(), nil, nil, flow.State); !errors.Is(err, login.ErrFlowNotFound) {
			t.Errorf("second Take() #%d = %v, want login.ErrFlowNotFound", i, err)
		}
	}
}

// TestEncryption looks at what is in Redis: with a Key, neither the state
// nor any secret of the flow; without one, the documented clear JSON.
func TestEncryption(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	prefix := testPrefix(t)
	ctx := t.Context()
	tests := []struct {
		name  string
		key   []byte
		clear bool
	}{
		{name: "key", key: newKey()},
		{name: "no key", clear: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := prefix + tt.name + ":"
			st := newStore(t, rdb, redisstore.Options{Prefix: p, Key: tt.key, InsecureClearText: tt.clear})
			flow := newFlow()
			if err := st.Save(ctx, nil, nil, flow, flow.ExpiresAt); err != nil {
				t.Fatalf("Save() = %v", err)
			}
			keys, err := rdb.Keys(ctx, p+"*").Result()
			if err != nil || len(keys) != 1 {
				t.Fatalf("KEYS = %q, %v; want one key", keys, err)
			}
			if keys[0] != wantKey(p, flow.State) || strings.Contains(keys[0], flow.State) {
				t.Errorf("key = %q, want prefix + base64url(SHA-256(state))", keys[0])
			}
			raw, err := rdb.Get(ctx, keys[0]).Bytes()
			if err != nil {
				t.Fatalf("GET = %v", err)
			}
			for name, secret := range map[string]string{"state": flow.State, "nonce": flow.Nonce, "verifier": flow.CodeVerifier, "request_uri": flow.RequestURI} {
				if got := bytes.Contains(raw, []byte(secret)); got != tt.clear {
					t.Errorf("value contains the %s = %v, want %v", name, got, tt.clear)
				}
			}
		})
	}
}

// TestTamper feeds Take values it must refuse, without panicking, without
// ErrFlowNotFound (the flow existed) and without secrets in the error.
func TestTamper(t *testing.T) {
	t.Parallel()
	rdb := sharedClient(t)
	ctx := t.Context()
	prefix := testPrefix(t)
	key := newKey()
	sealed := newStore(t, rdb, redisstore.Options{Prefix: prefix, Key: key})
	otherKey := newStore(t, rdb, redisstore.Options{Prefix: prefix, Key: newKey()})
	clearSt := newStore(t, rdb, redisstore.Options{Prefix: prefix, InsecureClearText: true})

	tests := []struct {
		name    string
		save    *redisstore.Store
		take    *redisstore.Store
		mangle  func(t *testing.T, flow, other *client.Flow) // changes Redis after both Saves
		wantErr string
	}{
		{name: "other key", save: sealed, take: otherKey,
			wantErr: "redisstore: take: stored flow does not open with Options.Key (another key, or tampered)"},
		{name: "clear value, store with key", save: clearSt, take: sealed,
			wantErr: "redisstore: take: stored flow is not encrypted; a store with Options.Key refuses clear values"},
		{name: "sealed value, store without key", save: sealed, take: clearSt,
			wantErr: "redisstore: take: stored flow is encrypted but this store is InsecureClearText (no Options.Key)"},
		{name: "sealed value moved to another state", save: sealed, take: sealed,
			mangle: func(t *testing.T, flow, other *client.Flow) {
				v := rdb.Get(ctx, wantKey(prefix, other.State)).Val()
				rdb.Set(ctx, wantKey(prefix, flow.State), v, time.Minute)
			},
			wantErr: "redisstore: take: stored flow does not open with Options.Key (another key, or tampered)"},
		{name: "bit flipped", save: sealed, take: sealed,
			mangle: func(t *testing.T, flow, _ *client.Flow) {
				b, _ := rdb.Get(ctx, wantKey(prefix, flow.State)).Bytes()
				b[len(b)-1] ^= 1
				rdb.Set(ctx, wantKey(prefix, flow.State), b, time.Minute)
			},
			wantErr: "redisstore: take: stored flow does not open with Options.Key (another key, or tampered)"},
		{name: "truncated", save: sealed, take: sealed,
			mangle: func(t *testing.T, flow, _ *client.Flow) {
				rdb.Set(ctx, wantKey(prefix, flow.State), []byte{1, 2, 3}, time.Minute)
			},
			wantErr: "redisstore: take: stored flow is too short to be sealed"},
		{name: "clear value moved to another state", save: clearSt, take: clearSt,
			mangle: func(t *testing.T, flow, other *client.Flow) {
				v := rdb.Get(ctx, wantKey(prefix, other.State)).Val()
				rdb.Set(ctx, wantKey(prefix, flow.State), v, time.Minute)
			},
			wantErr: "redisstore: take: stored flow belongs to another state"},
		{name: "clear value not JSON", save: clearSt, take: clearSt,
			mangle: func(t *testing.T, flow, _ *client.Flow) {
				rdb.Set(ctx, wantKey(prefix, flow.State), "{\"state\":\""+flow.CodeVerifier, time.Minute)
			},
			wantErr: "redisstore: take: stored flow is not valid JSON"},
		{name: "clear value without state", save: clearSt, take: clearSt,
			mangle: func(t *testing.T, flow, _ *client.Flow) {
				rdb.Set(ctx, wantKey(prefix, flow.State), `{"code_verifier":"x"}`, time.Minute)
			},
			wantErr: "redisstore: take: stored flow has no state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			flow, other := newFlow(), newFlow()
			for _, f := range []*client.Flow{flow, other} {
				if err := tt.save.Save(ctx, nil, nil, f, f.ExpiresAt); err != nil {
					t.Fatalf("Save() = %v", err)
				}
			}
			if tt.mangle != nil {
				tt.mangle(t, flow, other)
			}
			got, err := tt.take.Take(ctx, nil, nil, flow.State)
			if err == nil || err.Error() != tt.wantErr {
				t.Fatalf("Take() = %v, %v; want error %q", got, err, tt.wantErr)
			}
			var e *redisstore.Error
			if !errors.As(err, &e) || e.Op != "take" {
				t.Errorf("Take() error %T, want *redisstore.Error with Op take", err)
			}
			if errors.Is(err, login.ErrFlowNotFound) || errors.Is(err, redisstore.ErrUnavailable) {
				t.Errorf("Take() = %v, matches ErrFlowNotFound or ErrUnavailable", err)
			}
			checkNoSecrets(t, err, flow)
		})
	}
}

// slack is how late a call may return after its Timeout on a loaded
// machine; go-redis' own timeouts in these tests are a minute (slowClient).
const slack = 2 * time.Second

// TestRedisDown stops Redis under a store: Save and Take fail with
// ErrUnavailable within the timeout, then work again once Redis is back on
// the same port. Without persistence, flows saved before the outage are
// lost (ErrFlowNotFound: the user logs in again); with appendonly they
// survive.
func TestRedisDown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      []string
		survivors bool // flows saved before the outage survive it
	}{
		{name: "no persistence"},
		{name: "appendonly", args: []string{"--appendonly", "yes", "--appendfsync", "always"}, survivors: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startRedis(t, tt.args...)
			rdb := slowClient(t, srv.addr())
			const timeout = 500 * time.Millisecond
			key := newKey()
			st := newStore(t, rdb, redisstore.Options{Key: key, Timeout: timeout})
			// patient does the steps around the outage, which must not
			// time out on a loaded machine.
			patient := newStore(t, rdb, redisstore.Options{Key: key})
			ctx := t.Context()
			before := newFlow()
			if err := patient.Save(ctx, nil, nil, before, before.ExpiresAt); err != nil {
				t.Fatalf("Save() = %v", err)
			}

			srv.stop()
			down := newFlow()
			for _, call := range []struct {
				op string
				do func() error
			}{
				{"save", func() error { return st.Save(ctx, nil, nil, down, down.ExpiresAt) }},
				{"take", func() error { _, err := st.Take(ctx, nil, nil, before.State); return err }},
			} {
				start := time.Now()
				err := call.do()
				elapsed := time.Since(start)
				t.Logf("%s with Redis down: %v after %v", call.op, err, elapsed.Round(time.Millisecond))
				if !errors.Is(err, redisstore.ErrUnavailable) {
					t.Fatalf("%s with Redis down = %v, want ErrUnavailable", call.op, err)
				}
				var e *redisstore.Error
				if !errors.As(err, &e) || e.Op != call.op {
					t.Errorf("%s error = %#v, want *redisstore.Error with Op %q", call.op, err, call.op)
				}
				if !strings.HasPrefix(err.Error(), "redisstore: "+call.op+": redis unavailable: ") {
					t.Errorf("%s error = %q", call.op, err)
				}
				if elapsed > timeout+slack {
					t.Errorf("%s with Redis down took %v, want within the %v timeout", call.op, elapsed, timeout)
				}
				checkNoSecrets(t, err, down)
				checkNoSecrets(t, err, before)
			}

			if err := srv.start(); err != nil {
				t.Fatalf("restart redis-server on port %d: %v", srv.port, err)
			}
			// go-redis may serve its last dial error for a moment after a
			// burst of failed dials, until its background probe reconnects.
			// The short-timeout store itself must recover.
			after := newFlow()
			deadline := time.Now().Add(30 * time.Second)
			for {
				err := st.Save(ctx, nil, nil, after, after.ExpiresAt)
				if err == nil {
					break
				}
				if !errors.Is(err, redisstore.ErrUnavailable) || time.Now().After(deadline) {
					t.Fatalf("Save() after restart = %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			got, err := patient.Take(ctx, nil, nil, after.State)
			if err != nil {
				t.Fatalf("Take() after restart = %v", err)
			}
			checkFlow(t, got, after)

			got, err = patient.Take(ctx, nil, nil, before.State)
			if tt.survivors {
				if err != nil {
					t.Fatalf("Take(flow saved before the outage) = %v, want it (appendonly)", err)
				}
				checkFlow(t, got, before)
			} else if !errors.Is(err, login.ErrFlowNotFound) {
				t.Fatalf("Take(flow saved before the outage) = %v, want ErrFlowNotFound (no persistence)", err)
			}
		})
	}
}

// TestRedisHangs pauses Redis (SIGSTOP): the connection stays open but
// nothing answers. Save and Take give up after Options.Timeout.
func TestRedisHangs(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	rdb := slowClient(t, srv.addr())
	const timeout = 300 * time.Millisecond
	key := newKey()
	st := newStore(t, rdb, redisstore.Options{Key: key, Timeout: timeout})
	patient := newStore(t, rdb, redisstore.Options{Key: key})
	ctx := t.Context()
	flow := newFlow()
	if err := patient.Save(ctx, nil, nil, flow, flow.ExpiresAt); err != nil {
		t.Fatalf("Save() = %v", err)
	}

	srv.signal(t, syscall.SIGSTOP)
	for _, call := range []struct {
		op string
		do func() error
	}{
		{"save", func() error { f := newFlow(); return st.Save(ctx, nil, nil, f, f.ExpiresAt) }},
		{"take", func() error { _, err := st.Take(ctx, nil, nil, flow.State); return err }},
	} {
		start := time.Now()
		err := call.do()
		elapsed := time.Since(start)
		if !errors.Is(err, redisstore.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with Redis paused = %v, want ErrUnavailable and context.DeadlineExceeded", call.op, err)
		}
		if elapsed < timeout || elapsed > timeout+slack {
			t.Errorf("%s with Redis paused took %v, want about the %v timeout", call.op, elapsed, timeout)
		}
		checkNoSecrets(t, err, flow)
	}
	srv.signal(t, syscall.SIGCONT)

	// The paused Take may have been executed once Redis resumed; what
	// matters is that the store works again and never hands the flow out
	// twice.
	deadline := time.Now().Add(30 * time.Second)
	for {
		f := newFlow()
		err := st.Save(ctx, nil, nil, f, f.ExpiresAt)
		if err == nil {
			if _, err = patient.Take(ctx, nil, nil, f.State); err != nil {
				t.Fatalf("Take() after resume = %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Save() after resume = %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got, err := patient.Take(ctx, nil, nil, flow.State)
	switch {
	case err == nil:
		checkFlow(t, got, flow)
	case !errors.Is(err, login.ErrFlowNotFound):
		t.Fatalf("Take(flow of the paused Take) = %v, want the flow or ErrFlowNotFound", err)
	}
	if _, err := patient.Take(ctx, nil, nil, flow.State); !errors.Is(err, login.ErrFlowNotFound) {
		t.Errorf("Take(flow) again = %v, want ErrFlowNotFound", err)
	}
}

// TestCallerContext: a context the caller cancelled is the caller's
// error, not Redis being unavailable.
func TestCallerContext(t *testing.T) {
	t.Parallel()
	st := newStore(t, sharedClient(t), redisstore.Options{Prefix: testPrefix(t), Key: newKey()})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	flow := newFlow()
	err := st.Save(ctx, nil, nil, flow, flow.ExpiresAt)
	if !errors.Is(err, context.Canceled) || errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Save(cancelled ctx) = %v, want context.Canceled and not ErrUnavailable", err)
	}
	_, err = st.Take(ctx, nil, nil, flow.State)
	if !errors.Is(err, context.Canceled) || errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Take(cancelled ctx) = %v, want context.Canceled and not ErrUnavailable", err)
	}
}

// BenchmarkSaveTake measures one login's worth of store traffic (Save,
// then Take) against the shared loopback redis-server.
func BenchmarkSaveTake(b *testing.B) {
	rdb := sharedClient(b)
	for _, bc := range []struct {
		name string
		key  []byte
	}{{"encrypted", newKey()}, {"clear", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			st, err := redisstore.New(rdb, redisstore.Options{Prefix: "bench:", Key: bc.key, InsecureClearText: bc.key == nil})
			if err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			flow := newFlow()
			b.ReportAllocs()
			for b.Loop() {
				if err := st.Save(ctx, nil, nil, flow, flow.ExpiresAt); err != nil {
					b.Fatal(err)
				}
				if _, err := st.Take(ctx, nil, nil, flow.State); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "roundtrips/s")
		})
	}
}

// BenchmarkSaveTakeParallel is BenchmarkSaveTake from GOMAXPROCS×8
// goroutines sharing one store, as concurrent logins on one replica.
func BenchmarkSaveTakeParallel(b *testing.B) {
	rdb := sharedClient(b)
	st, err := redisstore.New(rdb, redisstore.Options{Prefix: "bench:", Key: newKey()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	b.SetParallelism(8)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		flow := newFlow()
		for pb.Next() {
			if err := st.Save(ctx, nil, nil, flow, flow.ExpiresAt); err != nil {
				b.Error(err)
				return
			}
			if _, err := st.Take(ctx, nil, nil, flow.State); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "roundtrips/s")
}
