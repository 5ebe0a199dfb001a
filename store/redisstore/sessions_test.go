package redisstore_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-par/par/session"
	"github.com/go-par/par/store/redisstore"
)

func newSessions(t *testing.T) *redisstore.Sessions {
	t.Helper()
	s, err := redisstore.NewSessions(sharedClient(t), redisstore.SessionOptions{Prefix: "{" + testPrefix(t) + "}", Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSessionsStore checks the session.Store contract on Redis: Put is a
// compare-and-set, Touch keeps the version, DeleteIndexed finds the
// sessions of an index and cleans their other indexes, Lock is exclusive,
// Once is single-use.
func TestSessionsStore(t *testing.T) {
	t.Parallel()
	s := newSessions(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	if _, err := s.Get(ctx, "s:a"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get of nothing = %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, "s:a", &session.Entry{Value: []byte("v1"), Version: 3, Expires: exp}); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put creating with version 3 = %v, want ErrConflict", err)
	}
	if err := s.Put(ctx, "s:a", &session.Entry{Value: []byte("v1\x00\xff"), Indexes: []string{"sid1", "sub1"}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	e, err := s.Get(ctx, "s:a")
	if err != nil || string(e.Value) != "v1\x00\xff" || e.Version != 1 || !slices.Equal(e.Indexes, []string{"sid1", "sub1"}) ||
		e.Expires.Sub(exp).Abs() > time.Second {
		t.Fatalf("Get = %+v, %v", e, err)
	}
	if err := s.Put(ctx, "s:a", &session.Entry{Value: []byte("x"), Expires: exp}); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put creating over an entry = %v, want ErrConflict", err)
	}
	// Version 1 → 2, moving from index sid1 to sid2.
	if err := s.Put(ctx, "s:a", &session.Entry{Value: []byte("v2"), Version: 1, Indexes: []string{"sid2", "sub1"}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "s:a", &session.Entry{Value: []byte("v3"), Version: 1, Expires: exp}); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put with a stale version = %v, want ErrConflict", err)
	}
	later := time.Now().Add(2 * time.Hour)
	if err := s.Touch(ctx, "s:a", later); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.Get(ctx, "s:a"); e.Version != 2 || e.Expires.Sub(later).Abs() > time.Second {
		t.Errorf("after Touch: version %d expires %v, want 2 and %v", e.Version, e.Expires, later)
	}
	if err := s.Touch(ctx, "s:none", later); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch of nothing = %v", err)
	}
	if n, err := s.DeleteIndexed(ctx, "sid1"); err != nil || n != 0 {
		t.Errorf("DeleteIndexed(old index) = %d, %v; want 0", n, err)
	}
	if err := s.Put(ctx, "s:b", &session.Entry{Value: []byte("b"), Indexes: []string{"sub1"}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteIndexed(ctx, "sub1"); err != nil || n != 2 {
		t.Errorf("DeleteIndexed(sub1) = %d, %v; want 2", n, err)
	}
	for _, k := range []string{"s:a", "s:b"} {
		if _, err := s.Get(ctx, k); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("%s after DeleteIndexed: %v", k, err)
		}
	}
	if n, _ := s.DeleteIndexed(ctx, "sid2"); n != 0 {
		t.Errorf("the deleted session stayed in its other index: %d", n)
	}
	if err := s.Put(ctx, "s:c", &session.Entry{Value: []byte("c"), Indexes: []string{"sid3"}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "s:c"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.DeleteIndexed(ctx, "sid3"); n != 0 {
		t.Errorf("Delete left the session in its index")
	}

	tok, ok, err := s.Lock(ctx, "l:x", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Lock = %v, %v", ok, err)
	}
	if _, ok, _ := s.Lock(ctx, "l:x", time.Minute); ok {
		t.Error("a held lock was taken again")
	}
	if err := s.Unlock(ctx, "l:x", "not-the-token"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Lock(ctx, "l:x", time.Minute); ok {
		t.Error("Unlock with another token released the lock")
	}
	s.Unlock(ctx, "l:x", tok)
	if _, ok, _ := s.Lock(ctx, "l:x", 50*time.Millisecond); !ok {
		t.Error("the released lock could not be taken")
	}
	time.Sleep(100 * time.Millisecond)
	if _, ok, _ := s.Lock(ctx, "l:x", time.Minute); !ok {
		t.Error("an expired lock could not be taken")
	}

	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := s.Once(ctx, "j:jti", time.Now().Add(time.Minute)); err == nil && ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("Once: %d winners, want 1", wins.Load())
	}
}

// TestSessionsConcurrentPut: of many compare-and-sets on one version,
// exactly one wins.
func TestSessionsConcurrentPut(t *testing.T) {
	t.Parallel()
	s := newSessions(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	if err := s.Put(ctx, "s:a", &session.Entry{Value: []byte("v"), Expires: exp}); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Put(ctx, "s:a", &session.Entry{Value: []byte("w"), Version: 1, Expires: exp}); err == nil {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d compare-and-sets won, want 1", wins.Load())
	}
}

func TestSessionsUnavailable(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	s, err := redisstore.NewSessions(newClient(t, srv.addr()), redisstore.SessionOptions{Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv.stop()
	_, err = s.Get(context.Background(), "s:a")
	if !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Get with Redis down = %v, want ErrUnavailable", err)
	}
}
