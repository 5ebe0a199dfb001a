package session

import (
	"context"
	"errors"
	"time"
)

// Errors of a [Store].
var (
	// ErrNotFound: no entry under the key (never stored, expired or
	// deleted).
	ErrNotFound = errors.New("session: not found")
	// ErrConflict: Put found another version than the entry's (a concurrent
	// write), or an entry where it was to create one.
	ErrConflict = errors.New("session: version conflict")
)

// Entry is one stored session: a value sealed by the [Manager] (a Store
// sees opaque bytes), its version, the index keys under which
// DeleteIndexed finds it, and when it expires.
type Entry struct {
	// Value is the sealed session.
	Value []byte
	// Version is the entry's version as Get returned it (0 for a new
	// entry); Put stores Version+1.
	Version uint64
	// Indexes are the index keys of the entry: digests of the provider's
	// issuer with its sid, and with its sub, for back- and front-channel
	// logout.
	Indexes []string
	// Expires is when the store may forget the entry: the earlier of the
	// session's idle and absolute deadlines.
	Expires time.Time
}

// Store keeps sealed sessions for a [Manager], and the short-lived state
// that every replica must share: the refresh lock of a session and the
// single-use marks of logout tokens. Implementations must be safe for
// concurrent use, and every method must act atomically across every
// replica that shares the store (package session's [MemoryStore] within
// one process; the Redis store of module store/redisstore across
// processes).
//
// Keys are digests chosen by the Manager; a store need not hash them
// again.
type Store interface {
	// Get returns the entry under key, or ErrNotFound.
	Get(ctx context.Context, key string) (*Entry, error)
	// Put stores e under key when the stored entry's version is e.Version
	// (0: there must be none), as version e.Version+1, indexed under
	// e.Indexes (replacing the old entry's indexes) until e.Expires; else
	// it returns ErrConflict and changes nothing (compare-and-set).
	Put(ctx context.Context, key string, e *Entry) error
	// Touch moves key's expiry to expires, keeping its value and version
	// (the idle timeout); ErrNotFound when key is gone.
	Touch(ctx context.Context, key string, expires time.Time) error
	// Delete removes key and its index entries; a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
	// DeleteIndexed removes every entry indexed under index and returns
	// how many there were.
	DeleteIndexed(ctx context.Context, index string) (int, error)
	// Lock takes the lock named key for ttl unless another holder has it:
	// it returns a token for Unlock and true, or false when the lock is
	// held. A lock not released expires after ttl.
	Lock(ctx context.Context, key string, ttl time.Duration) (token string, ok bool, err error)
	// Unlock releases the lock key if token still holds it.
	Unlock(ctx context.Context, key, token string) error
	// Once records key until expires and reports whether it was new: of
	// many concurrent calls with one key, exactly one gets true.
	Once(ctx context.Context, key string, expires time.Time) (bool, error)
}
