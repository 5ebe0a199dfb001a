// Package jwks is the provider's key set for verifying its signatures (ID
// tokens, signed UserInfo responses): fetched from jwks_uri, parsed entry by
// entry (signing keys only), shared process-wide per (URL, HTTP client)
// while a client uses it, and refetched for a kid not seen before at most
// once per 5 s. See [KeySet].
package jwks

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

// ErrUnknownKeyID is returned when a token names a kid that the provider's
// JWKS does not hold, and the JWKS was refetched too recently to try again.
var ErrUnknownKeyID = errors.New("jwks: unknown key id")

// ErrInvalid is returned when the JWKS is malformed or holds no usable
// signing key; package client reports it as its ErrInvalidResponse.
var ErrInvalid = errors.New("jwks: invalid key set")

// Refetch limits of the key set (client-side protection of the provider
// against forged kids, OIDC Core §10.1.1 key rotation).
const (
	// refetchInterval: a token naming a kid not in the cached JWKS triggers
	// an immediate refetch, but at most one such refetch per interval for
	// the whole set (the first load does not count; a failed fetch does).
	// A flood of fresh random kids therefore costs the provider at most 12
	// fetches a minute, while a provider's rotation is picked up by the
	// first token signed with the new key.
	refetchInterval = 5 * time.Second
	// unknownKidWait: a kid that stayed unknown after a refetch causes no
	// further refetch for this long.
	unknownKidWait = 30 * time.Second
	// maxUnknownKids bounds the memory of kids that stayed unknown.
	maxUnknownKids = 1024
)

// KeySet is the provider's JWKS as an oidc.KeySet for go-oidc's verifier.
//
// It replaces oidc.RemoteKeySet because RemoteKeySet refetches the JWKS on
// every unknown kid or failed signature, so a flood of forged tokens makes
// the client hammer the provider; it also parses entry by entry (go-jose's
// JSONWebKeySet refuses a whole set for one odd entry, and the MitID broker
// has published an encryption key with a hex x5t and an XML-Enc alg) and
// keeps signing keys only. Refetch rules: see refetchInterval and
// unknownKidWait.
type KeySet struct {
	url string
	hc  *http.Client
	now func() time.Time

	group singleflight.Group

	mu        sync.RWMutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time // the last fetch, successful or not
	// lastRefetch is the last fetch made because a token named an unknown
	// kid while keys were cached (zero until one happens).
	lastRefetch time.Time
	lastErr     error
	fetches     int
	// unknown holds the kids that a refetch did not find, with the time of
	// that refetch.
	unknown map[string]time.Time
}

// keySets shares one KeySet per (JWKS URL, HTTP client) across the process,
// so that many Clients for one provider fetch its keys once. It holds the
// sets weakly: a set lives as long as a Client uses it, and its entry is
// removed when it is collected, so an app that makes clients for changing
// issuers (multi-tenant) does not grow this map.
var keySets sync.Map // keySetKey → weak.Pointer[KeySet]

type keySetKey struct {
	url string
	hc  weak.Pointer[http.Client] // the caller's client, for identity only; zero for the default client
}

// Shared returns the key set for url, shared with every caller that passes
// the same userHC (nil for the default client): a set lives as long as a
// caller holds it. hc fetches the keys (the caller's client without
// redirects); now is the clock of the first caller.
func Shared(url string, userHC, hc *http.Client, now func() time.Time) *KeySet {
	k := keySetKey{url: url}
	if userHC != nil {
		k.hc = weak.Make(userHC)
	}
	for {
		old, ok := keySets.Load(k)
		if ok {
			if ks := old.(weak.Pointer[KeySet]).Value(); ks != nil {
				return ks
			}
		}
		ks := &KeySet{url: url, hc: hc, now: now}
		wp := weak.Make(ks)
		var stored bool
		if ok {
			stored = keySets.CompareAndSwap(k, old, wp) // replace a collected set
		} else {
			_, loaded := keySets.LoadOrStore(k, wp)
			stored = !loaded
		}
		if stored {
			runtime.AddCleanup(ks, func(e keySetEntry) { keySets.CompareAndDelete(e.k, e.wp) }, keySetEntry{k, wp})
			return ks
		}
	}
}

type keySetEntry struct {
	k  keySetKey
	wp weak.Pointer[KeySet]
}

// signatureAlgorithms are the JWS algorithms a key set verifies; callers
// narrow them (package jwtverify's allow-list).
var signatureAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// VerifySignature implements oidc.KeySet. A token of the usual shape that
// verifies with a cached key takes verifyCompact (no go-jose parse: about
// 80 fewer allocations per ID token); everything else, failures included,
// takes go-jose's path.
func (s *KeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	s.mu.RLock()
	cached := s.keys
	s.mu.RUnlock()
	if payload, ok := verifyCompact(jwt, cached, signatureAlgorithms); ok {
		return payload, nil
	}
	jws, err := jose.ParseSignedCompact(jwt, signatureAlgorithms)
	if err != nil {
		return nil, fmt.Errorf("jwks: malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("jwks: jwt must have exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID

	s.mu.RLock()
	keys, fetchedAt, lastRefetch, lastErr, gen := s.keys, s.fetchedAt, s.lastRefetch, s.lastErr, s.fetches
	unknownSince, stillUnknown := s.unknown[kid]
	s.mu.RUnlock()
	if payload, found, err := verifyWith(jws, keys, kid); found {
		return payload, err
	}
	// Unknown kid (or nothing cached yet): refetch, rate-limited.
	if !fetchedAt.IsZero() {
		now := s.now()
		if stillUnknown && now.Sub(unknownSince) < unknownKidWait ||
			now.Sub(lastRefetch) < refetchInterval ||
			lastErr != nil && now.Sub(fetchedAt) < refetchInterval {
			if len(keys) == 0 && lastErr != nil {
				return nil, lastErr
			}
			return nil, ErrUnknownKeyID
		}
	}
	keys, err = s.refresh(ctx, gen)
	if err != nil {
		return nil, err
	}
	if payload, found, err := verifyWith(jws, keys, kid); found {
		return payload, err
	}
	s.rememberUnknown(kid)
	return nil, ErrUnknownKeyID
}

// rememberUnknown records that kid stayed unknown after a refetch.
func (s *KeySet) rememberUnknown(kid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.unknown == nil {
		s.unknown = make(map[string]time.Time)
	}
	if len(s.unknown) >= maxUnknownKids {
		for k, t := range s.unknown {
			if now.Sub(t) >= unknownKidWait {
				delete(s.unknown, k)
			}
		}
		if len(s.unknown) >= maxUnknownKids {
			return // refetchInterval still bounds the refetches
		}
	}
	s.unknown[kid] = now
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
				algErr = fmt.Errorf("jwks: key %q is for %s, token uses %s", kid, k.Algorithm, jws.Signatures[0].Header.Algorithm)
			}
			continue
		}
		found = true
		if p, err := jws.Verify(k); err == nil {
			return p, true, nil
		}
	}
	if found {
		return nil, true, errors.New("jwks: signature verification failed")
	}
	if algErr != nil {
		return nil, true, algErr
	}
	return nil, false, nil
}

// refresh fetches the JWKS once for all concurrent callers, unless another
// caller already fetched since the caller saw fetch number seen (a count,
// not a time: a frozen or coarse clock must not make two callers fetch).
//
// The shared fetch outlives a caller whose ctx ends (it is bounded by the
// HTTP client's timeout, or httpx.DefaultTimeout when the client has none),
// but that caller stops waiting and gets ctx's error.
func (s *KeySet) refresh(ctx context.Context, seen int) ([]jose.JSONWebKey, error) {
	ch := s.group.DoChan("", func() (any, error) {
		s.mu.RLock()
		if s.fetches > seen {
			keys, err := s.keys, s.lastErr
			s.mu.RUnlock()
			if len(keys) == 0 && err != nil {
				return nil, err
			}
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
		if seen > 0 { // the first load does not count against refetchInterval
			s.lastRefetch = s.fetchedAt
		}
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
		return nil, fmt.Errorf("jwks: waiting for the key set: %w", context.Cause(ctx))
	}
}

func fetchJWKS(ctx context.Context, hc *http.Client, url string) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	body, err := httpx.ReadBody(resp)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: unexpected HTTP status %d", resp.StatusCode)
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
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
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
		return nil, fmt.Errorf("%w: no usable signing key", ErrInvalid)
	}
	return keys, nil
}
