package site

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Step kinds, one per protocol step shown on the result page.
const (
	kindDiscovery  = "discovery"
	kindJWKS       = "jwks"
	kindPush       = "push"
	kindAuthorize  = "authorize"
	kindCallback   = "callback"
	kindJARM       = "jarm" // a JWT-secured authorization response opened
	kindToken      = "token"
	kindIDToken    = "idtoken"
	kindUserinfo   = "userinfo"
	kindEndSession = "end_session"
	kindHTTP       = "http"
)

// secretNames are the parameters, JSON members and claims whose values never
// leave the recorder: credentials, codes, verifiers, tokens, request objects.
var secretNames = map[string]bool{
	"client_secret":         true,
	"client_assertion":      true,
	"code":                  true,
	"code_verifier":         true,
	"refresh_token":         true,
	"access_token":          true,
	"id_token":              true,
	"id_token_hint":         true,
	"userinfo_token":        true,
	"transaction_token":     true,
	"request":               true,
	"response":              true, // a JWT-secured authorization response holds the code
	"assertion":             true,
	"password":              true,
	"subject_token":         true,
	"actor_token":           true,
	"device_code":           true,
	"auth_req_id":           true,
	"login_hint_token":      true,
	"logout_token":          true,
	"client_assertion_type": false, // a URN, shown
}

// redactValue returns v, or a placeholder that keeps only its length when
// name is a secret.
func redactValue(name, v string) (string, bool) {
	if secretNames[name] {
		return fmt.Sprintf("[redacted, %d chars]", len(v)), true
	}
	return v, false
}

// Param is one name/value pair shown on the page.
type Param struct {
	Name, Value string
	Redacted    bool
}

// Check is one verification shown on the page.
type Check struct {
	Name  string // what was checked
	Value string // the value seen (never a secret)
	OK    bool
	Why   string // the rule, with its reference
}

// Step is one protocol step of a login: a back-channel call recorded by the
// transport, or a front-channel step recorded by the handlers.
type Step struct {
	Kind     string
	At       time.Time
	Method   string
	URL      string
	Status   int
	Duration time.Duration
	Params   []Param // request parameters (form body or query), redacted
	Headers  []Param // request headers that matter for the protocol, redacted
	Facts    []Param // the values a reader should notice
	Response string  // the response body, redacted, pretty-printed
	Checks   []Check
	Note     string
	Err      string
}

// Trace is the recorded steps of one login. It is safe for concurrent use.
type Trace struct {
	ID      string
	Started time.Time

	mu    sync.Mutex
	steps []Step
	// state and nonce are the values pushed, kept to key the trace and to
	// show that the callback and the ID token match them. Never rendered.
	state, nonce string
	// idAlg and idKid are the ID token's JOSE header, seen in the token
	// response (the token itself is not kept).
	idAlg, idKid string
}

func (t *Trace) setIDTokenHeader(alg, kid string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.idAlg, t.idKid = alg, kid
}

// idTokenHeader returns the alg and kid of the login's ID token.
func (t *Trace) idTokenHeader() (alg, kid string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.idAlg, t.idKid
}

func newTrace(now time.Time) *Trace {
	return &Trace{ID: randomID(), Started: now}
}

func (t *Trace) add(s Step) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.steps = append(t.steps, s)
}

// Steps returns a copy of the steps in order.
func (t *Trace) Steps() []Step {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.steps)
}

func (t *Trace) setPushed(state, nonce string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.state, t.nonce = state, nonce
}

func (t *Trace) pushed() (state, nonce string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state, t.nonce
}

type traceKey struct{}

// withTrace returns a context whose back-channel calls are recorded into t,
// as net/http/httptrace does for connection events.
func withTrace(ctx context.Context, t *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, t)
}

func traceFrom(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}

// recorder is an http.RoundTripper that records every call to the provider
// into the Trace of the request's context (or into the process trace), with
// secrets redacted, and logs it at Info level.
type recorder struct {
	base    http.RoundTripper
	log     *slog.Logger
	process *Trace // calls outside a login: start-up discovery, JWKS
	now     func() time.Time
	kinds   atomic.Pointer[map[string]string] // endpoint URL → kind
}

// setEndpoints names the provider's endpoints once discovery has run.
func (rt *recorder) setEndpoints(m map[string]string) { rt.kinds.Store(&m) }

func (rt *recorder) kind(u *url.URL) string {
	plain := *u
	plain.RawQuery, plain.Fragment = "", ""
	if m := rt.kinds.Load(); m != nil {
		if k, ok := (*m)[plain.String()]; ok {
			return k
		}
	}
	if strings.Contains(u.Path, "/.well-known/") {
		return kindDiscovery
	}
	return kindHTTP
}

func (rt *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	t := traceFrom(req.Context())
	if t == nil {
		t = rt.process
	}
	st := Step{Kind: rt.kind(req.URL), At: rt.now(), Method: req.Method, URL: redactURL(req.URL)}
	st.Params = redactQuery(req.URL.Query())
	if form, ok := requestForm(req); ok {
		st.Params = append(st.Params, redactQuery(form)...)
		if st.Kind == kindPush {
			t.setPushed(form.Get("state"), form.Get("nonce"))
		}
	}
	st.Headers = redactHeaders(req.Header)

	start := time.Now()
	resp, err := rt.base.RoundTrip(req)
	st.Duration = time.Since(start).Round(100 * time.Microsecond)
	if err != nil {
		st.Err = err.Error()
		t.add(st)
		rt.log.LogAttrs(req.Context(), slog.LevelInfo, "provider call failed", slog.String("step", st.Kind),
			slog.String("method", st.Method), slog.String("url", st.URL), slog.Duration("duration", st.Duration),
			slog.String("error", st.Err))
		return nil, err
	}
	st.Status = resp.StatusCode
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxRecordedBody+1))
	rest := resp.Body
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(body), rest), rest}
	if rerr != nil {
		st.Err = "reading the response: " + rerr.Error()
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if st.Kind == kindToken && resp.StatusCode == http.StatusOK {
		var tr struct {
			IDToken string `json:"id_token"`
		}
		if json.Unmarshal(body, &tr) == nil && tr.IDToken != "" {
			h := jwtHeader(tr.IDToken) // the header only: public
			t.setIDTokenHeader(h.Alg, h.Kid)
		}
	}
	st.Response, st.Facts = describeResponse(st.Kind, ct, body, len(body) > maxRecordedBody)
	t.add(st)

	attrs := []slog.Attr{slog.String("step", st.Kind), slog.String("method", st.Method), slog.String("url", st.URL),
		slog.Int("status", st.Status), slog.Duration("duration", st.Duration)}
	for _, f := range st.Facts {
		if f.Name == "request_uri" || f.Name == "expires_in" || f.Name == "token_type" || f.Name == "error" {
			attrs = append(attrs, slog.String(f.Name, f.Value))
		}
	}
	rt.log.LogAttrs(req.Context(), slog.LevelInfo, "provider call", attrs...)
	return resp, nil
}

// maxRecordedBody is the most of a response body the recorder looks at; the
// client itself caps bodies at 1 MiB.
const maxRecordedBody = 1 << 20

type readCloser struct {
	io.Reader
	io.Closer
}

// requestForm returns the form body of req without consuming it.
func requestForm(req *http.Request) (url.Values, bool) {
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" || req.GetBody == nil {
		return nil, false
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxRecordedBody))
	if err != nil {
		return nil, false
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, false
	}
	return v, true
}

// redactURL returns u with secret query values replaced.
func redactURL(u *url.URL) string {
	c := *u
	c.User = nil
	if c.RawQuery != "" {
		q := c.Query()
		for k, vs := range q {
			for i := range vs {
				vs[i], _ = redactValue(k, vs[i])
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// redactQuery lists v sorted by name, secret values redacted.
func redactQuery(v url.Values) []Param {
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	slices.Sort(names)
	var out []Param
	for _, k := range names {
		for _, val := range v[k] {
			r, red := redactValue(k, val)
			out = append(out, Param{Name: k, Value: r, Redacted: red})
		}
	}
	return out
}

// redactHeaders keeps the request headers a reader of the protocol cares
// about, with credentials replaced: only the Authorization scheme is shown.
func redactHeaders(h http.Header) []Param {
	var out []Param
	if a := h.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(a, " ")
		out = append(out, Param{Name: "Authorization", Value: scheme + " [redacted]", Redacted: true})
	}
	if d := h.Get("DPoP"); d != "" {
		out = append(out, Param{Name: "DPoP", Value: fmt.Sprintf("[proof JWT, %d chars]", len(d)), Redacted: true})
	}
	if ct := h.Get("Content-Type"); ct != "" {
		out = append(out, Param{Name: "Content-Type", Value: ct})
	}
	return out
}

// describeResponse renders a response body for the page, secrets
// redacted, and picks out the facts worth noticing for the step's kind.
func describeResponse(kind, contentType string, body []byte, truncated bool) (string, []Param) {
	if truncated {
		return fmt.Sprintf("[more than %d bytes, not shown]", maxRecordedBody), nil
	}
	switch {
	case len(body) == 0:
		return "", nil
	case contentType == "application/jwt":
		return fmt.Sprintf("[signed JWT, %d bytes: the claims are verified and shown below]", len(body)), nil
	case contentType != "application/json" && !strings.HasSuffix(contentType, "+json"):
		return fmt.Sprintf("[%d bytes of %s]", len(body), contentType), nil
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Sprintf("[%d bytes of malformed JSON]", len(body)), nil
	}
	doc = redactJSON(doc)
	facts := responseFacts(kind, doc)
	if kind == kindDiscovery || kind == kindJWKS {
		// Long and public: the facts say what matters.
		return "", facts
	}
	pretty, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", facts
	}
	return string(pretty), facts
}

// redactJSON replaces the values of secret members anywhere in doc.
func redactJSON(doc any) any {
	switch v := doc.(type) {
	case map[string]any:
		for k, x := range v {
			if secretNames[k] {
				s, ok := x.(string)
				if !ok {
					b, _ := json.Marshal(x)
					s = string(b)
				}
				v[k], _ = redactValue(k, s)
				continue
			}
			v[k] = redactJSON(x)
		}
	case []any:
		for i := range v {
			v[i] = redactJSON(v[i])
		}
	}
	return doc
}

// responseFacts picks the members of a response that the page highlights.
func responseFacts(kind string, doc any) []Param {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	var names []string
	switch kind {
	case kindPush:
		names = []string{"request_uri", "expires_in", "error", "error_description"}
	case kindToken:
		names = []string{"token_type", "expires_in", "scope", "error", "error_description"}
	case kindDiscovery:
		names = []string{"issuer", "pushed_authorization_request_endpoint", "require_pushed_authorization_requests",
			"authorization_response_iss_parameter_supported", "code_challenge_methods_supported",
			"token_endpoint_auth_methods_supported", "id_token_signing_alg_values_supported",
			"dpop_signing_alg_values_supported"}
	case kindJWKS:
		keys, _ := m["keys"].([]any)
		var out []Param
		for _, k := range keys {
			km, _ := k.(map[string]any)
			out = append(out, Param{Name: "kid " + str(km["kid"]), Value: strings.TrimSpace(str(km["kty"]) + " " + str(km["alg"]) + " " + str(km["use"]))})
		}
		return out
	default:
		names = []string{"error", "error_description"}
	}
	var out []Param
	for _, n := range names {
		if x, ok := m[n]; ok {
			out = append(out, Param{Name: n, Value: str(x)})
		}
	}
	return out
}

// str formats a decoded JSON value compactly.
func str(x any) string {
	switch v := x.(type) {
	case nil:
		return ""
	case string:
		return v
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = str(x)
		}
		return strings.Join(parts, " ")
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}
