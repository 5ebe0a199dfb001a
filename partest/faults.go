package partest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Fault makes one endpoint misbehave on purpose. Set it in Config.Faults or
// with [Server.SetFault]. Fields combine: Delay first, then Redirect or
// Status (which replace the endpoint's own answer), else the endpoint runs
// and the body-changing fields apply to its answer. The zero Fault does
// nothing.
type Fault struct {
	// Times limits the fault to the next Times requests of the endpoint;
	// zero means every request until cleared.
	Times int

	// Delay stalls the answer; it ends early when the request's context
	// is done (the client gave up).
	Delay time.Duration
	// Redirect answers 302 Found with this Location.
	Redirect string
	// Status answers with this status code and Body instead of running the
	// endpoint, such as 429 with a Retry-After Header, or 503.
	Status int
	// Body is the body sent with Status.
	Body string
	// ContentType is the Content-Type sent with Status. Default:
	// application/json when Body starts with "{" or "[", else text/plain.
	ContentType string
	// Header is added to the response (with Status, Redirect or the
	// endpoint's own answer), such as Retry-After or DPoP-Nonce.
	Header http.Header

	// TruncateBody cuts the endpoint's own response body in half (a
	// truncated JSON document).
	TruncateBody bool
	// OversizeBody pads the endpoint's own response body with trailing
	// spaces to more than 1 MiB (still valid JSON).
	OversizeBody bool

	// Issuer replaces the issuer: in discovery documents, the issuer member;
	// at the authorization endpoint, the iss response parameter (a mix-up,
	// RFC 9207); at the token endpoint, the ID token's iss.
	Issuer string
	// OmitIss leaves the iss response parameter out of authorization
	// responses even when it is advertised.
	OmitIss bool

	// Response changes the endpoint's own JSON response body before it is
	// sent: drop or retype members (token_type "Bearer" for a DPoP request,
	// expires_in as a string, a request_uri that is a number, a missing
	// discovery member, ...). It is not applied to Status answers.
	Response func(body map[string]any)
	// Userinfo, at the userinfo endpoint, may change the claims before they
	// are sent (or signed), such as a sub that differs from the ID token's.
	Userinfo func(claims map[string]any)

	// IDToken, at the token endpoint, may change the ID token claims before
	// they are signed (delete nonce, set aud, move exp into the past, ...).
	IDToken func(claims map[string]any)
	// IDTokenAlg signs the ID token with this algorithm instead: "none"
	// gives an unsigned token; HS256/384/512 use the client's secret as the
	// key (a forgery clients must refuse); others use a server key of that
	// algorithm, published in the JWKS.
	IDTokenAlg jose.SignatureAlgorithm
	// IDTokenKey, with IDTokenAlg, signs the ID token with this key instead
	// (a crypto.Signer, []byte or jose.JSONWebKey): a key not in the JWKS.
	IDTokenKey any
	// RawIDToken replaces the ID token with this exact string.
	RawIDToken string
}

type faultState struct {
	f    Fault
	left int // remaining uses when f.Times > 0
}

// SetFault installs f on endpoint (EndpointPAR, ...), replacing any fault
// there. It is safe to call while the server runs.
func (s *Server) SetFault(endpoint string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[endpoint] = &faultState{f: f, left: f.Times}
}

// ClearFault removes the fault of endpoint.
func (s *Server) ClearFault(endpoint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, endpoint)
}

// takeFault returns a copy of the endpoint's active fault, using up one of
// its Times.
func (s *Server) takeFault(endpoint string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.faults[endpoint]
	if st == nil {
		return nil
	}
	f := st.f
	if f.Times > 0 {
		st.left--
		if st.left <= 0 {
			delete(s.faults, endpoint)
		}
	}
	return &f
}

func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, rt route, f *Fault) {
	if f.Delay > 0 {
		// net/http notices a client that gave up (and cancels r.Context())
		// only once the request body has been read: read it first.
		if r.Body != nil {
			b, _ := io.ReadAll(io.LimitReader(r.Body, maxForm+1))
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
		}
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	switch {
	case f.Redirect != "":
		w.Header().Set("Location", f.Redirect)
		w.WriteHeader(http.StatusFound)
		return
	case f.Status != 0:
		ct := f.ContentType
		if ct == "" {
			ct = "text/plain; charset=utf-8"
			if b := strings.TrimSpace(f.Body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
				ct = "application/json"
			}
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return
	case !f.TruncateBody && !f.OversizeBody && f.Response == nil:
		rt.handle(s, w, r, f)
		return
	}
	rec := httptest.NewRecorder()
	rt.handle(s, rec, r, f)
	body := rec.Body.Bytes()
	if f.Response != nil && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err == nil && m != nil {
			f.Response(m)
			if b, err := json.Marshal(m); err == nil {
				body = b
			}
		}
	}
	if f.TruncateBody {
		body = body[:len(body)/2]
	}
	if f.OversizeBody {
		body = append(bytes.Clone(body), bytes.Repeat([]byte(" "), 1<<20+1)...)
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}
