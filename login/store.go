package login

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-par/par/client"
)

// ErrFlowNotFound is returned by Store.Take when no flow is stored under the
// state: never saved, expired, or already taken (a replayed callback).
var ErrFlowNotFound = errors.New("login: flow not found (expired or already used)")

// Store keeps flows between the push and the callback. Implementations must
// be safe for concurrent use, and Take must be single-use and atomic: of
// many concurrent Takes of one state, exactly one gets the flow.
//
// The request and response writer are there for stores that keep the flow
// in the browser (the cookie store); server-side stores ignore them, and the
// [Handler] binds their flows to the browser with a cookie of its own.
type Store interface {
	// Save stores flow under flow.State until expires.
	Save(ctx context.Context, w http.ResponseWriter, r *http.Request, flow *client.Flow, expires time.Time) error
	// Take returns the flow stored under state and removes it. A missing,
	// expired or already-taken flow gives ErrFlowNotFound.
	Take(ctx context.Context, w http.ResponseWriter, r *http.Request, state string) (*client.Flow, error)
}
