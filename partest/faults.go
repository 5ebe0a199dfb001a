package partest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
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
	// RFC 9207) or the iss claim of a JWT-secured response (JARM §2.1); at
	// the token endpoint, the ID token's iss.
	Issuer string
	// OmitIss leaves the iss response parameter out of authorization
	// responses even when it is advertised, and the iss claim out of
	// JWT-secured ones.
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
	// NoKeyID signs with the server's key but leaves kid out of the JWS
	// header: of the ID token at the token endpoint, of signed responses
	// at the userinfo endpoint (OIDC Core §10.1 lets a provider omit it;
	// the client must find the key without it).
	NoKeyID bool
	// CorruptIDTokenSignature, at the token endpoint, flips bits of the ID
	// token's signature after signing (XOR 0x5A on every byte, as the
	// OpenID conformance suite does): a forgery of the right shape.
	CorruptIDTokenSignature bool
	// RotateKeys, at the token endpoint, rotates the signing keys (as
	// [Server.RotateKeys]) just before the ID token is signed: the token
	// names a kid the client has not seen.
	RotateKeys bool

	// AuthorizationResponse, at the authorization endpoint, may change the
	// authorization response parameters (code, state, iss, error, ...)
	// before they are sent: a wrong or missing state, say. In a JWT
	// response mode they are the parameters inside the JWT.
	AuthorizationResponse func(params url.Values)

	// The JARM faults apply at the authorization endpoint to responses in
	// a JWT response mode (JARM §2), each a response a client must refuse
	// (JARM §2.4) before it redeems the code. Wrong iss: Issuer; no iss:
	// OmitIss.

	// JARMClaims may change the response JWT's claims (the response
	// parameters, iss, aud, exp) before it is signed: aud of another
	// client, exp deleted, in the past or hours ahead.
	JARMClaims func(claims map[string]any)
	// JARMAlg signs the response JWT with this algorithm instead: "none"
	// gives an unsigned JWT; HS256/384/512 use the client's secret as the
	// key (a forgery: the provider signs asymmetrically); others use a
	// server key of that algorithm, published in the JWKS.
	JARMAlg jose.SignatureAlgorithm
	// JARMKey, with JARMAlg, signs the response JWT with this key instead
	// (a crypto.Signer, []byte or jose.JSONWebKey): a key not in the JWKS.
	JARMKey any
	// ReplayJARM sends the response JWT the server sent this client last
	// time instead of a fresh one: a genuine, unexpired response of
	// another flow, with that flow's code and state. The fault's other
	// JARM fields do not apply to it.
	ReplayJARM bool
	// JARMWithPlainParams sends the parameters in the clear next to the
	// response parameter (code, state and iss, or error, ...), as if an
	// attacker had added them to the redirect.
	JARMWithPlainParams bool

	// JWKSWithoutKeyIDs, at the JWKS endpoint, publishes the keys without
	// kid.
	JWKSWithoutKeyIDs bool
	// JWKSKeysPerType, at the JWKS endpoint, publishes this many signing
	// keys of each of RSA, EC P-256, EC secp256k1 and OKP (Ed25519),
	// counting the server's own keys: unused keys that a client picking a
	// key without kid must step over, as in the OpenID conformance suite's
	// kid-absent modules. Clients may not know secp256k1.
	JWKSKeysPerType int

	// ChallengeScheme spells the auth-scheme of the endpoint's
	// WWW-Authenticate challenges this way, such as "dPoP" for DPoP
	// (auth-schemes are case-insensitive, RFC 9110 §11.1).
	ChallengeScheme string
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
	case !f.TruncateBody && !f.OversizeBody && f.Response == nil && f.ChallengeScheme == "" && !f.shapesJWKS():
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
	if f.shapesJWKS() && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		b, err := shapeJWKS(body, f)
		if err != nil {
			http.Error(w, "partest: could not build the key set", http.StatusInternalServerError)
			return
		}
		body = b
	}
	if f.TruncateBody {
		body = body[:len(body)/2]
	}
	if f.OversizeBody {
		body = append(bytes.Clone(body), bytes.Repeat([]byte(" "), 1<<20+1)...)
	}
	if f.ChallengeScheme != "" {
		respell(rec.Header(), f.ChallengeScheme)
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}

// respell writes the auth-scheme of every WWW-Authenticate challenge in h
// as scheme.
func respell(h http.Header, scheme string) {
	vals := h.Values("WWW-Authenticate")
	for i, v := range vals {
		if _, rest, ok := strings.Cut(v, " "); ok {
			vals[i] = scheme + " " + rest
		} else {
			vals[i] = scheme
		}
	}
}

// corruptSignature flips the bits of a compact JWS's signature.
func corruptSignature(jws string) string {
	i := strings.LastIndexByte(jws, '.')
	if i < 0 {
		return jws
	}
	sig, err := base64.RawURLEncoding.DecodeString(jws[i+1:])
	if err != nil || len(sig) == 0 {
		return jws + "AA"
	}
	for j := range sig {
		sig[j] ^= 0x5A
	}
	return jws[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// decoys holds unused public signing keys for JWKSKeysPerType, made once
// per test binary (RSA keys are slow to generate).
var decoys struct {
	mu  sync.Mutex
	rsa []jose.JSONWebKey
	ec  []jose.JSONWebKey
	okp []jose.JSONWebKey
	k1  []map[string]any // secp256k1, which go-jose cannot represent
}

// decoyKeys returns n unused keys of each type beyond have (the number of
// the server's own keys of that type).
func decoyKeys(have map[string]int, n int) ([]jose.JSONWebKey, []map[string]any, error) {
	decoys.mu.Lock()
	defer decoys.mu.Unlock()
	grow := func(list *[]jose.JSONWebKey, want int, gen func() (crypto.Signer, error)) error {
		for len(*list) < want {
			k, err := gen()
			if err != nil {
				return err
			}
			*list = append(*list, jose.JSONWebKey{Key: k.Public(), Use: "sig"})
		}
		return nil
	}
	need := func(kty string) int { return max(n-have[kty], 0) }
	if err := grow(&decoys.rsa, need("RSA"), func() (crypto.Signer, error) { return rsa.GenerateKey(rand.Reader, 2048) }); err != nil {
		return nil, nil, err
	}
	if err := grow(&decoys.ec, need("EC"), func() (crypto.Signer, error) { return ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }); err != nil {
		return nil, nil, err
	}
	if err := grow(&decoys.okp, need("OKP"), func() (crypto.Signer, error) {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}); err != nil {
		return nil, nil, err
	}
	for len(decoys.k1) < n {
		// Random coordinates: a client that cannot use secp256k1 only has
		// to skip the entry.
		x, y := make([]byte, 32), make([]byte, 32)
		_, _ = rand.Read(x)
		_, _ = rand.Read(y)
		decoys.k1 = append(decoys.k1, map[string]any{"kty": "EC", "crv": "secp256k1", "use": "sig",
			"x": base64.RawURLEncoding.EncodeToString(x), "y": base64.RawURLEncoding.EncodeToString(y)})
	}
	var keys []jose.JSONWebKey
	keys = append(keys, decoys.rsa[:need("RSA")]...)
	keys = append(keys, decoys.ec[:need("EC")]...)
	keys = append(keys, decoys.okp[:need("OKP")]...)
	k1 := make([]map[string]any, n)
	for i := range k1 {
		k1[i] = maps.Clone(decoys.k1[i]) // callers may edit them
	}
	return keys, k1, nil
}

func (f *Fault) shapesJWKS() bool { return f.JWKSWithoutKeyIDs || f.JWKSKeysPerType > 0 }

// shapeJWKS applies JWKSKeysPerType and JWKSWithoutKeyIDs to a JWKS
// document.
func shapeJWKS(body []byte, f *Fault) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	keys, _ := doc["keys"].([]any)
	if n := f.JWKSKeysPerType; n > 0 {
		have := map[string]int{}
		for _, k := range keys {
			m, _ := k.(map[string]any)
			if use, _ := m["use"].(string); use != "" && use != "sig" {
				continue
			}
			switch kty, _ := m["kty"].(string); {
			case kty == "EC" && m["crv"] == "P-256", kty == "RSA", kty == "OKP":
				have[kty]++
			}
		}
		decoy, k1, err := decoyKeys(have, n)
		if err != nil {
			return nil, err
		}
		for _, k := range decoy {
			b, err := k.MarshalJSON()
			if err != nil {
				return nil, err
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, err
			}
			keys = append(keys, m)
		}
		for _, m := range k1 {
			keys = append(keys, m)
		}
	}
	if f.JWKSWithoutKeyIDs {
		for _, k := range keys {
			if m, ok := k.(map[string]any); ok {
				delete(m, "kid")
			}
		}
	}
	doc["keys"] = keys
	return json.Marshal(doc)
}
