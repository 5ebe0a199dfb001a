package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-par/par/client"
	"github.com/go-par/par/mitid"
	"github.com/go-par/par/partest"
)

// Login states reported by GET /logins/{id}.
const (
	statusPending = "pending"
	statusDone    = "done"
	statusFailed  = "failed"
)

// loginRecord is one login started by the back end.
type loginRecord struct {
	ID        string
	Kind      string // "par" or "ciba"
	Status    string
	Subject   string
	Error     string
	ExpiresAt time.Time
	Created   time.Time
	flow      *client.Flow       // PAR logins; taken by the callback
	authReq   *mitid.AuthRequest // CIBA logins; its ID never leaves the service
}

// loginView is the JSON the API returns.
type loginView struct {
	ID               string    `json:"id"`
	Kind             string    `json:"kind"`
	Status           string    `json:"status"`
	Subject          string    `json:"sub,omitempty"`
	Error            string    `json:"error,omitempty"`
	AuthorizationURL string    `json:"authorization_url,omitempty"`
	ExpiresAt        time.Time `json:"expires_at"`
}

// service starts logins from the back end and reports their outcome.
type service struct {
	c    *client.Client
	ciba *mitid.CIBA // nil unless the provider offers CIBA
	log  *slog.Logger
	now  func() time.Time
	// embedded is the built-in test provider, nil with a real one.
	embedded *partest.Server

	mu      sync.Mutex
	logins  map[string]*loginRecord
	byState map[string]string // state → login id, for PAR callbacks
	order   []string
	cancels map[string]context.CancelFunc // running CIBA polls
	wg      sync.WaitGroup
}

// maxLogins caps the logins kept in memory; the oldest are dropped.
const maxLogins = 10000

func newService(c *client.Client, ciba *mitid.CIBA, log *slog.Logger, now func() time.Time) *service {
	return &service{c: c, ciba: ciba, log: log, now: now, logins: map[string]*loginRecord{}, byState: map[string]string{},
		cancels: map[string]context.CancelFunc{}}
}

func (s *service) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /logins", s.startPAR)
	mux.HandleFunc("POST /ciba-logins", s.startCIBA)
	mux.HandleFunc("GET /logins/{id}", s.status)
	mux.HandleFunc("GET /callback", s.callback)
	mux.HandleFunc("POST /callback", s.callback)
	// "GET /callback" also matches HEAD, which link checkers and
	// prefetchers send: HEAD must not redeem the code (RFC 9110 §9.2.1), so
	// it gets its own, more specific pattern.
	mux.HandleFunc("HEAD /callback", callbackMethodNotAllowed)
	return mux
}

// close stops the running CIBA polls and waits for them.
func (s *service) close() {
	s.mu.Lock()
	for _, cancel := range s.cancels {
		cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *service) add(r *loginRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.order) >= maxLogins {
		old := s.order[0]
		s.order = s.order[1:]
		if rec, ok := s.logins[old]; ok && rec.flow != nil {
			delete(s.byState, rec.flow.State)
		}
		delete(s.logins, old)
	}
	s.logins[r.ID] = r
	s.order = append(s.order, r.ID)
	if r.flow != nil {
		s.byState[r.flow.State] = r.ID
	}
}

func (s *service) update(id string, f func(*loginRecord)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.logins[id]; ok {
		f(r)
	}
}

// startPAR pushes an authorization request (RFC 9126 §2) for a user who
// will open the returned URL.
func (s *service) startPAR(w http.ResponseWriter, r *http.Request) {
	flow, err := s.c.Push(r.Context())
	if err != nil {
		s.apiError(w, r, http.StatusBadGateway, "push failed", err)
		return
	}
	u, err := s.c.AuthorizationURL(flow)
	if err != nil {
		s.apiError(w, r, http.StatusBadGateway, "push failed", err)
		return
	}
	rec := &loginRecord{ID: newID(), Kind: "par", Status: statusPending, ExpiresAt: flow.ExpiresAt, Created: s.now(), flow: flow}
	s.add(rec)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "login started", slog.String("id", rec.ID), slog.String("kind", "par"),
		slog.Time("expires_at", flow.ExpiresAt))
	writeJSON(w, http.StatusCreated, loginView{ID: rec.ID, Kind: rec.Kind, Status: rec.Status, AuthorizationURL: u, ExpiresAt: rec.ExpiresAt.UTC()})
}

// startCIBA starts a backend-initiated MitID login through the broker's
// CIBA→PAR bridge: the broker pushes the request itself and returns the URL;
// the service polls the token endpoint for the outcome (CIBA Core §7, §10).
func (s *service) startCIBA(w http.ResponseWriter, r *http.Request) {
	if s.ciba == nil {
		s.apiError(w, r, http.StatusNotImplemented, "the provider has no backchannel_authentication_endpoint (CIBA)", nil)
		return
	}
	req, err := s.ciba.Start(r.Context(), mitid.CIBARequest{Scopes: []string{"openid", "mitid"}, Options: one(mitid.IDPValues(mitid.MitID))})
	if err != nil {
		s.apiError(w, r, http.StatusBadGateway, "backchannel authentication failed", err)
		return
	}
	a, err := s.ciba.InitAuth(r.Context(), req, mitid.InitAuthParams{})
	if err != nil {
		s.apiError(w, r, http.StatusBadGateway, "init-auth failed", err)
		return
	}
	// The user must open the URL before the request_uri expires and finish
	// before the auth_req_id does.
	expires := req.ExpiresAt
	if a.ExpiresAt.Before(expires) {
		expires = a.ExpiresAt
	}
	rec := &loginRecord{ID: newID(), Kind: "ciba", Status: statusPending, ExpiresAt: expires, Created: s.now(), authReq: req}
	s.add(rec)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "login started", slog.String("id", rec.ID), slog.String("kind", "ciba"),
		slog.Time("expires_at", req.ExpiresAt))

	// Poll until the flow ends; the poll outlives this request, so it runs
	// on its own context, cancelled by close.
	ctx, cancel := context.WithDeadline(context.Background(), req.ExpiresAt.Add(30*time.Second))
	s.mu.Lock()
	s.cancels[rec.ID] = cancel
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			cancel()
			s.mu.Lock()
			delete(s.cancels, rec.ID)
			s.mu.Unlock()
		}()
		tok, err := s.ciba.Poll(ctx, req)
		s.finish(ctx, rec.ID, tok, err)
	}()
	writeJSON(w, http.StatusCreated, loginView{ID: rec.ID, Kind: rec.Kind, Status: statusPending, AuthorizationURL: a.URI, ExpiresAt: expires.UTC()})
}

// finish records the outcome of a login.
func (s *service) finish(ctx context.Context, id string, tok *client.Tokens, err error) {
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelInfo, "login failed", slog.String("id", id), slog.String("error", err.Error()))
		s.update(id, func(r *loginRecord) { r.Status, r.Error = statusFailed, publicError(err) })
		return
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "login done", slog.String("id", id), slog.String("sub", tok.IDToken.Subject))
	s.update(id, func(r *loginRecord) { r.Status, r.Subject = statusDone, tok.IDToken.Subject })
}

// publicError is what GET /logins/{id} and the callback page say about a
// failure: the provider's error code when it is a plain code, or a fixed
// word for the check that failed. Never provider-written text (a
// description, or a sentence sent as the code) nor the error's own text:
// those go to the log.
func publicError(err error) string {
	var ae *client.AuthorizationError
	var re *client.ResponseError
	switch {
	case errors.As(err, &ae) && plainCode(ae.Code):
		return ae.Code
	case errors.As(err, &re) && plainCode(re.Code):
		return re.Code
	case errors.Is(err, mitid.ErrExpired):
		return "expired"
	case errors.Is(err, mitid.ErrAccessDenied):
		return "access_denied"
	case errors.As(err, &ae), errors.As(err, &re):
		return "provider_error"
	}
	return "login_failed"
}

// plainCode reports whether code looks like an OAuth error code (RFC 6749
// §4.1.2.1: a short token), not a sentence a provider chose to show.
func plainCode(code string) bool {
	if code == "" || len(code) > 64 {
		return false
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

// callbackMethodNotAllowed answers 405 to a callback with any method but
// GET and POST, before the flow is taken or the code exchanged.
func callbackMethodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET, POST")
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// callback completes a PAR login: the flow is taken once by its state and
// the code exchanged (state, iss, PKCE, ID token and nonce checked). Only
// GET and POST reach it.
func (s *service) callback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		callbackMethodNotAllowed(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	params, err := client.ParseResponse(r)
	if err != nil {
		s.page(w, http.StatusBadRequest, "This is not an authorization response.")
		return
	}
	s.mu.Lock()
	id := s.byState[params.Get("state")]
	delete(s.byState, params.Get("state"))
	var flow *client.Flow
	if rec, ok := s.logins[id]; ok && rec.flow != nil {
		flow, rec.flow = rec.flow, nil
	}
	s.mu.Unlock()
	if flow == nil {
		s.page(w, http.StatusBadRequest, "This login is unknown, finished or expired. Start again.")
		return
	}
	tok, err := s.c.Exchange(r.Context(), flow, params)
	s.finish(r.Context(), id, tok, err)
	if err != nil {
		s.page(w, http.StatusBadRequest, "The login failed: "+publicError(err))
		return
	}
	s.page(w, http.StatusOK, "You are logged in. You can close this window.")
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Login</title>
<style>body{font-family:system-ui,sans-serif;max-width:32em;margin:4em auto}</style></head><body><p>{{.}}</p></body></html>`))

func (s *service) page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, msg)
}

func (s *service) status(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	rec, ok := s.logins[id]
	var v loginView
	if ok {
		if rec.Status == statusPending && rec.Kind == "par" && s.now().After(rec.ExpiresAt.Add(10*time.Minute)) {
			rec.Status, rec.Error, rec.flow = statusFailed, "expired", nil
		}
		v = loginView{ID: rec.ID, Kind: rec.Kind, Status: rec.Status, Subject: rec.Subject, Error: rec.Error, ExpiresAt: rec.ExpiresAt.UTC()}
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no login with this id"})
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *service) apiError(w http.ResponseWriter, r *http.Request, status int, msg string, err error) {
	out := map[string]string{"error": msg}
	if err != nil {
		out["detail"] = err.Error() // the SDK's errors never hold a secret
		s.log.LogAttrs(r.Context(), slog.LevelInfo, msg, slog.String("error", err.Error()))
	}
	writeJSON(w, status, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// one returns a slice holding v; it names the option type for us.
func one[T any](v T) []T { return []T{v} }
