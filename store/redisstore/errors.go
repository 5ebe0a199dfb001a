package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"
)

// ErrUnavailable is matched (errors.Is) by the [*Error] of a Save or Take
// that failed because Redis could not be reached or did not answer in
// time: connection refused or reset, a timeout, or a server that is
// loading, read-only or without a master. The flow may be retried later.
var ErrUnavailable = errors.New("redisstore: redis unavailable")

// Error is a failed Save or Take. Its message names the operation and the
// cause, never the flow or the state. Err is the cause from go-redis, the
// context or the decoder.
type Error struct {
	Op  string // "save" or "take"
	Err error

	unavailable bool
}

func (e *Error) Error() string {
	if e.unavailable {
		return "redisstore: " + e.Op + ": redis unavailable: " + e.Err.Error()
	}
	return "redisstore: " + e.Op + ": " + e.Err.Error()
}

// Temporary reports whether Redis was unavailable, so that callers such as
// login answer 503 Service Unavailable.
func (e *Error) Temporary() bool { return e.unavailable }

// Unwrap gives Err, and ErrUnavailable when Redis was unavailable.
func (e *Error) Unwrap() []error {
	if e.unavailable {
		return []error{ErrUnavailable, e.Err}
	}
	return []error{e.Err}
}

// callError classifies the error of a Redis call made under a context
// derived from ctx. When ctx itself ended, the caller gave up: that is not
// Redis being unavailable.
func (s *Store) callError(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &Error{Op: op, Err: ctxErr}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// go-redis keeps redialling until the deadline, so this is also
		// what a refused connection looks like.
		err = fmt.Errorf("no reply within %s: %w", s.timeout, err)
	}
	return &Error{Op: op, Err: err, unavailable: isUnavailable(err)}
}

func isUnavailable(err error) bool {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), // our per-call Timeout
		errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr):
		return true
	}
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsClusterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsMasterDownError(err) || redis.IsMaxClientsError(err)
}
