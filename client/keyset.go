package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
	"weak"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"

	"github.com/go-par/par/internal/httpx"
)

// ErrUnknownKeyID is returned when a token names a kid that the provider's JWKS does not
// hold, and the JWKS was refetched too recently to try again.
var ErrUnknownKeyID = errors.New("client: jwks: unknown key id")

// keySet is the provider's JWKS as an oidc.KeySet for go-oidc's verifier.
//
// It replaces oidc.RemoteKeySet for two reasons: go-jose's JSONWebKeySet
// refuses a whole set when one entry is odd (the MitID broker publishes an
// encryption key whose x5t is hex and whose alg is an XML-Enc URI), and
// RemoteKeySet refetches on every unknown kid or bad signature, so a flood
// of forged tokens makes us hammer the provider. Here entries are parsed one
// by one (unusable ones skipped), only signing keys are kept, and a refetch
// happens at most once per minRefetch.
type keySet struct {
	url        string
	hc         *http.Client
	now        func() time.Time
	minRefetch time.Duration

	group singleflight.Group

	mu        sync.RWMutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time
	lastErr   error
	fetches   int
}

// keySets shares one keySet per (JWKS URL, HTTP client) across the process,
// so that many Clients for one provider fetch its keys once. The client is
// held weakly: once the caller's *http.Client is garbage, its entries go
// too, so an app that makes a client per New does not grow this map.
var keySets sync.Map // keySetKey → *keySet

type keySetKey struct {
	url string
	hc  weak.Pointer[http.Client] // zero for the default client
}

func sharedKeySet(url string, userHC, hc *http.Client, now func() time.Time) *keySet {
	k := keySetKey{url: url}
	if userHC != nil {
		k.hc = weak.Make(userHC)
	}
	if ks, ok := keySets.Load(k); ok {
		return ks.(*keySet)
	}
	ks, loaded := keySets.LoadOrStore(k, &keySet{url: url, hc: hc, now: now, minRefetch: 30 * time.Second})
	if !loaded && userHC != nil {
		runtime.AddCleanup(userHC, func(k keySetKey) { keySets.Delete(k) }, k)
	}
	return ks.(*keySet)
}

// VerifySignature implements oidc.KeySet.
func (s *keySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{
		jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
		jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
	})
	if err != nil {
		return nil, fmt.Errorf("client: jwks: malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("client: jwks: jwt must have exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID

	s.mu.RLock()
	keys, fetchedAt, lastErr := s.keys, s.fetchedAt, s.lastErr
	s.mu.RUnlock()
	if payload, found, err := verifyWith(jws, keys, kid); found {
		return payload, err
	}
	// Unknown kid (or nothing cached yet): refetch, rate-limited.
	if !fetchedAt.IsZero() && s.now().Sub(fetchedAt) < s.minRefetch {
		if len(keys) == 0 && lastErr != nil {
			return nil, lastErr
		}
		return nil, ErrUnknownKeyID
	}
	keys, err = s.refresh(ctx, fetchedAt)
	if err != nil {
		return nil, err
	}
	if payload, found, err := verifyWith(jws, keys, kid); found {
		return payload, err
	}
	return nil, ErrUnknownKeyID
}

// keySetCall is the key set for one verification: it remembers the key
// set's error, which go-oidc's verifier does not wrap.
type keySetCall struct {
	ks  *keySet
	err error
}

// VerifySignature implements oidc.KeySet.
func (k *keySetCall) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	p, err := k.ks.VerifySignature(ctx, jwt)
	k.err = err
	return p, err
}

// verifyWith verifies jws with the key named kid (or, without kid, each key
// of a matching type). found reports whether a candidate key existed.
func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey, kid string) (payload []byte, found bool, err error) {
	var algErr error
	for i := range keys {
		k := &keys[i]
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != jws.Signatures[0].Header.Algorithm {
			// A kid may name several keys (one RSA key published for RS256
			// and for PS256, FAPI 2.0 "duplicate key identifiers"): try
			// the others before refusing.
			if kid != "" && algErr == nil {
				algErr = fmt.Errorf("client: jwks: key %q is for %s, token uses %s", kid, k.Algorithm, jws.Signatures[0].Header.Algorithm)
			}
			continue
		}
		found = true
		if p, err := jws.Verify(k); err == nil {
			return p, true, nil
		}
	}
	if found {
		return nil, true, errors.New("client: jwks: signature verification failed")
	}
	if algErr != nil {
		return nil, true, algErr
	}
	return nil, false, nil
}

// refresh fetches the JWKS once for all concurrent callers, unless another
// caller already refreshed after seen.
//
// The shared fetch outlives a caller whose ctx ends (it is bounded by the
// HTTP client's timeout, or httpx.DefaultTimeout when the client has none),
// but that caller stops waiting and gets ctx's error.
func (s *keySet) refresh(ctx context.Context, seen time.Time) ([]jose.JSONWebKey, error) {
	ch := s.group.DoChan("", func() (any, error) {
		s.mu.RLock()
		if s.fetchedAt.After(seen) {
			keys := s.keys
			s.mu.RUnlock()
			return keys, nil
		}
		s.mu.RUnlock()
		timeout := s.hc.Timeout
		if timeout <= 0 {
			timeout = httpx.DefaultTimeout
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		keys, err := fetchJWKS(fctx, s.hc, s.url)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.fetchedAt = s.now()
		s.fetches++
		s.lastErr = err
		if err != nil {
			return nil, err
		}
		s.keys = keys
		return keys, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.([]jose.JSONWebKey), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("client: jwks: waiting for the key set: %w", context.Cause(ctx))
	}
}

func fetchJWKS(ctx context.Context, hc *http.Client, url string) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("client: jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: jwks: %w", err)
	}
	body, err := httpx.ReadBody(resp)
	if err != nil {
		return nil, fmt.Errorf("client: jwks: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("client: jwks: unexpected HTTP status %d", resp.StatusCode)
	}
	return parseJWKS(body)
}

// parseJWKS reads the signing keys of a JWKS (RFC 7517 §5), entry by entry:
// entries go-jose cannot read, private keys and keys with use other than sig
// are skipped, so one odd entry does not hide the others.
func parseJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("%w: jwks: %w", ErrInvalidResponse, err)
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var hdr struct {
			Use string `json:"use"`
		}
		if json.Unmarshal(raw, &hdr) != nil || (hdr.Use != "" && hdr.Use != "sig") {
			continue
		}
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			// Tolerate odd certificate members: retry without x5c/x5t.
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) != nil {
				continue
			}
			for name := range m {
				if strings.HasPrefix(name, "x5") {
					delete(m, name)
				}
			}
			stripped, _ := json.Marshal(m)
			if k.UnmarshalJSON(stripped) != nil {
				continue
			}
		}
		if !k.Valid() || !k.IsPublic() {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: jwks: no usable signing key", ErrInvalidResponse)
	}
	return keys, nil
}
