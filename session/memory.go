package session

import (
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a [Store] in process memory, for an app on one replica
// (and for tests). The zero value is not usable: use [NewMemoryStore].
// Expired entries are dropped as they are met and in a sweep at most once
// a minute.
type MemoryStore struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*Entry
	indexes map[string]map[string]bool // index → keys
	locks   map[string]memLock
	once    map[string]time.Time
	swept   time.Time
}

type memLock struct {
	token   string
	expires time.Time
}

// NewMemoryStore returns an empty MemoryStore with the clock now (nil:
// time.Now).
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, entries: map[string]*Entry{}, indexes: map[string]map[string]bool{},
		locks: map[string]memLock{}, once: map[string]time.Time{}}
}

// sweepLocked drops what has expired, at most once a minute.
func (s *MemoryStore) sweepLocked(now time.Time) {
	if now.Sub(s.swept) < time.Minute {
		return
	}
	s.swept = now
	for k, e := range s.entries {
		if !now.Before(e.Expires) {
			s.deleteLocked(k)
		}
	}
	for k, exp := range s.once {
		if !now.Before(exp) {
			delete(s.once, k)
		}
	}
	for k, l := range s.locks {
		if !now.Before(l.expires) {
			delete(s.locks, k)
		}
	}
}

// live returns the unexpired entry under key.
func (s *MemoryStore) liveLocked(key string, now time.Time) *Entry {
	e := s.entries[key]
	if e == nil {
		return nil
	}
	if !now.Before(e.Expires) {
		s.deleteLocked(key)
		return nil
	}
	return e
}

// Get implements [Store].
func (s *MemoryStore) Get(_ context.Context, key string) (*Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.liveLocked(key, s.now())
	if e == nil {
		return nil, ErrNotFound
	}
	c := *e
	c.Value = slices.Clone(e.Value)
	c.Indexes = slices.Clone(e.Indexes)
	return &c, nil
}

// Put implements [Store].
func (s *MemoryStore) Put(_ context.Context, key string, e *Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweepLocked(now)
	cur := s.liveLocked(key, now)
	switch {
	case cur == nil && e.Version != 0, cur != nil && cur.Version != e.Version:
		return ErrConflict
	}
	if cur != nil {
		s.deleteLocked(key)
	}
	stored := &Entry{Value: slices.Clone(e.Value), Version: e.Version + 1, Indexes: slices.Clone(e.Indexes), Expires: e.Expires}
	s.entries[key] = stored
	for _, ix := range stored.Indexes {
		m := s.indexes[ix]
		if m == nil {
			m = map[string]bool{}
			s.indexes[ix] = m
		}
		m[key] = true
	}
	return nil
}

// Touch implements [Store].
func (s *MemoryStore) Touch(_ context.Context, key string, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.liveLocked(key, s.now())
	if e == nil {
		return ErrNotFound
	}
	e.Expires = expires
	return nil
}

// Delete implements [Store].
func (s *MemoryStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLocked(key)
	return nil
}

func (s *MemoryStore) deleteLocked(key string) {
	e := s.entries[key]
	if e == nil {
		return
	}
	delete(s.entries, key)
	for _, ix := range e.Indexes {
		delete(s.indexes[ix], key)
		if len(s.indexes[ix]) == 0 {
			delete(s.indexes, ix)
		}
	}
}

// DeleteIndexed implements [Store].
func (s *MemoryStore) DeleteIndexed(_ context.Context, index string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := 0
	for key := range s.indexes[index] {
		if s.liveLocked(key, now) != nil {
			n++
		}
		s.deleteLocked(key)
	}
	delete(s.indexes, index)
	return n, nil
}

// Lock implements [Store].
func (s *MemoryStore) Lock(_ context.Context, key string, ttl time.Duration) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if l, ok := s.locks[key]; ok && now.Before(l.expires) {
		return "", false, nil
	}
	token := rand.Text()
	s.locks[key] = memLock{token: token, expires: now.Add(ttl)}
	return token, true, nil
}

// Unlock implements [Store].
func (s *MemoryStore) Unlock(_ context.Context, key, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.locks[key]; ok && l.token == token {
		delete(s.locks, key)
	}
	return nil
}

// Once implements [Store].
func (s *MemoryStore) Once(_ context.Context, key string, expires time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweepLocked(now)
	if exp, ok := s.once[key]; ok && now.Before(exp) {
		return false, nil
	}
	s.once[key] = expires
	return true, nil
}

// Len returns how many unexpired sessions the store holds (for tests and
// metrics).
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	n := 0
	for _, e := range s.entries {
		if now.Before(e.Expires) {
			n++
		}
	}
	return n
}
