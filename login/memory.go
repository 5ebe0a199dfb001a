package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-par/par/client"
)

// MemoryOptions configures [NewMemoryStore].
type MemoryOptions struct {
	// MaxFlows caps the pending flows; Save gives ErrStoreFull beyond it.
	// Default 200,000 (about 100 MB). Negative: no cap.
	MaxFlows int
	// Now is the clock; use the Handler's. Default: time.Now.
	Now func() time.Time
}

// MemoryStore is a [Store] in process memory: flows in a map under a
// mutex, single-use Take, and no background goroutine. Expired flows are
// dropped as Save goes, from a queue ordered by save time, so the cost is
// amortised O(1) per operation. It holds about 0.5 KiB per pending flow.
//
// It suits one process; behind a load balancer without sticky sessions use
// the [CookieStore] or a shared store. It keeps no browser binding itself:
// the [Handler] adds a binding cookie.
type MemoryStore struct {
	now func() time.Time
	max int

	mu    sync.Mutex
	flows map[string]memEntry
	queue expiryQueue
}

type memEntry struct {
	flow    client.Flow
	expires int64 // unix nanoseconds
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore(opts MemoryOptions) *MemoryStore {
	s := &MemoryStore{now: opts.Now, max: opts.MaxFlows, flows: make(map[string]memEntry)}
	if s.now == nil {
		s.now = time.Now
	}
	if s.max == 0 {
		s.max = 200_000
	}
	return s
}

// Save stores a copy of flow under flow.State until expires. A state already
// pending is refused.
func (s *MemoryStore) Save(_ context.Context, _ http.ResponseWriter, _ *http.Request, flow *client.Flow, expires time.Time) error {
	if flow == nil || flow.State == "" {
		return errors.New("login: memory store: flow without state")
	}
	now := s.now().UnixNano()
	exp := expires.UnixNano()
	if exp <= now {
		return errors.New("login: memory store: flow already expired")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now, 2)
	if _, dup := s.flows[flow.State]; dup {
		return errors.New("login: memory store: state already pending")
	}
	if s.max > 0 && len(s.flows) >= s.max {
		s.sweep(now, -1)
		if len(s.flows) >= s.max {
			return ErrStoreFull
		}
	}
	s.flows[flow.State] = memEntry{flow: *flow, expires: exp}
	s.queue.push(flow.State, exp)
	return nil
}

// errNotInMemory is the MemoryStore's ErrFlowNotFound, with the hint
// that a flow of another replica is not in this one's memory.
var errNotInMemory = fmt.Errorf("%w; with several app instances it may sit in another instance's MemoryStore: "+
	"use a CookieStore or a shared Store (such as Redis)", ErrFlowNotFound)

// Take removes and returns the flow stored under state. A missing, expired
// or already taken flow gives an error wrapping ErrFlowNotFound, which
// hints that with several app instances the flow may have been saved in
// another instance's memory.
func (s *MemoryStore) Take(_ context.Context, _ http.ResponseWriter, _ *http.Request, state string) (*client.Flow, error) {
	now := s.now().UnixNano()
	s.mu.Lock()
	e, ok := s.flows[state]
	if ok {
		delete(s.flows, state)
	}
	s.mu.Unlock()
	if !ok || e.expires <= now {
		return nil, errNotInMemory
	}
	f := e.flow
	return &f, nil
}

// Len returns the number of flows held, expired ones not yet dropped
// included.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.flows)
}

// sweep drops up to n (all when n < 0) expired queue entries. s.mu is held.
func (s *MemoryStore) sweep(now int64, n int) {
	for ; n != 0; n-- {
		state, exp, ok := s.queue.popExpired(now)
		if !ok {
			return
		}
		// A state taken and saved again has a newer entry: keep that one.
		if e, found := s.flows[state]; found && e.expires == exp {
			delete(s.flows, state)
		}
	}
}

// expiryQueue is a FIFO of (key, expiry). With one flow lifetime the
// expiries come in order; an out-of-order entry only delays those behind
// it, never drops a live one.
type expiryQueue struct {
	items []queued
	head  int
}

type queued struct {
	key string
	exp int64
}

func (q *expiryQueue) push(key string, exp int64) {
	if q.head > 0 && q.head >= len(q.items)/2 {
		// Compact: reuse the front half instead of growing.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items = q.items[:n]
		q.head = 0
	}
	q.items = append(q.items, queued{key, exp})
}

func (q *expiryQueue) popExpired(now int64) (string, int64, bool) {
	if q.head >= len(q.items) || q.items[q.head].exp > now {
		return "", 0, false
	}
	it := q.items[q.head]
	q.items[q.head] = queued{}
	q.head++
	return it.key, it.exp, true
}
