package login_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/login"
)

// StatusCode maps a failed login step to the status of the error page.
func ExampleStatusCode() {
	for _, err := range []error{
		&login.Error{Op: login.OpCallback, Err: login.ErrFlowNotFound},                             // replayed or expired callback
		&login.Error{Op: login.OpCallback, Err: &client.AuthorizationError{Code: "access_denied"}}, // user cancelled
		&login.Error{Op: login.OpStart, Err: &client.ResponseError{Endpoint: "par", StatusCode: 400, Code: "invalid_request"}},
		&login.Error{Op: login.OpStart, Err: &client.ResponseError{Endpoint: "par", StatusCode: 503}},
		&login.Error{Op: login.OpStart, Err: context.DeadlineExceeded},
		&login.Error{Op: login.OpStart, Err: login.ErrMethodNotAllowed},
		errors.New("something else"),
	} {
		fmt.Println(login.StatusCode(err))
	}
	// Output:
	// 400
	// 403
	// 502
	// 503
	// 504
	// 405
	// 500
}

// DefaultOnError writes a plain page with the provider's error code at most:
// never its description, a token or a secret.
func ExampleDefaultOnError() {
	err := &login.Error{Op: login.OpCallback, Err: &client.AuthorizationError{
		Code: "access_denied", Description: "mitid_user_aborted for user 0101-secret"}}
	w := httptest.NewRecorder()
	login.DefaultOnError(w, httptest.NewRequest(http.MethodGet, "/callback", nil), err)
	fmt.Println(w.Code, w.Header().Get("Cache-Control"))
	fmt.Print(w.Body.String())
	// Output:
	// 403 no-store
	// login was cancelled or denied (access_denied)
}

// A MemoryStore hands each flow out once (Take is single-use) and drops it
// after its expiry.
func ExampleNewMemoryStore() {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	s := login.NewMemoryStore(login.MemoryOptions{Now: func() time.Time { return now }})
	ctx := context.Background()

	flow := &client.Flow{State: "st-1", RequestURI: "urn:ietf:params:oauth:request_uri:abc"}
	if err := s.Save(ctx, nil, nil, flow, now.Add(10*time.Minute)); err != nil {
		log.Fatal(err)
	}
	fmt.Println("pending:", s.Len())

	got, err := s.Take(ctx, nil, nil, "st-1")
	fmt.Println(got.RequestURI, err)
	_, err = s.Take(ctx, nil, nil, "st-1")
	fmt.Println(errors.Is(err, login.ErrFlowNotFound))

	s.Save(ctx, nil, nil, &client.Flow{State: "st-2"}, now.Add(time.Minute))
	now = now.Add(2 * time.Minute)
	_, err = s.Take(ctx, nil, nil, "st-2")
	fmt.Println("expired:", errors.Is(err, login.ErrFlowNotFound))
	// Output:
	// pending: 1
	// urn:ietf:params:oauth:request_uri:abc <nil>
	// true
	// expired: true
}
